<?php

declare(strict_types=1);

/*
 * Cohort from PHP on a server database. Always: a server nobody listens on gives
 * UnavailableException naming host and port, and a URL with a password and a password variable
 * both is a configuration error. With COHORT_TEST_MYSQL / COHORT_TEST_POSTGRES set (by
 * scripts/test.d/55-servers.sh): the whole invite flow on each server, through Engine::create,
 * Engine::open and Engine::shared, with the password read from the environment.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception;

foreach (['mysql://cohort@127.0.0.1:1/cohort', 'postgres://cohort@127.0.0.1:1/cohort'] as $url) {
    $cfg = fixture("database = \"$url\"\n");
    $e = T::throws(Exception\UnavailableException::class, fn () => Engine::open($cfg), "$url unreachable");
    T::ok($e !== null && str_contains($e->getMessage(), '127.0.0.1:1'), "the message names host and port: " . ($e ? $e->getMessage() : ''));
    T::ok($e instanceof Exception\StorageException, 'UnavailableException is a StorageException');
}
$cfg = fixture("database = \"mysql://cohort:pw@127.0.0.1:1/cohort\"\ndatabase_password_env = \"X\"\n");
T::throws(Exception\ConfigException::class, fn () => Engine::open($cfg), 'password in the URL and in the environment');

foreach (['COHORT_TEST_MYSQL', 'COHORT_TEST_POSTGRES'] as $var) {
    $base = getenv($var);
    if ($base === false || $base === '') {
        continue;
    }
    $url = $base . '/php_' . bin2hex(random_bytes(4));
    putenv('COHORT_PHP_DB_PASSWORD=');
    $cfg = fixture("database = \"$url\"\ndatabase_password_env = \"COHORT_PHP_DB_PASSWORD\"\n");
    T::throws(Exception\StorageException::class, fn () => Engine::open($cfg), "$var: open before the database exists");
    $c = Engine::create($cfg);
    $c->upsertAccount('1042', 'Acme Ltd', 'owner@acme.example');
    $sent = $c->invite('owner@acme.example', '1042', 'dev@acme.example', ['invoices']);
    $c->close();
    // Another request of the worker: the shared engine, then a plain one, see the same rows.
    $s = Engine::shared($cfg);
    $s->acceptRegister($sent['link'], 'dev@acme.example', 'Dev');
    $o = Engine::open($cfg);
    T::ok($o->check('1042', 'dev@acme.example', 'invoices'), "$var: the new member holds invoices");
    T::ok(!$o->check('1042', 'dev@acme.example', 'domains'), "$var: and not domains");
    // Asked once before the revoke: on a server nothing may be kept (generation 0).
    T::ok($s->check('1042', 'dev@acme.example', 'invoices'), "$var: the shared engine sees the member");
    $o->revoke('owner@acme.example', '1042', 'dev@acme.example');
    T::ok(!$s->check('1042', 'dev@acme.example', 'invoices'), "$var: the shared engine sees the revoke at once");
    T::eq(1, count($s->members('1042')), "$var: only the owner is left");
    T::throws(Exception\InvalidTokenException::class, fn () => $o->acceptRegister($sent['link'], 'dev@acme.example', 'Dev'), "$var: the link is used up");
    $o->close();
    $s->close();
}

T::done();
