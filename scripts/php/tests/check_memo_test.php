<?php

declare(strict_types=1);

/*
 * Engine::check() keeps its answers in the object and serves them again only while the library's
 * permission generation stays put: never stale after a commit by this engine, by another engine
 * of this process, or by another process; failures are never kept; a closed engine answers
 * nothing, kept or not.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception;

$config = fixture();
$a = Engine::create($config);
$a->upsertAccount('1042', 'Acme Ltd', 'owner@acme.example');
$sent = $a->invite('owner@acme.example', '1042', 'books@acme.example', ['invoices']);
$a->acceptRegister($sent['link'], 'books@acme.example', 'Books');

$ask = static fn (Engine $e): array => [
    $e->check('1042', 'owner@acme.example', 'domains'),
    $e->check('1042', 'books@acme.example', 'invoices'),
    $e->check('1042', 'books@acme.example', 'domains'),
    $e->check('1042', 'Books@Acme.example ', 'invoices'),
    $e->check('1042', 'stranger@acme.example', 'invoices'),
];
T::eq([true, true, false, true, false], $ask($a), 'first answers');
T::eq([true, true, false, true, false], $ask($a), 'the same answers again');

// Another process changes the member's permissions: the next check sees it.
$script = '
    require getenv("COHORT_AUTOLOAD");
    $e = Cohort\Engine::open(getenv("COHORT_CONFIG"));
    $e->setPermissions("owner@acme.example", "1042", "books@acme.example", ["domains"]);
    echo "changed";
';
$run = static function (string $script) use ($config): string {
    $p = proc_open([PHP_BINARY, '-r', $script], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null,
        getenv() + ['COHORT_AUTOLOAD' => dirname(__DIR__) . '/autoload.php', 'COHORT_CONFIG' => $config]);
    $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
    proc_close($p);
    return $out;
};
T::eq('changed', $run($script), 'the other process changed the permissions');
T::eq([true, false, true, false, false], $ask($a), 'answers after another process\'s commit');

// Another engine of this process (its own connection) removes access.
$b = Engine::open($config);
T::eq([true, false, true, false, false], $ask($b), 'the second engine agrees');
$b->revoke('owner@acme.example', '1042', 'books@acme.example');
T::eq([true, false, false, false, false], $ask($a), 'answers after another connection\'s commit');

// This engine's own commit.
$again = $a->invite('owner@acme.example', '1042', 'books@acme.example', 'all');
$b->accept($again['link'], 'books@acme.example');
T::eq([true, true, true, true, false], $ask($a), 'answers after the member came back with all permissions');
$a->setPermissions('owner@acme.example', '1042', 'books@acme.example', ['tickets']);
T::eq([true, false, false, false, false], $ask($a), 'answers after this engine\'s own commit');
T::ok($b->check('1042', 'books@acme.example', 'tickets'), 'and the other engine sees it too');

// Failures are never kept: the same bad question fails every time.
for ($i = 0; $i < 2; $i++) {
    $e = T::throws(Exception\InvalidInputException::class, fn () => $a->check('1042', 'owner@acme.example', 'billing'), "unknown key, call $i");
    T::eq(Cohort\Status::UNKNOWN_PERMISSION, $e?->getStatus(), "unknown key's status, call $i");
    T::throws(Exception\InvalidInputException::class, fn () => $a->check("10\0" . '42', 'owner@acme.example', 'invoices'), "NUL in the account, call $i");
}
// Keys of the memo cannot collide: "1042" and " 1042" are different accounts.
T::eq(false, $a->check(' 1042', 'owner@acme.example', 'domains'), 'a different account id is asked for');

// More answers than the memo keeps: it starts afresh and stays right.
for ($i = 0; $i < 5000; $i++) {
    if ($a->check('1042', "nobody$i@acme.example", 'invoices')) {
        T::ok(false, "nobody$i holds invoices");
        break;
    }
}
T::eq([true, false, false, false, false], $ask($a), 'answers after the memo filled up');

// A closed engine answers nothing, even what it had kept.
$a->close();
T::throws(Exception\ClosedException::class, fn () => $a->check('1042', 'owner@acme.example', 'domains'), 'closed: a kept answer is not served');
$b->close();

T::done();
