<?php

declare(strict_types=1);

/*
 * php panel/bin/setup.php DIR
 *
 * Creates the panel's database DIR/panel.db when it does not exist yet and, on that first start,
 * seeds the two demo logins and their client accounts (in the panel's database and in Cohort's,
 * DIR/cohort.toml, which `cohort init DIR` made). Prints "seeded" or "kept".
 */

namespace Panel;

require dirname(__DIR__) . '/src/bootstrap.php';

const DEMO = [
    // email, name, password, account id, account name
    ['olivia@acme-hosting.example', 'Olivia Bennett', 'olivia-demo-pass', 1042, 'Acme Hosting Ltd'],
    ['ben@partner-agency.example', 'Ben Carter', 'ben-demo-pass', 1043, 'Partner Agency'],
];

$dir = $argv[1] ?? '';
if ($dir === '' || !is_file("$dir/cohort.toml")) {
    fwrite(STDERR, "usage: php setup.php DIR (a directory with the cohort.toml of `cohort init DIR`)\n");
    exit(2);
}
putenv('PANEL_DIR=' . $dir);
putenv('COHORT_CONFIG=' . $dir . '/cohort.toml');

$pdo = db();
if (!Db::migrate($pdo)) {
    echo "kept\n";
    exit(0);
}
$c = cohort();
$pdo->beginTransaction();
foreach (DEMO as [$email, $name, $password, $account, $accountName]) {
    insert_login($email, $name, $password);
    $pdo->prepare('INSERT INTO clients (id, name, created_at) VALUES (?, ?, ?)')->execute([$account, $accountName, time()]);
    $c->upsertUser($email, $name);
    $c->upsertAccount((string) $account, $accountName, $email);
}
$pdo->commit();
echo "seeded\n";
