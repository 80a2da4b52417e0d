<?php

declare(strict_types=1);

/*
 * The Composer package is usable as published: composer.json parses and maps Cohort\ to src/
 * (PSR-4), and every file under src/ declares exactly the class its path names.
 */

require __DIR__ . '/harness.php';

$root = dirname(__DIR__);
$composer = json_decode((string) file_get_contents("$root/composer.json"), true);
T::ok(is_array($composer), 'composer.json parses');
T::eq('src/', $composer['autoload']['psr-4']['Cohort\\'] ?? null, 'PSR-4: Cohort\\ => src/');
T::ok(isset($composer['require']['ext-ffi']), 'requires ext-ffi');

$files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator("$root/src", FilesystemIterator::SKIP_DOTS));
$count = 0;
foreach ($files as $file) {
    $relative = substr($file->getPathname(), strlen("$root/src/"), -4);
    $class = 'Cohort\\' . str_replace('/', '\\', $relative);
    $text = (string) file_get_contents($file->getPathname());
    $namespace = preg_match('/^namespace ([^;]+);/m', $text, $m) ? $m[1] : '';
    $short = preg_match('/^(?:final |abstract )?class (\w+)/m', $text, $c) ? $c[1] : '';
    T::eq($class, $namespace . '\\' . $short, "$relative.php declares its PSR-4 class");
    T::ok(class_exists($class), "$class autoloads");
    $count++;
}
T::ok($count >= 19, "$count classes");

T::done();
