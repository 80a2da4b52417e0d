<?php

declare(strict_types=1);

/*
 * PSR-4 autoloader for the Cohort\ namespace, for panels that do not use Composer:
 *     require '/path/to/cohort/scripts/php/autoload.php';
 */
spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Cohort\\', 7) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 7)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
