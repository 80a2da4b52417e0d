<?php

declare(strict_types=1);

/*
 * The PHP twin of tests/c/stress_engine.c for the multi-process stress test
 * (tests/multiproc/stress.py --php-engine): one process, one Cohort\Engine open for its whole
 * life, asking Engine::check() in a loop (so that its answers kept in PHP, validated by the
 * library's permission generation, face commits by other processes) and upserting logins now
 * and then. Same arguments, same stale-answer protocol, same output lines as the C engine:
 *
 *   php stress_engine.php CONFIG ROUND_FILE GO_FILE STOP_FILE KEYS [WRITE_EVERY [PAUSE_US [MAX_SECONDS]]]
 *
 * Set COHORT_LIBRARY to the library to load. Exit status: 0 done, 1 the engine did not open,
 * 2 usage, 3 MAX_SECONDS elapsed.
 */

require dirname(__DIR__, 2) . '/scripts/php/autoload.php';

use Cohort\Engine;
use Cohort\Exception\CohortException;

if ($argc < 6 || $argc > 9) {
    fwrite(STDERR, "usage: php stress_engine.php CONFIG ROUND_FILE GO_FILE STOP_FILE KEYS [WRITE_EVERY [PAUSE_US [MAX_SECONDS]]]\n");
    exit(2);
}
[, $config, $roundFile, $goFile, $stopFile, $keyList] = $argv;
$writeEvery = (int) ($argv[6] ?? 64);
$pause = (int) ($argv[7] ?? 100);
$maxSeconds = (float) ($argv[8] ?? 300);
$keys = explode(',', $keyList);
if (count($keys) < 3) {
    fwrite(STDERR, "need at least 3 keys\n");
    exit(2);
}
$keyOf = static fn (int $round): string => $keys[(($round % count($keys)) + count($keys)) % count($keys)];
$now = static fn (): float => hrtime(true) / 1e9;
/** [started, done] of the permission writer's side file, or null. */
$readRound = static function () use ($roundFile): ?array {
    $text = @file_get_contents($roundFile);
    if ($text === false || !preg_match('/^\s*(-?\d+)\s+(-?\d+)/', $text, $m)) {
        return null;
    }
    return [(int) $m[1], (int) $m[2]];
};

$start = $now();
$parent = posix_getppid();
try {
    $e = Engine::open($config);
} catch (CohortException $x) {
    echo 'error open: ' . $x->getStatusName() . ' (' . $x->getStatus() . '): ' . $x->getMessage() . "\n";
    exit(1);
}
echo 'ready ' . getmypid() . "\n";
while (!file_exists($goFile)) {
    if ($now() - $start > $maxSeconds || posix_getppid() !== $parent) {
        exit(3);
    }
    usleep(1000);
}

$checks = $verified = $stale = $writes = $writeErrors = $checkErrors = $iterations = 0;
$status = 0;
$check = static function (string $key) use ($e, &$checkErrors): int {
    try {
        return $e->check('1042', 'member@acme.example', $key) ? 1 : 0;
    } catch (CohortException $x) {
        if ($checkErrors < 5) {
            echo 'error check: ' . $x->getStatusName() . ' (' . $x->getStatus() . '): ' . $x->getMessage() . "\n";
        }
        $checkErrors++;
        return -1;
    }
};
while (!file_exists($stopFile)) {
    if (($iterations & 255) === 0 && ($now() - $start > $maxSeconds || posix_getppid() !== $parent)) {
        $status = 3;
        break;
    }
    $iterations++;
    $r1 = $readRound();
    if ($r1 === null) {
        continue;
    }
    $d1 = $r1[1];
    // Rotate the order so that every key is sometimes the first one after a commit.
    $probe = [$d1 + 1, $d1, $d1 - 1];
    $answer = [0, 0, 0];
    $first = $iterations % 3;
    for ($j = 0; $j < 3; $j++) {
        $p = ($first + $j) % 3;
        $answer[$p] = $check($keyOf($probe[$p]));
        $checks++;
    }
    $r2 = $readRound();
    if ($r2 !== null && $r2[0] === $d1 && min($answer) >= 0) {
        $verified++;
        if ($answer !== [0, 1, 0]) {
            if ($stale++ < 20) {
                printf("stale round=%d expected %s=1 %s=0 %s=0, got %d %d %d\n", $d1, $keyOf($d1), $keyOf($d1 + 1), $keyOf($d1 - 1), $answer[1], $answer[0], $answer[2]);
            }
        }
    }
    if ($writeEvery > 0 && $iterations % $writeEvery === 0) {
        $email = sprintf('php%d-%d@stress.example', getmypid(), intdiv($iterations, $writeEvery));
        try {
            $e->upsertUser($email);
            $writes++;
            echo "ack $email\n";
        } catch (CohortException $x) {
            if ($writeErrors < 5) {
                echo 'error upsert: ' . $x->getStatusName() . ' (' . $x->getStatus() . '): ' . $x->getMessage() . "\n";
            }
            $writeErrors++;
        }
    }
    if (($iterations & 1023) === 0) {
        echo "progress checks=$checks verified=$verified stale=$stale writes=$writes write_errors=$writeErrors check_errors=$checkErrors iterations=$iterations\n";
    }
    if ($pause > 0) {
        usleep($pause);
    }
}
$e->close();
echo "result checks=$checks verified=$verified stale=$stale writes=$writes write_errors=$writeErrors check_errors=$checkErrors iterations=$iterations\n";
exit($status);
