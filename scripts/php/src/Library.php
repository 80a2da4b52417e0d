<?php

declare(strict_types=1);

namespace Cohort;

use Cohort\Exception\LibraryException;

/**
 * Loads libcohort.so through PHP's FFI extension, once per process.
 *
 * Under PHP-FPM (ffi.enable=preload, the default) the library is loaded at start-up, by
 * ffi.preload or by the opcache.preload script with Library::preload(), and these classes must
 * be compiled by opcache.preload: under ffi.enable=preload only preloaded code may use the FFI
 * API, so requests reach the scope through this class (a request's own FFI::scope() call is
 * refused). On the CLI, or with ffi.enable=true, it is loaded on first use with FFI::cdef().
 *
 * Where things are looked for, first match wins:
 * - library: the argument, the COHORT_LIBRARY environment variable, /usr/local/lib/libcohort.so,
 *   /usr/lib/libcohort.so, the multiarch directories under both (/usr/lib/x86_64-linux-gnu/...),
 *   then target/release/libcohort.so of a source checkout;
 * - header (cohort_php.h): the COHORT_PHP_HEADER environment variable, next to this package,
 *   /usr/local/include/cohort_php.h, /usr/include/cohort_php.h, then ffi/include of a checkout.
 */
final class Library
{
    /** The FFI scope name that Library::preload() registers. */
    public const SCOPE = 'COHORT';

    private static ?\FFI $ffi = null;
    private static string $source = '';

    /** The loaded library (loads it on first use). */
    public static function ffi(?string $library = null): \FFI
    {
        if (self::$ffi !== null) {
            return self::$ffi;
        }
        self::requireExtension();
        try {
            self::$ffi = \FFI::scope(self::SCOPE);
            self::$source = 'scope';
            return self::$ffi;
        } catch (\FFI\Exception $e) {
            // Not preloaded: load it now, where the ini settings allow it.
            $scopeError = $e->getMessage();
        }
        $enable = strtolower((string) ini_get('ffi.enable'));
        if (in_array($enable, ['0', '', 'off', 'false', 'no'], true)) {
            throw new LibraryException(
                'Cohort needs PHP FFI, which is disabled (ffi.enable=' . ini_get('ffi.enable')
                . '): set ffi.enable=preload and preload Cohort with opcache.preload, or set '
                . 'ffi.enable=true (see docs/php.md)'
            );
        }
        if ($enable === 'preload' && PHP_SAPI !== 'cli') {
            throw new LibraryException(self::notPreloaded($scopeError));
        }
        $lib = self::findLibrary($library);
        $header = self::findHeader();
        try {
            self::$ffi = \FFI::cdef(self::readHeader($header), $lib);
        } catch (\FFI\Exception $e) {
            throw new LibraryException("cannot load $lib with $header: " . $e->getMessage(), 0, 'library', $e);
        }
        self::$source = 'cdef';
        return self::$ffi;
    }

    /**
     * For the opcache.preload script, when PHP-FPM's master does not run as root: loads the
     * library into the FFI scope "COHORT" with FFI::load(), so that every request of every worker
     * finds it with FFI::scope() without loading anything. (PHP refuses FFI::load() together with
     * opcache.preload_user, which root needs; there use ffi.preload with preloadHeader().)
     */
    public static function preload(?string $library = null, ?string $cacheDir = null): void
    {
        self::requireExtension();
        $text = self::preloadHeader($library);
        $dir = $cacheDir ?? sys_get_temp_dir();
        $file = $dir . '/cohort-preload-' . substr(hash('sha256', $text), 0, 16) . '.h';
        if (@file_get_contents($file) !== $text) {
            $tmp = $file . '.' . getmypid();
            if (@file_put_contents($tmp, $text) === false || !@rename($tmp, $file)) {
                throw new LibraryException("cannot write the preload header $file");
            }
        }
        if (\FFI::load($file) === null) {
            throw new LibraryException("FFI::load($file) failed to load the library");
        }
    }

    /**
     * The header for `ffi.preload=` (or FFI::load()): cohort_php.h with the FFI_SCOPE "COHORT" and
     * FFI_LIB lines that PHP reads at start-up. scripts/php/preload-header.php prints it.
     */
    public static function preloadHeader(?string $library = null): string
    {
        $lib = realpath(self::findLibrary($library)) ?: self::findLibrary($library);
        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n"
            . '#define FFI_LIB "' . addslashes($lib) . "\"\n"
            . self::readHeader(self::findHeader());
    }

    /** How the library was loaded: "scope" (preloaded), "cdef", or "" (not yet). */
    public static function source(): string
    {
        return self::$source;
    }

    /** The library version, such as "0.1.0". */
    public static function version(): string
    {
        // A `const char *` result arrives as a PHP string (copied; the library keeps its own).
        return self::ffi()->cohort_version();
    }

    /**
     * What is wrong when a request under ffi.enable=preload finds no usable scope. Under
     * ffi.enable=preload only code compiled by opcache.preload may call the FFI API at all, so
     * there are two cases: these classes were not preloaded (FFI::scope() itself was refused,
     * whatever ffi.preload says), or they were and the scope "COHORT" does not exist.
     */
    private static function notPreloaded(string $scopeError): string
    {
        $see = ' (see docs/php.md, "PHP-FPM: preloading")';
        $ffiPreload = (string) ini_get('ffi.preload');
        $preloadUser = (string) ini_get('opcache.preload_user');
        if (str_contains($scopeError, 'restricted')) {
            return 'Cohort\'s PHP classes were not compiled by opcache.preload: with ffi.enable=preload only '
                . 'preloaded code may use FFI, so Cohort\Library cannot reach the library'
                . ($ffiPreload !== '' ? ' even though ffi.preload=' . $ffiPreload . ' loaded it' : '')
                . ' (' . $scopeError . '). Set opcache.enable=1 and opcache.preload=/path/to/cohort/'
                . 'scripts/php/preload.php (and opcache.preload_user under a root master)' . $see;
        }
        if ($ffiPreload !== '') {
            return "ffi.preload=$ffiPreload did not define the FFI scope \"" . self::SCOPE . '": write that '
                . 'header with scripts/php/preload-header.php (' . $scopeError . ')' . $see;
        }
        if ($preloadUser !== '') {
            return 'the library was not loaded at start-up: opcache.preload_user=' . $preloadUser . ' is set '
                . '(a root FPM master), and PHP refuses FFI::load() together with it. Set ffi.preload to the '
                . 'header of scripts/php/preload-header.php (set-up A), or run the FPM master itself as an '
                . 'unprivileged user without opcache.preload_user (set-up B)' . $see;
        }
        return 'the opcache.preload script did not load the library into the FFI scope "' . self::SCOPE . '": '
            . 'call Cohort\Library::preload() from it (scripts/php/preload.php does), with COHORT_LIBRARY in '
            . 'the FPM master\'s environment if needed, and see the master\'s log' . $see;
    }

    private static function requireExtension(): void
    {
        if (!extension_loaded('ffi')) {
            throw new LibraryException(
                'Cohort needs the PHP FFI extension, which is not loaded: install it (Debian: php-cli '
                . 'includes it; elsewhere build PHP with --with-ffi) and enable it (see docs/php.md)'
            );
        }
    }

    private static function findLibrary(?string $library): string
    {
        // A path someone named is used or refused, never silently replaced by another library.
        $named = $library !== null ? ['the $library argument', $library]
            : (getenv('COHORT_LIBRARY') !== false && getenv('COHORT_LIBRARY') !== ''
                ? ['COHORT_LIBRARY', (string) getenv('COHORT_LIBRARY')] : null);
        if ($named !== null) {
            [$what, $path] = $named;
            if (!is_file($path)) {
                throw new LibraryException("$what names $path, which is not a file: fix the path (build the library with `cargo build -p cohort-ffi --release`), or unset it to search the usual places");
            }
            return $path;
        }
        $candidates = array_filter([
            '/usr/local/lib/libcohort.so',
            '/usr/lib/libcohort.so',
            ...(glob('/usr/{local/,}lib/*-linux-gnu/libcohort.so', GLOB_BRACE) ?: []),
            dirname(__DIR__, 3) . '/target/release/libcohort.so',
        ]);
        foreach ($candidates as $c) {
            if (is_file($c)) {
                return $c;
            }
        }
        throw new LibraryException(
            'libcohort.so not found (looked at ' . implode(', ', $candidates) . '): build it with '
            . '`cargo build -p cohort-ffi --release` or install it with `cargo cinstall -p cohort-ffi`, '
            . 'or set COHORT_LIBRARY'
        );
    }

    private static function findHeader(): string
    {
        $named = getenv('COHORT_PHP_HEADER');
        if ($named !== false && $named !== '') {
            if (!is_file($named)) {
                throw new LibraryException("COHORT_PHP_HEADER names $named, which is not a file: fix the path, or unset it to search the usual places");
            }
            return $named;
        }
        $candidates = array_filter([
            dirname(__DIR__) . '/cohort_php.h',
            '/usr/local/include/cohort_php.h',
            '/usr/include/cohort_php.h',
            dirname(__DIR__, 3) . '/ffi/include/cohort_php.h',
        ]);
        foreach ($candidates as $c) {
            if (is_file($c)) {
                return $c;
            }
        }
        throw new LibraryException(
            'cohort_php.h not found (looked at ' . implode(', ', $candidates) . '); set COHORT_PHP_HEADER'
        );
    }

    private static function readHeader(string $path): string
    {
        $text = @file_get_contents($path);
        if ($text === false) {
            throw new LibraryException("cannot read $path");
        }
        return $text;
    }
}
