<?php

declare(strict_types=1);

/*
 * The records of hooks reach PHP: Engine::setLogger() with a callable or a PSR-3 shaped object
 * gets the lines of the shipped 60-activity-log.lua with script, line and event in the context;
 * the level filters; a logger that throws does not break the operation; null removes it; the
 * closure stays alive while set; the config's [log] file gets the same lines.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception\InvalidInputException;

$root = dirname(__DIR__, 3);
$config = fixture("[hooks]\ndir = \"hooks\"\n\n[log]\nfile = \"hooks.log\"\n");
$dir = dirname($config);
mkdir("$dir/hooks");
copy("$root/hooks/60-activity-log.lua", "$dir/hooks/60-activity-log.lua");
file_put_contents(
    "$dir/hooks/70-detail.lua",
    "cohort.on('after_invite', function(ev)\n  cohort.log('debug', 'detail for ' .. ev.email)\nend)\n"
);
$owner = 'owner@acme.example';
$c = Engine::create($config);
$c->upsertAccount('1042', 'Acme Ltd', $owner);

// A callable receives every record (debug included by default).
$got = [];
$c->setLogger(function (string $level, string $message, array $context) use (&$got): void {
    $got[] = [$level, $message, $context];
});
$c->invite($owner, '1042', 'dev@acme.example', 'all');
T::eq(2, count($got), 'two records: the activity line and the debug detail');
[$level, $message, $context] = $got[0];
T::eq('info', $level, 'PSR-3 level name');
T::eq('invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all', $message, 'the activity line');
T::eq('60-activity-log.lua', $context['script'], 'script in the context');
T::ok(is_int($context['line']) && $context['line'] > 0, 'line in the context');
T::eq('after_invite', $context['event'], 'event in the context');
T::ok(abs($context['time'] - microtime(true)) < 60, 'time in Unix seconds');
T::eq(['debug', 'detail for dev@acme.example'], [$got[1][0], $got[1][1]], 'the debug record');
T::eq(2, $got[1][2]['line'], 'its line');

// A PSR-3 shaped object (psr/log not needed), with a threshold.
$psr = new class {
    public array $records = [];

    public function log($level, string|\Stringable $message, array $context = []): void
    {
        $this->records[] = [$level, (string) $message, $context];
    }
};
$c->setLogger($psr, 'info');
$c->recordLogin($owner);
T::eq(1, count($psr->records), 'only info and above');
T::eq('info', $psr->records[0][0], 'level');
T::ok(str_starts_with($psr->records[0][1], 'login account=- actor=owner@acme.example'), 'the login line');
T::eq('after_login', $psr->records[0][2]['event'], 'event');
T::eq(2, count($got), 'the replaced logger is not called');

// The closure lives as long as it is set, even when the caller keeps nothing.
$count = 0;
$c->setLogger(function () use (&$count): void {
    $count++;
}, 'info');
gc_collect_cycles();
$c->recordLogin($owner);
T::eq(1, $count, 'a closure held by the engine only still runs');

// A logger that throws: reported with error_log, the operation goes on.
$c->setLogger(static function (): void {
    throw new RuntimeException('logger bug');
});
$errorLog = ini_get('error_log');
$errors = "$dir/php-errors.log";
ini_set('error_log', $errors);
$user = $c->recordLogin($owner);
ini_set('error_log', $errorLog === false ? '' : $errorLog);
T::eq($owner, $user['email'], 'the operation succeeds');
T::ok(str_contains((string) @file_get_contents($errors), 'logger bug'), 'the exception is reported with error_log');

// Removed; a bad level or logger is refused.
$c->setLogger(null);
$c->recordLogin($owner);
T::eq(1, $count, 'removed');
T::throws(InvalidInputException::class, fn () => $c->setLogger(fn () => null, 'loud'), 'unknown level');
T::throws(TypeError::class, fn () => $c->setLogger(new stdClass()), 'neither callable nor log()');

// The [log] file of the config got the lines too, one per record, info and above.
$file = (string) file_get_contents("$dir/hooks.log");
T::ok(str_contains($file, ' info 60-activity-log.lua:'), 'the file has the activity lines');
T::ok(str_contains($file, ' after_invite invite account=1042 actor=owner@acme.example target=dev@acme.example'), 'the invite line');
T::ok(!str_contains($file, 'detail for'), 'debug is below the file\'s level');
T::eq(0600, fileperms("$dir/hooks.log") & 0777, 'created mode 0600');

$c->close();
T::done();
