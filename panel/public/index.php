<?php

declare(strict_types=1);

/*
 * The one entry point of the client area: nginx hands every request but /static/ to this file
 * (scripts/panel.sh writes that configuration). It sets the security headers, starts the
 * session, refuses a POST without the session's CSRF token, and runs the page of the path.
 */

namespace Panel;

use Cohort\Exception\CohortException;

require dirname(__DIR__) . '/src/bootstrap.php';

const ROUTES = [
    // path => [page file, login required]
    '/' => ['home', true],
    '/login' => ['login', false],
    '/register' => ['register', false],
    '/logout' => ['logout', true],
    '/accept' => ['accept', false],
    '/accounts' => ['accounts', true],
    '/users' => ['users', true],
    '/users/permissions' => ['permissions', true],
    '/users/remove' => ['remove', true],
    '/contacts' => ['contacts', true],
    '/contacts/edit' => ['contact_edit', true],
    '/contacts/delete' => ['contact_delete', true],
    '/audit' => ['audit', true],
];

$path = parse_url((string) ($_SERVER['REQUEST_URI'] ?? '/'), PHP_URL_PATH);
$path = is_string($path) ? $path : '/';

// Headers of every response. No page has inline script or style, so the policy forbids both.
header("Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    . "frame-ancestors 'none'; base-uri 'none'");
header('X-Content-Type-Options: nosniff');
header('X-Frame-Options: DENY');
header('Cache-Control: no-store');
// The accept page carries the invite token in its URL: no Referer may take it elsewhere, on
// any of its responses (live or dead link, redirect, error).
header('Referrer-Policy: ' . ($path === '/accept' ? 'no-referrer' : 'same-origin'));

try {
    start_session();
    $route = ROUTES[$path] ?? null;
    if ($route === null) {
        throw new Http(404, 'There is no such page.', 'Not found');
    }
    if (is_post() && !csrf_ok()) {
        throw new Http(403, 'The form was refused: its security token (CSRF) is missing or out of date. '
            . 'Go back, reload the page and send it again.', 'Refused');
    }
    if ($route[1] && me() === null) {
        if (is_post()) {
            throw new Http(403, 'You are not logged in.', 'Refused');
        }
        redirect('/login');
    }
    (static function (string $file): void {
        require $file;
    })(dirname(__DIR__) . '/src/pages/' . $route[0] . '.php');
} catch (Http $e) {
    render($e->title !== '' ? $e->title : 'Refused', '<p class="notice">' . h($e->getMessage()) . '</p>'
        . '<p><a href="/">Back to the Dashboard</a></p>', $e->status);
} catch (CohortException $e) {
    render('Refused', '<p class="notice">' . h(refusal($e)) . '</p><p><a href="/">Back to the Dashboard</a></p>', 400);
} catch (\Throwable $e) {
    // Never the request line nor arguments in the log: the accept page's URL holds a token.
    $message = preg_replace('/cohort1\.[A-Za-z0-9_.\-]+/', 'cohort1.[token]', $e->getMessage());
    error_log(sprintf('panel: %s at %s:%d: %s', get_class($e), $e->getFile(), $e->getLine(), $message));
    http_response_code(500);
    header('Content-Type: text/plain; charset=utf-8');
    echo "Something went wrong on our side. Try again in a moment.\n";
}
