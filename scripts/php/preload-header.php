<?php

declare(strict_types=1);

/*
 * Prints the header for php.ini's ffi.preload: cohort_php.h with the FFI_SCOPE "COHORT" and
 * FFI_LIB lines PHP reads at start-up.
 *
 *     php preload-header.php /usr/local/lib/libcohort.so > /etc/php/8.2/cohort.h
 *     ffi.preload=/etc/php/8.2/cohort.h          (php.ini)
 */

require __DIR__ . '/autoload.php';

echo Cohort\Library::preloadHeader($argv[1] ?? null);
