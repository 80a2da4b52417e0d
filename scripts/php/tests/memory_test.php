<?php

declare(strict_types=1);

/*
 * 100,000 calls through Cohort\Engine with flat memory: after a warm-up, neither PHP's heap
 * (memory_get_usage) nor the process's resident set (VmRSS, which also sees the library's own
 * allocations) may grow. Every returned string is copied then freed, so a leak of even one small
 * string per JSON call (~20,000 of them) would add megabytes.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception\NotFoundException;

const CALLS = 100_000;
const WARMUP = 10_000;

$c = Engine::create(fixture());
$owner = 'owner@acme.example';
$c->upsertAccount('1042', 'Acme Ltd', $owner);
$inv = $c->invite($owner, '1042', 'bo@acme.example', ['invoices', 'tickets']);
$c->acceptRegister($inv['token'], 'bo@acme.example', 'Bo');
$pending = $c->invite($owner, '1042', 'cy@acme.example', 'all');

$calls = 0;
$mix = static function (int $i) use ($c, $owner, $pending, &$calls): void {
    // Mostly the hot path (check), with JSON results and failures mixed in.
    switch ($i % 10) {
        case 0:
            $c->members('1042');
            break;
        case 1:
            $c->inspect($pending['token']);
            break;
        case 2:
            try {
                $c->members('missing');
            } catch (NotFoundException) {
            }
            break;
        case 3:
            $c->check('1042', 'bo@acme.example', 'domains');
            break;
        default:
            $c->check('1042', 'bo@acme.example', 'invoices');
    }
    $calls++;
};

for ($i = 0; $i < WARMUP; $i++) {
    $mix($i);
}
gc_collect_cycles();
$heapBefore = memory_get_usage();
$rssBefore = rss_kib();
for ($i = 0; $i < CALLS; $i++) {
    $mix($i);
}
gc_collect_cycles();
$heapGrowth = memory_get_usage() - $heapBefore;
$rssGrowth = rss_kib() - $rssBefore;
printf("%d calls: PHP heap %+d bytes, RSS %+d KiB (from %d KiB)\n", $calls - WARMUP, $heapGrowth, $rssGrowth, $rssBefore);

T::eq(CALLS, $calls - WARMUP, 'calls made');
T::ok($rssBefore > 0, 'RSS readable');
T::ok($heapGrowth <= 16 * 1024, "memory_get_usage grew by $heapGrowth bytes (limit 16 KiB)");
T::ok($rssGrowth <= 1024, "RSS grew by $rssGrowth KiB (limit 1 MiB)");
T::eq(true, $c->check('1042', $owner, 'orders'), 'still answering');

T::done();
