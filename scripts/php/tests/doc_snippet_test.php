<?php

declare(strict_types=1);

/*
 * The two pages of docs/php.md, "The User Management page", run exactly as they stand there:
 * users.php and accept.php are cut out of the doc (only /path/to/cohort becomes this checkout)
 * and run by php as requests: $_POST, $_GET and the session are set by an auto_prepend_file, mail()
 * goes to a file through sendmail_path, and every notice or warning counts as a failure.
 */

require __DIR__ . '/harness.php';

use Cohort\Engine;

$root = dirname(__DIR__, 3);
$doc = (string) file_get_contents("$root/docs/php.md");
preg_match_all('/^```php\n(<\?php\n\/\/ (\w+\.php)\b.*?)^```$/ms', $doc, $blocks, PREG_SET_ORDER);
$pages = [];
foreach ($blocks as [, $code, $name]) {
    $pages[$name] = str_replace('/path/to/cohort', $root, $code);
}
T::ok(isset($pages['users.php'], $pages['accept.php']), 'docs/php.md has the users.php and accept.php snippets');
if (!isset($pages['users.php'], $pages['accept.php'])) {
    T::done();
}

$config = fixture("link_template = \"https://panel.example.com/accept.php?token={token}\"\n");
$dir = dirname($config);
foreach ($pages as $name => $code) {
    file_put_contents("$dir/$name", $code);
}
$c = Engine::create($config);
$c->upsertAccount('1042', 'Acme', 'owner@acme.example');

// The request: method, $_POST, $_GET and the session, from the environment.
file_put_contents("$dir/prelude.php", <<<'PHP'
    <?php
    $r = json_decode((string) getenv('SNIPPET_REQUEST'), true);
    $_SERVER['REQUEST_METHOD'] = $r['method'];
    $_POST = $r['post'];
    $_GET = $r['get'];
    session_id('snippet' . bin2hex(random_bytes(8)));
    session_start();
    $_SESSION = $r['session'];
    session_write_close();
    PHP);
// What the page left behind, for the test (users.php's variables).
file_put_contents("$dir/epilogue.php", <<<'PHP'
    <?php
    if (isset($flash, $users, $pending, $labels)) {
        echo json_encode(['flash' => $flash, 'users' => array_column($users, 'email'),
            'pending' => array_column($pending, 'email'), 'labels' => count($labels)]);
    }
    PHP);
mkdir("$dir/sessions");
$mailFile = "$dir/mail.txt";

/** Runs a page; returns [stdout, stderr]. */
$run = static function (string $page, array $session, string $method = 'GET', array $post = [], array $get = [])
    use ($dir, $config, $mailFile): array {
    $cmd = [PHP_BINARY, '-d', 'error_reporting=-1', '-d', 'display_errors=stderr', '-d', 'log_errors=0',
        '-d', "session.save_path=$dir/sessions", '-d', "sendmail_path=cat >> $mailFile",
        '-d', "auto_prepend_file=$dir/prelude.php", '-d', "auto_append_file=$dir/epilogue.php", "$dir/$page"];
    $env = getenv() + [];
    $env['COHORT_CONFIG'] = $config;
    $env['SNIPPET_REQUEST'] = json_encode(['method' => $method, 'post' => $post, 'get' => $get, 'session' => $session]);
    $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $dir, $env);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    proc_close($p);
    return [(string) $out, (string) $err];
};
$clean = static fn (string $err, string $what) => T::eq('', trim($err), "$what: no notice, warning or error");
$owner = ['email' => 'owner@acme.example', 'client_id' => '1042'];
$tokenFor = static function (string $email) use ($mailFile): string {
    $mail = (string) @file_get_contents($mailFile);
    $at = strrpos($mail, "To: $email");
    preg_match('/[?&]token=(\S+)/', substr($mail, $at === false ? 0 : $at), $m);
    return $m[1] ?? '';
};

// users.php: invite with chosen permissions, with all, and again (refused in words).
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'invite', 'email' => 'dev@acme.example',
    'mode' => 'choose', 'perms' => ['invoices', 'tickets']]);
$clean($err, 'invite with chosen permissions');
$page = json_decode($out, true);
T::eq('Saved.', $page['flash'] ?? null, 'invite: saved');
T::eq(['dev@acme.example'], $page['pending'] ?? null, 'invite: pending');
T::ok(($page['labels'] ?? 0) >= 13, 'one label per permission');
T::ok(str_contains((string) @file_get_contents($mailFile), 'Subject: Acme has invited you to their account'),
    'mail() sent the invitation Cohort composed');
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'invite', 'email' => 'all@acme.example', 'mode' => 'all']);
$clean($err, 'invite with all permissions');
T::eq(['all@acme.example', 'dev@acme.example'], json_decode($out, true)['pending'] ?? null, 'both pending');
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'invite', 'email' => 'dev@acme.example', 'mode' => 'all']);
$clean($err, 'invite again');
T::ok(str_contains(json_decode($out, true)['flash'] ?? '', 'already pending'), 'invite again: refused in words');

// accept.php: not logged in, then registering, then the used link.
$devToken = $tokenFor('dev@acme.example');
T::ok($devToken !== '', 'the mail holds the link');
[$out, $err] = $run('accept.php', [], 'GET', [], ['token' => $devToken]);
$clean($err, 'accept, not logged in');
T::eq("Log in, or register as dev@acme.example, to join Acme.\n", $out, 'accept: Register or Login offered');
[$out, $err] = $run('accept.php', [], 'POST', ['token' => $devToken, 'name' => 'Dev']);
$clean($err, 'accept by registering');
T::eq("You now have access to Acme.\n", $out, 'accept by registering');
T::eq(true, $c->check('1042', 'dev@acme.example', 'invoices'), 'the new member holds invoices');
T::ok($c->user('dev@acme.example')['last_login'] !== null, 'the login was recorded');
[$out, $err] = $run('accept.php', [], 'GET', [], ['token' => $devToken]);
$clean($err, 'the used link');
T::ok(str_contains($out, 'accepted'), 'the used link says so: ' . trim($out));

// accept.php as another login: refused, the invite stays pending.
[$out, $err] = $run('accept.php', ['email' => 'dev@acme.example'], 'GET', [], ['token' => $tokenFor('all@acme.example')]);
$clean($err, 'accept as another login');
T::ok(str_contains($out, 'all@acme.example'), 'mismatch: names the invited address: ' . trim($out));
T::eq(['all@acme.example'], array_column($c->pending('1042'), 'email'), 'mismatch: still pending');

// users.php: permissions with no box ticked (refused in words, no warning), then changed, then removed.
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'perms', 'user' => 'dev@acme.example', 'mode' => 'choose']);
$clean($err, 'permissions with no box ticked');
T::ok(str_contains(json_decode($out, true)['flash'] ?? '', 'at least one permission'), 'no box ticked: refused in words');
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'perms', 'user' => 'dev@acme.example', 'mode' => 'choose',
    'perms' => ['domains']]);
$clean($err, 'permissions changed');
T::eq([false, true], [$c->check('1042', 'dev@acme.example', 'invoices'), $c->check('1042', 'dev@acme.example', 'domains')],
    'permissions changed');
[$out, $err] = $run('users.php', ['email' => 'dev@acme.example', 'client_id' => '1042'], 'POST',
    ['action' => 'invite', 'email' => 'x@acme.example', 'mode' => 'all']);
$clean($err, 'a member without users');
T::eq("You may not manage this account's users.\n", $out, 'a member without users is refused');
[$out, $err] = $run('users.php', $owner, 'POST', ['action' => 'remove', 'user' => 'dev@acme.example']);
$clean($err, 'remove');
T::eq(['owner@acme.example'], json_decode($out, true)['users'] ?? null, 'removed');

T::done();
