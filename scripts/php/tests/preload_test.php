<?php

declare(strict_types=1);

/*
 * Run under opcache.preload=scripts/php/preload.php with ffi.enable=preload, as PHP-FPM would be:
 * the engine must find the library in the preloaded FFI scope and work.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Library;

T::eq('preload', ini_get('ffi.enable'), 'ffi.enable=preload');
T::ok(FFI::scope(Library::SCOPE) instanceof FFI, 'the COHORT scope was preloaded');
$c = Engine::create(fixture());
T::eq('scope', Library::source(), 'the engine uses the preloaded scope');
$c->upsertAccount('1042', 'Acme Ltd', 'owner@acme.example');
T::eq(true, $c->check('1042', 'owner@acme.example', 'invoices'), 'calls work');
T::eq(1, count($c->members('1042')), 'JSON calls work');

// A PHP closure as the library's logger, from the preloaded scope.
$config = fixture("[hooks]\ndir = \"hooks\"\n");
mkdir(dirname($config) . '/hooks');
copy(dirname(__DIR__, 3) . '/hooks/60-activity-log.lua', dirname($config) . '/hooks/60-activity-log.lua');
$h = Engine::create($config);
$lines = [];
$h->setLogger(function (string $level, string $message, array $context) use (&$lines): void {
    $lines[] = "$level {$context['event']} $message";
});
$h->upsertAccount('1042', 'Acme Ltd', 'owner@acme.example');
$h->invite('owner@acme.example', '1042', 'dev@acme.example', 'all');
T::eq(
    ['info after_invite invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all'],
    $lines,
    'the logger callback works under ffi.enable=preload'
);

T::done();
