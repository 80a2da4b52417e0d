<?php

declare(strict_types=1);

/*
 * An explicit library or header path that does not exist is an error naming it, never a silent
 * fall-back to another libcohort.so. Each case runs in a fresh PHP process (the library is loaded
 * once per process).
 */

require __DIR__ . '/harness.php';

$php = PHP_BINARY;
$autoload = dirname(__DIR__) . '/autoload.php';
$run = function (array $env, string $code) use ($php, $autoload): array {
    $script = "<?php require '$autoload'; try { $code echo 'no exception'; } "
        . "catch (Cohort\\Exception\\LibraryException \$e) { echo 'LibraryException: ', \$e->getMessage(); }";
    $file = tempnam(sys_get_temp_dir(), 'cohort-lib-');
    file_put_contents($file, $script);
    $cmd = [$php, $file];
    $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
    $out = stream_get_contents($pipes[1]);
    stream_get_contents($pipes[2]);
    $rc = proc_close($proc);
    unlink($file);
    return [$rc, $out];
};

[, $out] = $run(['COHORT_LIBRARY' => '/nope/libcohort.so'], "Cohort\\Engine::open('/nonexistent.toml');");
T::ok(str_starts_with($out, 'LibraryException: COHORT_LIBRARY names /nope/libcohort.so'), "COHORT_LIBRARY missing: $out");

[, $out] = $run([], "Cohort\\Engine::open('/nonexistent.toml', '/nope/other.so');");
T::ok(str_starts_with($out, 'LibraryException: the $library argument names /nope/other.so'), "argument missing: $out");

[, $out] = $run(['COHORT_PHP_HEADER' => '/nope/cohort_php.h'], "Cohort\\Engine::open('/nonexistent.toml');");
T::ok(str_starts_with($out, 'LibraryException: COHORT_PHP_HEADER names /nope/cohort_php.h'), "COHORT_PHP_HEADER missing: $out");

// A real path still works: the library loads and the config error comes from it.
[, $out] = $run([], "try { Cohort\\Engine::open('/nonexistent.toml'); } catch (Cohort\\Exception\\StorageException \$e) { echo 'storage: ', \$e->getMessage(), ' '; }");
T::ok(str_contains($out, 'storage: ') && str_contains($out, '/nonexistent.toml'), "found library opens: $out");

T::done();
