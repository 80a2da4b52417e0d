<?php

declare(strict_types=1);

/*
 * opcache.preload script for PHP-FPM (where ffi.enable=preload is the default). It compiles the
 * Cohort classes once for every worker and, when the FPM master does not run as root, loads
 * libcohort.so into the FFI scope "COHORT". In php.ini (or the pool's config):
 *
 *     opcache.enable=1
 *     opcache.preload=/path/to/cohort/scripts/php/preload.php
 *     ffi.enable=preload
 *
 * A master running as root needs opcache.preload_user, with which PHP refuses FFI::load(): there
 * also set ffi.preload to the header printed by preload-header.php (see docs/php.md); this script
 * then only preloads the classes.
 *
 * The library is found as by Cohort\Library (COHORT_LIBRARY in the master's environment, then
 * /usr/local/lib/libcohort.so, ...).
 */

require __DIR__ . '/autoload.php';

foreach (glob(__DIR__ . '/src/{,Exception/}*.php', GLOB_BRACE) as $file) {
    $class = 'Cohort\\' . str_replace('/', '\\', substr($file, strlen(__DIR__ . '/src/'), -4));
    class_exists($class) || interface_exists($class);
}

$scoped = true;
try {
    FFI::scope(Cohort\Library::SCOPE);
} catch (FFI\Exception) {
    $scoped = false;
}
if (!$scoped && (string) ini_get('opcache.preload_user') === '') {
    Cohort\Library::preload();
}
