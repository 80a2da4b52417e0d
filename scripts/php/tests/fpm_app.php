<?php

declare(strict_types=1);

/*
 * The page that scripts/test.d/35-php-fpm.sh serves through PHP-FPM, one request per invitee:
 *
 *     GET fpm_app.php?email=someone@load.example
 *
 * invites the email to account 1042 (owner owner@acme.example) with two chosen permissions,
 * inspects the link, accepts it by registering, then checks a permission it holds and one it
 * does not. Answers "ok <invite id> <email> pid=<worker pid> engine=<new|kept>" with status 200,
 * or "error <class> <status>: <message>" with status 500.
 *
 * The engine is kept in a function-level static to show what PHP-FPM does with it: nothing
 * survives a request, so "engine=kept" never appears (docs/php.md, "One engine per request").
 * The config path comes from the pool's env[COHORT_CONFIG].
 */

// The classes come from opcache.preload; the autoloader is the fallback if they did not.
require_once __DIR__ . '/../autoload.php';

use Cohort\Engine;
use Cohort\Exception\CohortException;

header('Content-Type: text/plain');

function cohort(?bool &$fresh = null): Engine
{
    static $engine = null;
    $fresh = $engine === null;
    return $engine ??= Engine::open((string) getenv('COHORT_CONFIG'));
}

const ACCOUNT = '1042';
const OWNER = 'owner@acme.example';

try {
    $email = (string) ($_GET['email'] ?? '');
    if (preg_match('/^[a-z0-9.-]+@[a-z0-9.-]+$/', $email) !== 1) {
        throw new InvalidArgumentException('missing or unexpected ?email=');
    }
    $c = cohort($fresh);
    $sent = $c->invite(OWNER, ACCOUNT, $email, ['invoices', 'tickets']);
    $id = $sent['invite']['id'];
    $seen = $c->inspect($sent['link']);
    if ($seen['valid'] !== true || $seen['has_login'] !== false || $seen['email'] !== $email) {
        throw new RuntimeException('inspect: ' . json_encode($seen));
    }
    $member = $c->acceptRegister($sent['link'], $email, 'Load ' . $id);
    if ($member['email'] !== $email || $member['role'] !== 'member') {
        throw new RuntimeException('acceptRegister: ' . json_encode($member));
    }
    if ($c->check(ACCOUNT, $email, 'invoices') !== true) {
        throw new RuntimeException('check: the new member lacks invoices');
    }
    if ($c->check(ACCOUNT, $email, 'domains') !== false) {
        throw new RuntimeException('check: the new member holds domains');
    }
    printf("ok %d %s pid=%d engine=%s\n", $id, $email, getmypid(), $fresh ? 'new' : 'kept');
} catch (Throwable $e) {
    http_response_code(500);
    $status = $e instanceof CohortException ? $e->getStatusName() : '-';
    printf("error %s %s: %s\n", get_class($e), $status, str_replace("\n", ' ', $e->getMessage()));
}
