<?php

declare(strict_types=1);

/*
 * A tiny test harness for the plain-PHP tests (no downloads): assertions that count, a fresh
 * Cohort directory per call of fixture(), and the closing "N passed, N failed" line.
 */

require_once __DIR__ . '/../autoload.php';

final class T
{
    public static int $passed = 0;
    public static int $failed = 0;

    public static function ok(bool $cond, string $what): void
    {
        if ($cond) {
            self::$passed++;
            return;
        }
        self::$failed++;
        $line = 0;
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
            if (($frame['file'] ?? __FILE__) !== __FILE__) {
                $line = $frame['line'] ?? 0;
                break;
            }
        }
        fwrite(STDERR, basename($_SERVER['SCRIPT_NAME']) . ":$line: FAILED: $what\n");
    }

    public static function eq(mixed $want, mixed $got, string $what): void
    {
        self::ok($want === $got, $what . ($want === $got ? '' : ': want ' . var_export($want, true) . ', got ' . var_export($got, true)));
    }

    /** Runs $fn, which must throw exactly $class (or a subclass); returns the exception. */
    public static function throws(string $class, callable $fn, string $what): ?\Throwable
    {
        try {
            $fn();
        } catch (\Throwable $e) {
            self::ok($e instanceof $class, "$what: want $class, got " . get_class($e) . ': ' . $e->getMessage());
            return $e;
        }
        self::ok(false, "$what: want $class, nothing thrown");
        return null;
    }

    public static function done(): never
    {
        echo basename($_SERVER['SCRIPT_NAME']) . ': ' . self::$passed . ' passed, ' . self::$failed . " failed\n";
        exit(self::$failed === 0 ? 0 : 1);
    }
}

/** A fresh directory with a signing key and a cohort.toml; returns the config path. */
function fixture(string $extra = ''): string
{
    $base = getenv('COHORT_TEST_TMP') ?: sys_get_temp_dir();
    $dir = $base . '/php-' . bin2hex(random_bytes(6));
    mkdir($dir . '/keys', 0700, true);
    file_put_contents($dir . '/keys/k1.key', bin2hex(random_bytes(32)) . "\n");
    chmod($dir . '/keys/k1.key', 0600);
    file_put_contents($dir . '/cohort.toml', $extra . "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n");
    register_shutdown_function(static function () use ($dir): void {
        exec('rm -rf ' . escapeshellarg($dir));
    });
    return $dir . '/cohort.toml';
}

/** Resident set size of this process in KiB. */
function rss_kib(): int
{
    $status = (string) @file_get_contents('/proc/self/status');
    return preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m) ? (int) $m[1] : -1;
}
