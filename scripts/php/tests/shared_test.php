<?php

declare(strict_types=1);

/*
 * Engine::shared(): one engine per config and worker, reused across "requests" (objects that
 * come and go), and opened afresh when the config or a key changes.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;

$config = fixture();
Engine::create($config)->close();

$fds = static fn (): int => count(scandir('/proc/self/fd')) - 2;

// Fifty live objects of one shared engine hold no more descriptors than one.
$first = Engine::shared($config);
$first->upsertAccount('1042', 'Acme Ltd', 'owner@acme.example');
$base = $fds();
$live = [];
for ($i = 0; $i < 50; $i++) {
    $live[] = Engine::shared($config);
}
T::eq($base, $fds(), 'fifty shared handles open no database');
T::eq(true, $live[49]->check('1042', 'owner@acme.example', 'invoices'), 'a shared handle answers');
// The same number of open() calls opens fifty databases.
$opened = [];
for ($i = 0; $i < 50; $i++) {
    $opened[] = Engine::open($config);
}
T::ok($fds() >= $base + 50, 'open() opens a database each time (' . ($fds() - $base) . ' descriptors more)');
// (SQLite keeps a closed connection's descriptors while another connection of the process holds
// locks on the same file, to reuse them; so the count is compared before and after each step.)
foreach ($opened as $o) {
    $o->close();
}
$opened = [];

// A request ends: every object goes; the next request finds the engine still open.
foreach ($live as $l) {
    $l->close();
}
$first->close();
$live = [];
$first = null;
$before = $fds();
$again = Engine::shared($config);
T::eq($before, $fds(), 'the shared engine survived its objects: nothing was opened');
T::eq('Acme Ltd', $again->account('1042')['name'], 'and answers');

// Editing the config opens a fresh engine on the next shared().
file_put_contents($config, file_get_contents($config) . "\n# edited\n");
$fresh = Engine::shared($config);
T::eq('Acme Ltd', $fresh->account('1042')['name'], 'a fresh engine after the config changed');
$again->close();
T::throws(Cohort\Exception\ClosedException::class, fn () => $again->check('1042', 'owner@acme.example', 'invoices'), 'a closed handle stays closed');
T::eq(true, $fresh->check('1042', 'owner@acme.example', 'invoices'), 'other handles are unaffected');

T::done();
