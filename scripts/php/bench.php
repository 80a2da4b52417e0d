<?php

declare(strict_types=1);

/*
 * Benchmarks from PHP, in one run, on one database:
 *
 * 1. check: Cohort\Engine::check() through FFI against a PDO SQLite point select doing the same
 *    lookup (the same indexed join Cohort runs, then the same owner / all / key decision in PHP),
 *    with a prepared statement kept across calls, as a panel would.
 * 2. token: Cohort\Engine::inspect() (signature, expiry, and the invite, account and login rows)
 *    and Cohort\Engine::verifyToken() (signature and expiry only) through FFI, against PHP's own
 *    verification of the same token with hash_hmac + hash_equals (strict canonical base64url,
 *    payload unpacked, expiry checked: everything verifyToken does, nothing inspect adds).
 *
 * 3. invite and accept: Cohort\Engine::invite() and ::acceptRegister() through FFI against what a
 *    panel developer would write by hand with PDO SQLite (WAL, the same synchronous level): an
 *    invite is an INSERT of the invite and an INSERT of an audit row in one transaction, with an
 *    hash_hmac token; an accept is a conditional UPDATE of the invite (single use), an INSERT of
 *    the login, of the membership and of an audit row in one transaction. Each side has its own
 *    database file in the same directory; batches alternate between the sides. At
 *    synchronous=FULL (the default) the fsync of each commit dominates, so wall time is the
 *    figure; at synchronous=NORMAL the CPU shows.
 *
 * Both sides of each pair answer the same questions; the run fails if they ever disagree.
 *
 *   php scripts/php/bench.php [--quick] [--markdown] [--accounts N] [--writes N]
 *
 * --quick runs a few iterations only (the test command uses it to keep this script working);
 * --markdown prints the table for docs/benchmarks.md. Set COHORT_LIBRARY to the library to use.
 */

require __DIR__ . '/autoload.php';

use Cohort\Engine;

$opts = getopt('', ['quick', 'markdown', 'accounts:', 'writes:']);
$quick = isset($opts['quick']);
$accounts = (int) ($opts['accounts'] ?? ($quick ? 50 : 5000));
$iterations = $quick ? 2_000 : 200_000;
$rounds = $quick ? 1 : 7;

// ---------- a database with $accounts accounts, each with an owner and two members ----------

$dir = sys_get_temp_dir() . '/cohort-bench-' . bin2hex(random_bytes(4));
mkdir("$dir/keys", 0700, true);
$secret = random_bytes(32);
file_put_contents("$dir/keys/k1.key", bin2hex($secret) . "\n");
chmod("$dir/keys/k1.key", 0600);
// synchronous = normal only speeds up seeding; reads are the same either way.
file_put_contents("$dir/cohort.toml", "synchronous = \"normal\"\n[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n");
register_shutdown_function(static fn () => exec('rm -rf ' . escapeshellarg($dir)));

$c = Engine::create("$dir/cohort.toml");
$t0 = hrtime(true);
$lookups = [];
$tokens = [];
$keys = array_column($c->permissions(), 'key');
for ($i = 0; $i < $accounts; $i++) {
    $acct = (string) (10000 + $i);
    $owner = "owner$i@example.com";
    $c->upsertAccount($acct, "Client $i", $owner);
    $full = $c->invite($owner, $acct, "admin$i@example.com", 'all');
    $c->acceptRegister($full['token'], "admin$i@example.com", "Admin $i");
    $some = $c->invite($owner, $acct, "billing$i@example.com", ['invoices', 'quotes', 'tickets']);
    $c->acceptRegister($some['token'], "billing$i@example.com", "Billing $i");
    if (count($tokens) < 64) {
        $tokens[] = $c->invite($owner, $acct, "pending$i@example.com", ['tickets'])['token'];
    }
    if ($i % max(1, intdiv($accounts, 64)) === 0) {
        // Owners, all-permission members, chosen-permission members (allowed and not), strangers.
        $lookups[] = [$owner, $acct, 'orders'];
        $lookups[] = ["admin$i@example.com", $acct, 'domains'];
        $lookups[] = ["billing$i@example.com", $acct, 'invoices'];
        $lookups[] = ["billing$i@example.com", $acct, 'managedomains'];
        $lookups[] = ["admin$i@example.com", (string) (10000 + ($i + 1) % $accounts), 'invoices'];
    }
}
$seedSeconds = (hrtime(true) - $t0) / 1e9;
$memberships = 3 * $accounts;

// ---------- the PHP + PDO side ----------

$pdo = new PDO("sqlite:$dir/cohort.db", null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$pdo->exec('PRAGMA busy_timeout = 5000');
$select = $pdo->prepare(
    'SELECT m.role, m.perm_all, m.perms FROM users u JOIN memberships m ON m.user_id = u.id '
    . 'WHERE u.email = ? AND m.account_id = ?'
);
$catalogue = array_flip($keys);

$pdoCheck = static function (string $email, string $account, string $key) use ($select, $catalogue): bool {
    if (!isset($catalogue[$key])) {
        throw new InvalidArgumentException("unknown permission $key");
    }
    $select->execute([strtolower(trim($email)), $account]);
    $row = $select->fetch(PDO::FETCH_NUM);
    $select->closeCursor();
    if ($row === false) {
        return false;
    }
    if ($row[0] === 'owner' || (int) $row[1] === 1) {
        return true;
    }
    return in_array($key, explode(',', $row[2]), true);
};

/** PHP's own verification of a cohort1 token: what verifyToken() does, with hash_hmac. */
$phpVerify = static function (string $token) use ($secret): ?array {
    if (strlen($token) > 512) {
        return null;
    }
    $parts = explode('.', $token);
    if (count($parts) !== 4 || $parts[0] !== 'cohort1' || $parts[1] !== 'k1') {
        return null;
    }
    $b64 = static function (string $s): ?string {
        if (!preg_match('/\A[A-Za-z0-9_-]*\z/', $s) || strlen($s) % 4 === 1) {
            return null;
        }
        $bin = base64_decode(strtr($s, '-_', '+/'), true);
        if ($bin === false || rtrim(strtr(base64_encode($bin), '+/', '-_'), '=') !== $s) {
            return null;
        }
        return $bin;
    };
    $payload = $b64($parts[2]);
    $mac = $b64($parts[3]);
    if ($payload === null || $mac === null || strlen($payload) < 41 || strlen($mac) !== 32) {
        return null;
    }
    $expected = hash_hmac('sha256', "cohort-invite-v1\ncohort1.k1." . $parts[2], $secret, true);
    if (!hash_equals($expected, $mac)) {
        return null;
    }
    $f = unpack('Jinvite_id/Jissued_at/Jexpires_at', $payload);
    $now = time();
    if ($now >= $f['expires_at'] || $f['expires_at'] <= $f['issued_at'] || $f['issued_at'] > $now + 60) {
        return null;
    }
    return [
        'invite_id' => $f['invite_id'],
        'issued_at' => $f['issued_at'],
        'expires_at' => $f['expires_at'],
        'account_id' => substr($payload, 40),
    ];
};

// ---------- both sides agree ----------

foreach ($lookups as [$e, $a, $k]) {
    if ($c->check($a, $e, $k) !== $pdoCheck($e, $a, $k)) {
        fwrite(STDERR, "check disagrees on $e $a $k\n");
        exit(1);
    }
}
foreach ($tokens as $t) {
    $mine = $phpVerify($t);
    $theirs = $c->verifyToken($t);
    if ($mine === null || $mine['invite_id'] !== $theirs['invite_id'] || $mine['expires_at'] !== $theirs['expires_at']) {
        fwrite(STDERR, "token verification disagrees on $t\n");
        exit(1);
    }
    if ($c->inspect($t)['valid'] !== true) {
        fwrite(STDERR, "inspect says $t is not valid\n");
        exit(1);
    }
}
$tampered = substr($tokens[0], 0, -2) . (substr($tokens[0], -2, 1) === 'A' ? 'B' : 'A') . substr($tokens[0], -1);
if ($phpVerify($tampered) !== null || $c->inspect($tampered)['valid'] !== false) {
    fwrite(STDERR, "a tampered token passed\n");
    exit(1);
}

// ---------- timing ----------

/** CPU time (user + system) of this process so far, in ns. */
function cpu_ns(): float
{
    $u = getrusage();
    return ($u['ru_utime.tv_sec'] + $u['ru_stime.tv_sec']) * 1e9
        + ($u['ru_utime.tv_usec'] + $u['ru_stime.tv_usec']) * 1e3;
}

/**
 * Median ns per call of each candidate [fn, inputs, calls], as ['cpu' => ..., 'wall' => ...].
 * Rounds are interleaved (A, B, C, A, B, C, ...) so that a busy machine slows every side alike;
 * CPU time (getrusage) is what the ratios use, as it does not count time spent waiting for a core.
 */
function measure(array $candidates, int $rounds): array
{
    $samples = array_fill_keys(array_keys($candidates), ['cpu' => [], 'wall' => []]);
    for ($r = 0; $r < $rounds; $r++) {
        foreach ($candidates as $name => [$fn, $inputs, $n]) {
            $count = count($inputs);
            $cpu = cpu_ns();
            $wall = hrtime(true);
            for ($i = 0; $i < $n; $i++) {
                $fn(...$inputs[$i % $count]);
            }
            $samples[$name]['wall'][] = (hrtime(true) - $wall) / $n;
            $samples[$name]['cpu'][] = (cpu_ns() - $cpu) / $n;
        }
    }
    $median = static function (array $s): float {
        sort($s);
        return $s[intdiv(count($s), 2)];
    };
    return array_map(static fn (array $s) => ['cpu' => $median($s['cpu']), 'wall' => $median($s['wall'])], $samples);
}

$tokenInputs = array_map(static fn ($t) => [$t], $tokens);
// Each side gets its own argument order: check(account, email, key), $pdoCheck(email, account, key).
$checkInputs = array_map(static fn (array $l) => [$l[1], $l[0], $l[2]], $lookups);
$results = measure([
    'check_ffi' => [[$c, 'check'], $checkInputs, $iterations],
    'check_pdo' => [$pdoCheck, $lookups, $iterations],
    'verify_ffi' => [[$c, 'verifyToken'], $tokenInputs, $iterations],
    'verify_php' => [$phpVerify, $tokenInputs, $iterations],
    'inspect_ffi' => [[$c, 'inspect'], $tokenInputs, intdiv($iterations, 4)],
], $rounds);

// ---------- invite and accept: Cohort against hand-written PDO ----------

$writes = (int) ($opts['writes'] ?? ($quick ? 40 : 2_000));
$batch = $quick ? 10 : 100;
$writeAccounts = 50;

/** A fresh Cohort directory at $sync with $writeAccounts accounts. */
$cohortSide = static function (string $sync) use ($dir, $writeAccounts): array {
    $d = "$dir/w-cohort-$sync";
    mkdir("$d/keys", 0700, true);
    file_put_contents("$d/keys/k1.key", bin2hex(random_bytes(32)) . "\n");
    chmod("$d/keys/k1.key", 0600);
    file_put_contents("$d/cohort.toml", "synchronous = \"$sync\"\nmax_invites_per_day = 1000000\n"
        . "max_invites_per_inviter_per_day = 1000000\nmax_pending_invites = 1000000\n"
        . "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n");
    $e = Engine::create("$d/cohort.toml");
    for ($a = 0; $a < $writeAccounts; $a++) {
        $e->upsertAccount((string) (500 + $a), "Client $a", "wowner$a@example.com");
    }
    return [$e];
};

/** The same on PDO, as a panel developer would write it: schema, invite, accept. */
$pdoSide = static function (string $sync) use ($dir, $writeAccounts): array {
    $db = new PDO("sqlite:$dir/w-pdo-$sync.db", null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $db->exec('PRAGMA journal_mode = WAL');
    $db->exec('PRAGMA synchronous = ' . strtoupper($sync));
    $db->exec('PRAGMA busy_timeout = 5000');
    $db->exec('PRAGMA foreign_keys = ON');
    $db->exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at INTEGER NOT NULL)');
    $db->exec('CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id INTEGER NOT NULL REFERENCES users(id))');
    $db->exec('CREATE TABLE memberships (account_id TEXT NOT NULL REFERENCES accounts(id), user_id INTEGER NOT NULL REFERENCES users(id), perms TEXT NOT NULL, PRIMARY KEY (account_id, user_id))');
    $db->exec("CREATE TABLE invites (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL, perms TEXT NOT NULL, invited_by INTEGER NOT NULL REFERENCES users(id), token_hash BLOB NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending')");
    $db->exec('CREATE INDEX invites_by_account ON invites (account_id, status)');
    $db->exec('CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, account_id TEXT, action TEXT NOT NULL, detail TEXT)');
    $db->exec('CREATE INDEX audit_by_account ON audit (account_id, at)');
    for ($a = 0; $a < $writeAccounts; $a++) {
        $db->prepare('INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)')->execute(["wowner$a@example.com", '', time()]);
        $db->prepare('INSERT INTO accounts (id, name, owner_id) VALUES (?, ?, ?)')->execute([(string) (500 + $a), "Client $a", $db->lastInsertId()]);
    }
    return [$db, random_bytes(32)];
};

/**
 * An invite by hand: the owner check, the invite row and an audit row in one transaction, and a
 * hash_hmac token. $cohortSchema: into Cohort's own tables (see $schemaSide), whose rows have
 * more columns; otherwise into the plain schema of $pdoSide.
 */
$pdoInvite = static function (PDO $db, string $secret, string $owner, string $account, string $email, array $perms, bool $cohortSchema = false): string {
    static $ownerQ = [], $ins = [], $aud = [];
    $k = spl_object_id($db);
    $ownerQ[$k] ??= $db->prepare('SELECT u.id FROM accounts a JOIN users u ON u.id = a.owner_id WHERE a.id = ? AND u.email = ?');
    $ins[$k] ??= $db->prepare($cohortSchema
        ? "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, expires_at, status, times_sent, last_sent_at, token_hash) VALUES (?, ?, 0, ?, ?, ?, ?, 'pending', 1, ?, ?)"
        : 'INSERT INTO invites (account_id, email, perms, invited_by, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    $aud[$k] ??= $db->prepare($cohortSchema
        ? "INSERT INTO audit (at, actor, account_id, action, target, old_value, new_value) VALUES (?, ?, ?, 'invite.create', ?, NULL, ?)"
        : 'INSERT INTO audit (at, actor, account_id, action, detail) VALUES (?, ?, ?, ?, ?)');
    $now = time();
    $nonce = random_bytes(16);
    $hash = hash('sha256', $nonce, true);
    $keys = implode(',', $perms);
    $db->exec('BEGIN IMMEDIATE');
    $ownerQ[$k]->execute([$account, $owner]);
    $ownerId = $ownerQ[$k]->fetchColumn();
    $ownerQ[$k]->closeCursor();
    if ($ownerId === false) {
        $db->exec('ROLLBACK');
        throw new RuntimeException("$owner does not own $account");
    }
    $ins[$k]->execute($cohortSchema
        ? [$account, strtolower($email), $keys, $ownerId, $now, $now + 7 * 86400, $now, $hash]
        : [$account, strtolower($email), $keys, $ownerId, $hash, $now, $now + 7 * 86400]);
    $id = (int) $db->lastInsertId();
    $aud[$k]->execute($cohortSchema
        ? [$now, $owner, $account, strtolower($email), $keys]
        : [$now, $owner, $account, 'invite.create', "$email $keys"]);
    $db->exec('COMMIT');
    $body = pack('JJJ', $id, $now, $now + 7 * 86400) . $nonce . $account;
    $b64 = rtrim(strtr(base64_encode($body), '+/', '-_'), '=');
    $mac = hash_hmac('sha256', "cohort-invite-v1\ncohort1.k1.$b64", $secret, true);
    return "cohort1.k1.$b64." . rtrim(strtr(base64_encode($mac), '+/', '-_'), '=');
};

/**
 * The floor of Cohort's own invite: a Cohort database (its schema and indexes, made by
 * Engine::create) written by hand with PDO: $pdoInvite with $cohortSchema, the same owner check,
 * invite row and audit row, nothing else (no rules, no rate limits, no email). What the pages of
 * Cohort's schema cost, whoever writes them.
 */
$schemaSide = static function (string $sync) use ($dir, $writeAccounts): PDO {
    $d = "$dir/w-schema-$sync";
    mkdir("$d/keys", 0700, true);
    file_put_contents("$d/keys/k1.key", bin2hex(random_bytes(32)) . "\n");
    chmod("$d/keys/k1.key", 0600);
    file_put_contents("$d/cohort.toml", "synchronous = \"$sync\"\n[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n");
    $e = Engine::create("$d/cohort.toml");
    for ($a = 0; $a < $writeAccounts; $a++) {
        $e->upsertAccount((string) (500 + $a), "Client $a", "wowner$a@example.com");
    }
    $e->close();
    $db = new PDO("sqlite:$d/cohort.db", null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $db->exec('PRAGMA synchronous = ' . strtoupper($sync));
    $db->exec('PRAGMA busy_timeout = 5000');
    return $db;
};

$pdoAccept = static function (PDO $db, string $secret, string $token, string $email, string $name): void {
    static $upd = [], $user = [], $mem = [], $aud = [];
    $k = spl_object_id($db);
    [, , $b64, $macB64] = explode('.', $token);
    $mac = base64_decode(strtr($macB64, '-_', '+/'));
    if (!hash_equals(hash_hmac('sha256', "cohort-invite-v1\ncohort1.k1.$b64", $secret, true), $mac)) {
        throw new RuntimeException('bad token');
    }
    $body = base64_decode(strtr($b64, '-_', '+/'));
    $f = unpack('Jid/Jissued/Jexpires', $body);
    $hash = hash('sha256', substr($body, 24, 16), true);
    $upd[$k] ??= $db->prepare("UPDATE invites SET status = 'accepted' WHERE id = ? AND status = 'pending' AND expires_at > ? AND token_hash = ? RETURNING account_id, perms");
    $user[$k] ??= $db->prepare('INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)');
    $mem[$k] ??= $db->prepare('INSERT INTO memberships (account_id, user_id, perms) VALUES (?, ?, ?)');
    $aud[$k] ??= $db->prepare('INSERT INTO audit (at, actor, account_id, action, detail) VALUES (?, ?, ?, ?, ?)');
    $now = time();
    $db->exec('BEGIN IMMEDIATE');
    $upd[$k]->execute([$f['id'], $now, $hash]);
    $row = $upd[$k]->fetch(PDO::FETCH_NUM);
    $upd[$k]->closeCursor();
    if ($row === false) {
        $db->exec('ROLLBACK');
        throw new RuntimeException('invite not open');
    }
    $user[$k]->execute([strtolower($email), $name, $now]);
    $mem[$k]->execute([$row[0], (int) $db->lastInsertId(), $row[1]]);
    $aud[$k]->execute([$now, $email, $row[0], 'invite.accept', $row[1]]);
    $db->exec('COMMIT');
};

/**
 * Median ns per operation of each side over interleaved batches (A B A B ..., the order of each
 * pair alternating), CPU and wall, for invites then for accepts of those invites.
 */
$writePair = static function (string $sync) use ($cohortSide, $pdoSide, $schemaSide, $pdoInvite, $pdoAccept, $writes, $batch, $writeAccounts): array {
    [$e] = $cohortSide($sync);
    [$db, $secret] = $pdoSide($sync);
    $schemaDb = $schemaSide($sync);
    $perms = ['invoices', 'tickets'];
    $tokens = ['cohort' => [], 'pdo' => []];
    $sides = [
        'cohort' => static function (int $n) use ($e, $perms, &$tokens, $writeAccounts): void {
            $a = $n % $writeAccounts;
            $tokens['cohort'][] = [$e->invite("wowner$a@example.com", (string) (500 + $a), "c$n@invitee.example", $perms)['token'], "c$n@invitee.example"];
        },
        'pdo' => static function (int $n) use ($db, $secret, $perms, $pdoInvite, &$tokens, $writeAccounts): void {
            $a = $n % $writeAccounts;
            $tokens['pdo'][] = [$pdoInvite($db, $secret, "wowner$a@example.com", (string) (500 + $a), "p$n@invitee.example", $perms), "p$n@invitee.example"];
        },
        'schema' => static function (int $n) use ($schemaDb, $secret, $perms, $pdoInvite, $writeAccounts): void {
            $a = $n % $writeAccounts;
            $pdoInvite($schemaDb, $secret, "wowner$a@example.com", (string) (500 + $a), "s$n@invitee.example", $perms, true);
        },
    ];
    $accepts = [
        'cohort' => static function (int $n) use ($e, &$tokens): void {
            [$t, $email] = $tokens['cohort'][$n];
            $e->acceptRegister($t, $email, "Invitee $n");
        },
        'pdo' => static function (int $n) use ($db, $secret, $pdoAccept, &$tokens): void {
            [$t, $email] = $tokens['pdo'][$n];
            $pdoAccept($db, $secret, $t, $email, "Invitee $n");
        },
    ];
    $run = static function (array $fns) use ($writes, $batch): array {
        $samples = array_fill_keys(array_keys($fns), ['cpu' => [], 'wall' => []]);
        $next = array_fill_keys(array_keys($fns), 0);
        for ($b = 0; $b * $batch < $writes; $b++) {
            $order = $b % 2 === 0 ? array_keys($fns) : array_reverse(array_keys($fns));
            foreach ($order as $side) {
                $cpu = cpu_ns();
                $wall = hrtime(true);
                for ($i = 0; $i < $batch; $i++) {
                    $fns[$side]($next[$side]++);
                }
                $samples[$side]['wall'][] = (hrtime(true) - $wall) / $batch;
                $samples[$side]['cpu'][] = (cpu_ns() - $cpu) / $batch;
            }
        }
        $median = static function (array $s): float {
            sort($s);
            return $s[intdiv(count($s), 2)];
        };
        return array_map(static fn (array $s) => ['cpu' => $median($s['cpu']), 'wall' => $median($s['wall'])], $samples);
    };
    $inv = $run($sides);
    $acc = $run($accepts);
    // Both sides did the same work: every invitee is a member now.
    $members = (int) $db->query("SELECT count(*) FROM memberships")->fetchColumn();
    $cohortMembers = 0;
    for ($a = 0; $a < $writeAccounts; $a++) {
        $cohortMembers += count($e->members((string) (500 + $a))) - 1;
    }
    if ($members !== count($tokens['pdo']) || $cohortMembers !== count($tokens['cohort'])) {
        fwrite(STDERR, "write pair ($sync): members $cohortMembers (Cohort) / $members (PDO) after " . count($tokens['cohort']) . " accepts\n");
        exit(1);
    }
    return ['invite' => $inv, 'accept' => $acc];
};
$writeResults = ['full' => $writePair('full'), 'normal' => $writePair('normal')];

$us = static fn (array $r): string => sprintf('%.2f µs', $r['cpu'] / 1000);
$wall = static fn (array $r): string => sprintf('%.2f µs', $r['wall'] / 1000);
$ratio = static fn (array $slow, array $fast): string => sprintf('%.1f×', $slow['cpu'] / $fast['cpu']);
$rows = [
    ['`check` through FFI (`Engine::check`)', $results['check_ffi'], $ratio($results['check_pdo'], $results['check_ffi']) . ' faster than PDO'],
    ['the same lookup with PDO SQLite (prepared point select + the same decision in PHP)', $results['check_pdo'], ''],
    ['token verify through FFI (`Engine::verifyToken`: signature + expiry)', $results['verify_ffi'], $ratio($results['verify_php'], $results['verify_ffi']) . ' faster than PHP'],
    ['token inspect through FFI (`Engine::inspect`: verify + invite, account and login rows)', $results['inspect_ffi'], sprintf('%.1f× the time of PHP', $results['inspect_ffi']['cpu'] / $results['verify_php']['cpu'])],
    ['the same token verified in PHP (`hash_hmac` + `hash_equals`, strict base64url)', $results['verify_php'], ''],
];
$speed = static fn (array $pdo, array $cohort, string $by): string => sprintf('%.2f× the speed of PDO (%s)', $pdo[$by] / $cohort[$by], $by === 'wall' ? 'wall' : 'CPU');
foreach (['full' => 'wall', 'normal' => 'cpu'] as $sync => $by) {
    foreach (['invite' => 'invite (`Engine::invite`)', 'accept' => 'accept by registering (`Engine::acceptRegister`)'] as $op => $label) {
        $r = $writeResults[$sync][$op];
        $rows[] = ["$label at synchronous=" . strtoupper($sync), $r['cohort'], $speed($r['pdo'], $r['cohort'], $by)];
        $rows[] = ["the same $op hand-written with PDO at synchronous=" . strtoupper($sync), $r['pdo'], ''];
        if ($op === 'invite') {
            $rows[] = ["the same invite's rows by hand with PDO into Cohort's schema at synchronous=" . strtoupper($sync), $r['schema'], $speed($r['pdo'], $r['schema'], $by)];
        }
    }
}

$setup = sprintf(
    'PHP %s, Cohort %s, %d accounts / %d memberships / %d users, %s calls × %d interleaved rounds (median), seeded in %.1f s',
    PHP_VERSION,
    Engine::version(),
    $accounts,
    $memberships,
    $memberships,
    number_format($iterations),
    $rounds,
    $seedSeconds
);
if (isset($opts['markdown'])) {
    echo "$setup.\n\n| operation | CPU per call | wall per call | ratio (CPU) |\n|---|---:|---:|---|\n";
    foreach ($rows as [$what, $r, $cmp]) {
        echo "| $what | {$us($r)} | {$wall($r)} | $cmp |\n";
    }
} else {
    echo "$setup\n";
    printf("  %-88s %12s %12s  %s\n", 'operation', 'CPU/call', 'wall/call', 'ratio (CPU)');
    foreach ($rows as [$what, $r, $cmp]) {
        printf("  %-88s %12s %12s  %s\n", $what, $us($r), $wall($r), $cmp);
    }
}
