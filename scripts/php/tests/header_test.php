<?php

declare(strict_types=1);

/*
 * The PHP side agrees with the C side: Cohort\Status holds every COHORT_STATUS_* of cohort.h with
 * the same number and the library's name for it, and Cohort\Engine every COHORT_LOG_LEVEL_*;
 * cohort_php.h declares exactly the functions of cohort.h except the test-only one; and a missing
 * library fails fast with a clear message.
 */

require __DIR__ . '/harness.php';

use Cohort\Exception\LibraryException;
use Cohort\Library;
use Cohort\Status;

$root = dirname(__DIR__, 3);

// Before anything is loaded: a wrong library path is a LibraryException that says what to do.
$e = T::throws(LibraryException::class, fn () => Library::ffi('/nonexistent/libcohort.so'), 'missing library');
T::ok(str_contains($e?->getMessage() ?? '', '/nonexistent/libcohort.so'), 'names the path');
T::ok(str_contains($e?->getMessage() ?? '', 'cargo build -p cohort-ffi'), 'says how to build it');
T::eq('', Library::source(), 'nothing loaded');

$ffi = Library::ffi();
T::eq('cdef', Library::source(), 'loaded with FFI::cdef on the CLI');

$h = file_get_contents("$root/ffi/include/cohort.h");
preg_match_all('/COHORT_STATUS_([A-Z0-9_]+) = (\d+),/', $h, $m, PREG_SET_ORDER);
T::ok(count($m) >= 48, 'statuses found in cohort.h');
$constants = (new ReflectionClass(Status::class))->getConstants();
foreach ($m as [, $name, $num]) {
    T::eq((int) $num, $constants[$name] ?? null, "Status::$name");
    T::eq(strtolower($name), Status::name((int) $num), "name of $num");
    T::eq(Status::name((int) $num), $ffi->cohort_status_name((int) $num), "library name of $num");
    T::eq((int) $num, $ffi->{"COHORT_STATUS_$name"}, "cohort_php.h enum $name");
}
T::eq(count($m), count(Status::NAMES), 'no extra statuses in PHP');

// The log levels Cohort\Engine maps to PSR-3 names are cohort.h's.
preg_match_all('/COHORT_LOG_LEVEL_([A-Z]+) = (\d+),/', $h, $lv, PREG_SET_ORDER);
$levels = (new ReflectionClass(Cohort\Engine::class))->getConstant('LOG_LEVELS');
T::eq(4, count($lv), 'log levels found in cohort.h');
foreach ($lv as [, $name, $num]) {
    $psr = $name === 'WARN' ? 'warning' : strtolower($name);
    T::eq((int) $num, $levels[$psr] ?? null, "Engine::LOG_LEVELS['$psr']");
    T::eq((int) $num, $ffi->{"COHORT_LOG_LEVEL_$name"}, "cohort_php.h enum LOG_LEVEL_$name");
}
T::eq(count($lv), count($levels), 'no extra log levels in PHP');

$php = file_get_contents("$root/ffi/include/cohort_php.h");
T::ok(!str_contains($php, '#'), 'cohort_php.h has no preprocessor line');
preg_match_all('/\b(cohort_[a-z_]+)\(/', $h, $cf);
preg_match_all('/\b(cohort_[a-z_]+)\(/', $php, $pf);
$expected = array_values(array_diff(array_unique($cf[1]), ['cohort_test_panic']));
T::eq($expected, array_values(array_unique($pf[1])), 'same functions, minus the test-only one');
T::ok(in_array('cohort_test_panic', $cf[1], true), 'cohort.h declares the test export behind its define');

// docs/c-api.md documents every function.
$doc = file_get_contents("$root/docs/c-api.md");
foreach (array_unique($cf[1]) as $f) {
    T::ok(str_contains($doc, "#### `$f`"), "docs/c-api.md documents $f");
}

// The version agrees with Cargo.toml.
$cargo = file_get_contents("$root/Cargo.toml");
preg_match('/\[workspace\.package\][^\[]*?\bversion\s*=\s*"([^"]+)"/s', $cargo, $v);
T::eq($v[1] ?? null, Library::version(), 'version matches Cargo.toml');

T::done();
