<?php

declare(strict_types=1);

/*
 * Run with the FFI extension off (`php -n`, or `php -d ffi.enable=0`): opening an engine must fail
 * fast with a LibraryException that says what is missing, not with a fatal error.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;
use Cohort\Exception\LibraryException;

$e = T::throws(LibraryException::class, fn () => Engine::open('/etc/cohort/cohort.toml'), 'open without FFI');
$msg = $e?->getMessage() ?? '';
if (!extension_loaded('ffi')) {
    T::ok(str_contains($msg, 'FFI extension, which is not loaded'), "says FFI is not loaded: $msg");
} else {
    T::ok(str_contains($msg, 'disabled (ffi.enable='), "says FFI is disabled: $msg");
}
T::ok(str_contains($msg, 'docs/php.md'), 'points at the docs');

T::done();
