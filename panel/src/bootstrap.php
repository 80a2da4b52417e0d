<?php

declare(strict_types=1);

/*
 * Everything a page of the panel shares: settings, the Cohort engine, the panel's database,
 * the session (login, chosen account, CSRF token, flash messages), escaping and the layout.
 *
 * Settings come from the environment (PHP-FPM's pool env[], written by scripts/panel.sh):
 *   PANEL_DIR      the data directory (panel.db, sessions/, mail/, panel.ini, cohort.toml)
 *   COHORT_CONFIG  Cohort's config (default: PANEL_DIR/cohort.toml)
 *   PANEL_SMTP     "host:port" of the mail server; empty: mails go to PANEL_DIR/mail/*.eml
 * and from PANEL_DIR/panel.ini, when it exists:
 *   mail_from   = "Acme Client Area <no-reply@acme.example>"
 *   invite_ttls = "7d,3d,1d,1h"     (choices of the invite form's "Link valid for")
 */

namespace Panel;

use Cohort\Engine;
use Cohort\Exception\CohortException;
use Cohort\Exception\NotFoundException;

// The Cohort classes come from opcache.preload under PHP-FPM; the autoloader covers the CLI.
require_once dirname(__DIR__, 2) . '/scripts/php/autoload.php';
require_once __DIR__ . '/Db.php';
require_once __DIR__ . '/Mailer.php';

const SESSION_NAME = 'panel_session';
const CSRF_FIELD = '_csrf';
const MIN_PASSWORD = 8;
const MAX_LOGIN_FAILURES = 10;        // per email within LOGIN_FAILURE_WINDOW
const LOGIN_FAILURE_WINDOW = 900;

/** Notification kinds of Cohort, with the words the Contacts page shows. */
const NOTIFY_KINDS = [
    'general' => 'General',
    'domain' => 'Domain',
    'invoice' => 'Invoice',
    'product' => 'Service',
    'support' => 'Support',
    'affiliate' => 'Affiliate',
];

final class Http extends \RuntimeException
{
    /** A page that ends the request with a status (403 refused, 404, 400) and a sentence. */
    public function __construct(public readonly int $status, string $message, public readonly string $title = '')
    {
        parent::__construct($message);
    }
}

// ---------- settings and services ----------

function data_dir(): string
{
    $dir = (string) getenv('PANEL_DIR');
    if ($dir === '' || !is_dir($dir)) {
        throw new \RuntimeException('PANEL_DIR is not set to the panel\'s data directory');
    }
    return rtrim($dir, '/');
}

/** panel.ini merged over the defaults. */
function settings(): array
{
    static $settings = null;
    if ($settings === null) {
        $ini = data_dir() . '/panel.ini';
        $file = is_file($ini) ? (parse_ini_file($ini, false, INI_SCANNER_RAW) ?: []) : [];
        $settings = $file + [
            'mail_from' => 'Cohort Panel <no-reply@panel.localhost>',
            'invite_ttls' => '7d,3d,1d,1h',
        ];
    }
    return $settings;
}

/**
 * The engine of this request. PHP-FPM keeps no PHP object across requests; Engine::shared()
 * gets back the engine the library keeps open in this worker (opened on the worker's first
 * request, and again whenever cohort.toml or a key file changes).
 */
function cohort(): Engine
{
    static $engine = null;
    if ($engine === null) {
        $config = (string) getenv('COHORT_CONFIG');
        $engine = Engine::shared($config !== '' ? $config : data_dir() . '/cohort.toml');
    }
    return $engine;
}

function db(): \PDO
{
    static $pdo = null;
    return $pdo ??= Db::open(data_dir() . '/panel.db');
}

function mailer(): Mailer
{
    return new Mailer((string) getenv('PANEL_SMTP'), data_dir() . '/mail', (string) settings()['mail_from']);
}

/** The "Link valid for" choices: seconds => words. */
function ttl_choices(): array
{
    $out = [];
    foreach (explode(',', (string) settings()['invite_ttls']) as $item) {
        if (preg_match('/^\s*(\d+)\s*([smhd])\s*$/', $item, $m) !== 1 || (int) $m[1] === 0) {
            continue;
        }
        $n = (int) $m[1];
        [$unit, $word] = ['s' => [1, 'second'], 'm' => [60, 'minute'], 'h' => [3600, 'hour'], 'd' => [86400, 'day']][$m[2]];
        $out[$n * $unit] = $n . ' ' . $word . ($n === 1 ? '' : 's');
    }
    return $out ?: [7 * 86400 => '7 days'];
}

// ---------- the session ----------

function start_session(): void
{
    $https = ($_SERVER['HTTPS'] ?? '') !== '' && ($_SERVER['HTTPS'] ?? '') !== 'off';
    session_name(SESSION_NAME);
    session_cache_limiter('');         // index.php sends Cache-Control: no-store itself
    session_save_path(data_dir() . '/sessions');
    session_set_cookie_params([
        'lifetime' => 0,
        'path' => '/',
        'secure' => $https,
        'httponly' => true,
        'samesite' => 'Lax',
    ]);
    session_start([
        'use_strict_mode' => true,
        'use_only_cookies' => true,
        'use_trans_sid' => false,
        'cookie_httponly' => true,
        'gc_maxlifetime' => 8 * 3600,
    ]);
    if (!isset($_SESSION[CSRF_FIELD])) {
        $_SESSION[CSRF_FIELD] = bin2hex(random_bytes(32));
    }
}

/** The logged-in email, or null. */
function me(): ?string
{
    $email = $_SESSION['email'] ?? null;
    return is_string($email) ? $email : null;
}

function csrf_token(): string
{
    return (string) $_SESSION[CSRF_FIELD];
}

function csrf_field(): string
{
    return '<input type="hidden" name="' . CSRF_FIELD . '" value="' . h(csrf_token()) . '">';
}

function csrf_ok(): bool
{
    $sent = $_POST[CSRF_FIELD] ?? null;
    return is_string($sent) && hash_equals(csrf_token(), $sent);
}

/**
 * Logs $email in: a new session id, and Cohort told (Last Login). The CSRF token stays: a form
 * opened before logging in in another window of this browser (the accept page's Login, seed
 * 000) must still be accepted; logging out makes a new one.
 */
function log_in(string $email): void
{
    session_regenerate_id(true);
    $_SESSION = [CSRF_FIELD => csrf_token(), 'email' => $email, 'flash' => $_SESSION['flash'] ?? []];
    try {
        cohort()->recordLogin($email);
    } catch (NotFoundException) {
        // A panel login Cohort has not seen yet: tell it who this is, then record.
        cohort()->upsertUser($email, login_row($email)['name'] ?? null);
        cohort()->recordLogin($email);
    }
}

function log_out(): void
{
    session_regenerate_id(true);
    $_SESSION = [CSRF_FIELD => bin2hex(random_bytes(32))];
}

function flash(string $kind, string $text): void
{
    $_SESSION['flash'][] = [$kind, $text];
}

function take_flashes(): array
{
    $f = $_SESSION['flash'] ?? [];
    unset($_SESSION['flash']);
    return is_array($f) ? $f : [];
}

// ---------- logins (the panel's own) ----------

function normalize_email(string $email): string
{
    return strtolower(trim($email));
}

function login_row(string $email): ?array
{
    $q = db()->prepare('SELECT email, name, password_hash FROM logins WHERE email = ?');
    $q->execute([normalize_email($email)]);
    $row = $q->fetch();
    return $row === false ? null : $row;
}

/** Checks a password; counts failures and refuses after too many (the message says so). */
function authenticate(string $email, string $password): ?string
{
    $email = normalize_email($email);
    $since = time() - LOGIN_FAILURE_WINDOW;
    $q = db()->prepare('SELECT COUNT(*) FROM login_failures WHERE email = ? AND at > ?');
    $q->execute([$email, $since]);
    if ((int) $q->fetchColumn() >= MAX_LOGIN_FAILURES) {
        throw new Http(429, 'Too many failed logins for this email. Wait 15 minutes and try again.', 'Login');
    }
    $row = login_row($email);
    // Verify against a dummy hash when the login does not exist, so both take as long.
    $hash = $row['password_hash'] ?? '$2y$10$Yg0xOu0kPr7cVYkDuFTGxOq3bF0yJ2OrNqdxGDIqdmMHtqgzyiK5e';
    if (!password_verify($password, $hash) || $row === null) {
        db()->prepare('DELETE FROM login_failures WHERE at <= ?')->execute([$since]);
        db()->prepare('INSERT INTO login_failures (email, at) VALUES (?, ?)')->execute([$email, time()]);
        return null;
    }
    db()->prepare('DELETE FROM login_failures WHERE email = ? OR at <= ?')->execute([$email, $since]);
    if (password_needs_rehash($hash, PASSWORD_DEFAULT)) {
        db()->prepare('UPDATE logins SET password_hash = ? WHERE email = ?')
            ->execute([password_hash($password, PASSWORD_DEFAULT), $email]);
    }
    return $email;
}

/** Validates a new login's fields; returns the first problem in words, or null. */
function login_problem(string $email, string $name, string $password, string $confirm): ?string
{
    if (filter_var($email, FILTER_VALIDATE_EMAIL) === false) {
        return 'Enter a valid email address.';
    }
    if ($name === '' || char_count($name) > 100) {
        return 'Enter your name (at most 100 characters).';
    }
    if (strlen($password) < MIN_PASSWORD || strlen($password) > 1000) {
        return 'Choose a password of at least ' . MIN_PASSWORD . ' characters.';
    }
    if (!hash_equals($password, $confirm)) {
        return 'The two passwords differ.';
    }
    if (login_row($email) !== null) {
        return "A login for $email already exists: log in instead.";
    }
    return null;
}

function insert_login(string $email, string $name, string $password): void
{
    db()->prepare('INSERT INTO logins (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)')
        ->execute([normalize_email($email), $name, password_hash($password, PASSWORD_DEFAULT), time()]);
}

/** Characters in a UTF-8 string (mbstring is not assumed); bytes when it is not UTF-8. */
function char_count(string $s): int
{
    $n = preg_match_all('/./us', $s);
    return $n === false ? strlen($s) : $n;
}

// ---------- the current account ----------

/** The accounts this login can act on (Cohort's answer, once per request). */
function my_accounts(): array
{
    static $list = null;
    if ($list === null) {
        try {
            $list = me() === null ? [] : cohort()->accountsOf(me());
        } catch (NotFoundException) {
            $list = [];
        }
    }
    return $list;
}

/** The account chosen in the switcher (or the first one), as Cohort lists it; null if none. */
function current_account(): ?array
{
    $list = my_accounts();
    $want = $_SESSION['account'] ?? null;
    foreach ($list as $a) {
        if ($a['account_id'] === $want) {
            return $a;
        }
    }
    $pick = null;
    foreach ($list as $a) {
        if ($a['role'] === 'owner') {
            $pick = $a;
            break;
        }
    }
    $pick ??= $list[0] ?? null;
    $_SESSION['account'] = $pick['account_id'] ?? null;
    return $pick;
}

function require_account(): array
{
    $a = current_account();
    if ($a === null) {
        throw new Http(403, 'Your login has no client account to act on yet. Open the link of an invitation, or ask an account owner to invite you.', 'No account');
    }
    return $a;
}

/**
 * The current account, when the logged-in user may manage its users (the `users` permission,
 * asked of Cohort); else a 403 on page $page that names the permission.
 */
function require_user_manager(string $page): array
{
    $acct = require_account();
    if (!cohort()->check($acct['account_id'], (string) me(), 'users')) {
        throw new Http(403, 'You may not manage the users of ' . $acct['account_name']
            . ': that needs the permission "' . (perm_labels()['users'] ?? 'users') . '". Ask the account owner.', $page);
    }
    return $acct;
}

/** The member $email of account $acct (as `members` lists it), or a 404 on page $page. */
function require_member(array $acct, string $email, string $page): array
{
    foreach (cohort()->members($acct['account_id']) as $m) {
        if ($m['email'] === $email) {
            return $m;
        }
    }
    throw new Http(404, 'That user is not a member of ' . $acct['account_name'] . '.', $page);
}

/** Whether the logged-in user holds $key on the current account (asked of Cohort each time). */
function can(string $key): bool
{
    $a = current_account();
    return $a !== null && me() !== null && cohort()->check($a['account_id'], me(), $key);
}

function is_owner(): bool
{
    $a = current_account();
    return $a !== null && $a['role'] === 'owner';
}

// ---------- requests ----------

function is_post(): bool
{
    return ($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST';
}

/** A POSTed text field (never an array), trimmed unless $raw. */
function post(string $name, bool $raw = false): string
{
    $v = $_POST[$name] ?? '';
    if (!is_string($v)) {
        return '';
    }
    return $raw ? $v : trim($v);
}

/** A POSTed list of strings (checkboxes name="x[]"); absent when none is ticked. */
function post_list(string $name): array
{
    $v = $_POST[$name] ?? [];
    return is_array($v) ? array_values(array_filter($v, 'is_string')) : [];
}

function query(string $name): string
{
    $v = $_GET[$name] ?? '';
    return is_string($v) ? $v : '';
}

/** The permissions of a permission fieldset: 'all' or the ticked keys. */
function posted_permissions(string $prefix = 'perm'): string|array
{
    return post($prefix . '_mode') === 'all' ? 'all' : post_list($prefix . 's');
}

function posted_ttl(): ?int
{
    $ttl = (int) post('ttl');
    return array_key_exists($ttl, ttl_choices()) ? $ttl : null;
}

/** @return never */
function redirect(string $path): void
{
    header('Location: ' . $path, true, 303);
    exit;
}

// ---------- words ----------

function h(string|int|float|null $s): string
{
    return htmlspecialchars((string) $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}

function fmt_time(?int $t): string
{
    return $t === null ? 'Never' : gmdate('Y-m-d H:i', $t) . ' UTC';
}

/** key => label of the catalogue. */
function perm_labels(): array
{
    static $labels = null;
    return $labels ??= array_column(cohort()->permissions(), 'label', 'key');
}

function describe_permissions(string|array $p): string
{
    if ($p === 'all') {
        return 'All Permissions';
    }
    $labels = perm_labels();
    return implode(', ', array_map(static fn ($k) => $labels[$k] ?? $k, (array) $p)) ?: 'None';
}

/** A refusal of Cohort in words: what happened, then the library's own message. */
function refusal(CohortException $e): string
{
    $what = [
        'already_member' => 'Already a member',
        'pending_invite_exists' => 'Already invited',
        'pending_cap_reached' => 'Too many pending invites',
        'rate_limited' => 'Rate limit reached',
        'hook_denied' => 'Refused by the account\'s policy',
        'hook_failed' => 'Refused by the account\'s policy',
        'not_owner' => 'Not allowed',
        'forbidden' => 'Not allowed',
        'owner_protected' => 'Not possible for the owner',
        'invalid_email' => 'Invalid email address',
        'empty_permissions' => 'No permission chosen',
        'unknown_permission' => 'Unknown permission',
        'email_mismatch' => 'Wrong login',
        'invite_not_open' => 'Invite no longer open',
        'not_found' => 'Not found',
        'busy' => 'Busy, try again',
    ][$e->getStatusName()] ?? 'Refused';
    return $what . ' (' . $e->getStatusName() . '): ' . $e->getMessage();
}

/** Sends the mail of an issued invite (Cohort composes it); returns a sentence for the page. */
function mail_invite(array $issued): array
{
    $m = $issued['email'];
    try {
        mailer()->send($m['to'], $m['subject'], $m['body']);
        return ['ok', 'Invite sent to ' . $m['to'] . '.'];
    } catch (MailException $e) {
        return ['error', 'The invite to ' . $m['to'] . ' was created, but its email could not be sent ('
            . $e->getMessage() . '). Use Resend once mail works.'];
    }
}

// ---------- contacts ----------

function contact_fields_blank(): array
{
    return ['first_name' => '', 'last_name' => '', 'email' => '', 'phone' => '', 'notify' => []];
}

/** The contact form's fields, as Cohort's addContact / updateContact take them. */
function contact_fields_posted(): array
{
    return [
        'first_name' => post('first_name'),
        'last_name' => post('last_name'),
        'email' => post('email'),
        'phone' => post('phone'),
        'notify' => array_values(array_intersect(array_keys(NOTIFY_KINDS), post_list('notify'))),
    ];
}

function contact_fields_of(array $ct): array
{
    return [
        'first_name' => (string) $ct['first_name'],
        'last_name' => (string) ($ct['last_name'] ?? ''),
        'email' => (string) $ct['email'],
        'phone' => (string) ($ct['phone'] ?? ''),
        'notify' => $ct['notify'] ?? [],
    ];
}

/** Contact $id if it belongs to $account, else a 404. */
function own_contact(int $id, string $account): array
{
    try {
        $ct = cohort()->contact($id);
    } catch (NotFoundException) {
        $ct = null;
    }
    if ($ct === null || $ct['account_id'] !== $account) {
        throw new Http(404, 'There is no such contact on this account.', 'Contacts');
    }
    return $ct;
}

function contact_form_fields(array $f, string $prefix): string
{
    $p = h($prefix);
    $field = static fn (string $name, string $label, string $type, string $auto, bool $required) =>
        '<label for="' . $p . '-' . $name . '">' . h($label) . '</label>'
        . '<input type="' . $type . '" name="' . $name . '" id="' . $p . '-' . $name . '" value="' . h($f[$name]) . '"'
        . ' autocomplete="' . $auto . '" maxlength="200"' . ($required ? ' required' : '') . '>';
    $out = '<div class="grid2">'
        . '<div>' . $field('first_name', 'First Name', 'text', 'off', true) . '</div>'
        . '<div>' . $field('last_name', 'Last Name', 'text', 'off', false) . '</div>'
        . '<div>' . $field('email', 'Email Address', 'email', 'off', true) . '</div>'
        . '<div>' . $field('phone', 'Phone Number', 'tel', 'off', false) . '</div>'
        . '</div><fieldset><legend>Email Notifications</legend>';
    foreach (NOTIFY_KINDS as $kind => $label) {
        $id = $p . '-notify-' . $kind;
        $out .= '<div class="check"><input type="checkbox" name="notify[]" value="' . $kind . '" id="' . $id . '"'
            . (in_array($kind, $f['notify'], true) ? ' checked' : '') . '><label for="' . $id . '">' . h($label)
            . ' emails</label></div>';
    }
    return $out . '</fieldset>';
}

// ---------- HTML ----------

/** The radio "All Permissions" / "Choose Permissions" and one checkbox per catalogue key. */
function permission_fieldset(string|array $current, string $prefix = 'perm', string $legend = 'Permissions'): string
{
    $all = $current === 'all';
    $chosen = $all ? [] : (array) $current;
    $id = h($prefix);
    $out = '<fieldset class="perm-mode"><legend>' . h($legend) . '</legend>'
        . '<input type="radio" name="' . $id . '_mode" value="all" id="' . $id . '-all"' . ($all ? ' checked' : '') . '>'
        . '<label for="' . $id . '-all" class="inline">All Permissions</label> '
        . '<input type="radio" name="' . $id . '_mode" value="choose" id="' . $id . '-choose"' . ($all ? '' : ' checked') . '>'
        . '<label for="' . $id . '-choose" class="inline">Choose Permissions</label>'
        . '<div class="perm-list">';
    foreach (perm_labels() as $key => $label) {
        $cid = $id . '-' . h($key);
        $out .= '<div class="check"><input type="checkbox" name="' . $id . 's[]" value="' . h($key) . '" id="' . $cid . '"'
            . (in_array($key, $chosen, true) ? ' checked' : '') . '><label for="' . $cid . '">' . h($label) . '</label></div>';
    }
    return $out . '</div></fieldset>';
}

/** A one-button POST form (with the CSRF token and hidden fields). */
function button_form(string $action, string $label, array $fields = [], string $class = ''): string
{
    $out = '<form method="post" action="' . h($action) . '" class="inline">' . csrf_field();
    foreach ($fields as $k => $v) {
        $out .= '<input type="hidden" name="' . h($k) . '" value="' . h($v) . '">';
    }
    return $out . '<button type="submit"' . ($class !== '' ? ' class="' . h($class) . '"' : '') . '>' . h($label) . '</button></form>';
}

/** A one-button GET form, for buttons that lead to another page (Manage Permissions, ...). */
function link_button(string $path, string $label, array $fields = [], string $class = ''): string
{
    $out = '<form method="get" action="' . h($path) . '" class="inline">';
    foreach ($fields as $k => $v) {
        $out .= '<input type="hidden" name="' . h($k) . '" value="' . h($v) . '">';
    }
    return $out . '<button type="submit"' . ($class !== '' ? ' class="' . h($class) . '"' : '') . '>' . h($label) . '</button></form>';
}

/** Sends the page in the layout and ends the request. @return never */
function render(string $title, string $body, int $status = 200): void
{
    http_response_code($status);
    header('Content-Type: text/html; charset=utf-8');
    $me = me();
    $acct = $me !== null ? current_account() : null;
    $nav = '';
    if ($me !== null) {
        $items = ['/' => 'Dashboard'];
        if ($acct !== null) {
            if (can('users')) {
                $items['/users'] = 'User Management';
            }
            if (can('contacts')) {
                $items['/contacts'] = 'Contacts';
            }
            if (is_owner()) {
                $items['/audit'] = 'Audit';
            }
        }
        $items['/accounts'] = 'Accounts';
        foreach ($items as $href => $label) {
            $nav .= '<a href="' . h($href) . '">' . h($label) . '</a>';
        }
        $nav .= button_form('/logout', 'Logout', [], 'link');
    } else {
        $nav = '<a href="/login">Login</a><a href="/register">Register</a>';
    }
    $who = '';
    if ($me !== null) {
        $who = '<p class="who">' . h($me) . ($acct !== null
            ? ' · <a href="/accounts">' . h($acct['account_name']) . '</a>'
            : '') . '</p>';
    }
    $flashes = '';
    foreach (take_flashes() as [$kind, $text]) {
        $flashes .= '<p class="flash ' . ($kind === 'ok' ? 'ok' : 'error') . '" role="status">' . h($text) . '</p>';
    }
    echo '<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>' . h($title) . ' · Client Area</title>
<link rel="stylesheet" href="/static/panel.css">
</head>
<body>
<header class="top"><a class="brand" href="/">Client Area</a><nav>' . $nav . '</nav>' . $who . '</header>
<main>
<h1>' . h($title) . '</h1>
' . $flashes . $body . '
</main>
</body>
</html>
';
    exit;
}
