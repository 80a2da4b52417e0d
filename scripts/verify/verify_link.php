<?php
// Verify a Cohort invite link (token format cohort1) with the shared key; PHP standard library only
// (PHP 8.0 or later, 64-bit).
//
// The format is specified in docs/token-format.md. A valid signature says the link was issued by
// whoever holds the key, and that it has not expired; only Cohort's database knows whether the
// invite is still pending (not used, cancelled or sent again).
//
//   php verify_link.php --key k1=HEX [--key k2=HEX ...] [--now T] [--skew S] LINK_OR_TOKEN
//   php verify_link.php --key-file /etc/cohort/keys/k1.key ... LINK_OR_TOKEN   (kid = file stem)
//   php verify_link.php --vectors tests/vectors/tokens.json                     (self-test)
//
// Prints the claims as JSON and exits 0 when valid; prints "invalid: REASON" and exits 1 when not;
// exits 2 on a usage error. T is Unix seconds or 2026-11-29T10:00:00Z; S is seconds, 0 to 3600
// (default 60).
//
// PHP's base64_decode() skips characters it does not know, even in strict mode it skips
// whitespace, and it ignores set trailing bits. So the text is checked against the alphabet
// first and must re-encode to itself: that is what rejects every non-canonical form.

declare(strict_types=1);

const LABEL = "cohort-invite-v1\n";
const MAX_LEN = 512;
const MAX_LIFETIME = 366 * 86400;  // the longest invite_ttl: Cohort never signs a longer-lived token
const MAX_SKEW = 3600;
const WHITESPACE = " \t\n\r\f";  // what is trimmed around a link and around a key file's hex
const KEY_ID = '/\A[A-Za-z0-9_-]{1,32}\z/';
const HEX_SECRET = '/\A[ \t\n\r\f]*((?:[0-9a-fA-F]{2}){32,})[ \t\n\r\f]*\z/';

final class Invalid extends Exception {}  // getMessage() is the reason, e.g. "bad_signature"
final class Usage extends Exception {}

function b64url_decode(string $text): string
{
    if (!preg_match('/\A[A-Za-z0-9_-]*\z/', $text) || strlen($text) % 4 === 1) {
        throw new Invalid('non_canonical');
    }
    $data = base64_decode(strtr($text, '-_', '+/'), true);
    if ($data === false || rtrim(strtr(base64_encode($data), '+/', '-_'), '=') !== $text) {
        throw new Invalid('non_canonical');  // e.g. unused low bits of the last character set
    }
    return $data;
}

/**
 * The `token` query parameter, else the last path segment, else the text itself.
 * Throws Invalid('malformed') when the query has more than one `token` parameter.
 */
function extract_token(string $link): string
{
    $s = trim($link, WHITESPACE);
    $noFragment = explode('#', $s, 2)[0];
    $q = strpos($noFragment, '?');
    if ($q !== false) {
        $found = [];
        foreach (explode('&', substr($noFragment, $q + 1)) as $param) {
            if (str_starts_with($param, 'token=')) {
                $found[] = substr($param, strlen('token='));
            }
        }
        if (count($found) > 1) {
            throw new Invalid('malformed');
        }
        if ($found) {
            return $found[0];
        }
    }
    if (str_contains($s, '/')) {
        $path = rtrim($noFragment, '/');
        $slash = strrpos($path, '/');
        $last = $slash === false ? $path : substr($path, $slash + 1);
        return preg_split('/[?&]/', $last, 2)[0];
    }
    return $s;
}

/**
 * Returns the claims of a valid token or throws Invalid(reason). $keys: kid => secret bytes.
 * invite_id is a decimal string: it is unsigned 64-bit, wider than PHP's int.
 * Throws ValueError when $skew is outside 0 to MAX_SKEW seconds.
 */
function verify(string $token, array $keys, int $now, int $skew = 60): array
{
    if ($skew < 0 || $skew > MAX_SKEW) {
        throw new ValueError("skew $skew s is outside 0 to " . MAX_SKEW . ' s (1 hour)');
    }
    if ($token === '') {
        throw new Invalid('empty');
    }
    if (strlen($token) > MAX_LEN) {
        throw new Invalid('too_long');
    }
    if (preg_match('/[^\x00-\x7F]/', $token)) {
        throw new Invalid('non_ascii');
    }
    $fields = explode('.', $token);
    if (count($fields) !== 4) {
        throw new Invalid('malformed');
    }
    [$version, $kid, $payloadText, $macText] = $fields;
    if ($version !== 'cohort1') {
        throw new Invalid('wrong_version');
    }
    if (!preg_match(KEY_ID, $kid)) {
        throw new Invalid('malformed');
    }
    $payload = b64url_decode($payloadText);
    $mac = b64url_decode($macText);
    if (strlen($mac) !== 32 || strlen($payload) < 41 || strlen($payload) > 40 + 128) {
        throw new Invalid('malformed');
    }
    if (!array_key_exists($kid, $keys)) {
        throw new Invalid('unknown_key');
    }
    $signed = "$version.$kid.$payloadText";
    if (!hash_equals(hash_hmac('sha256', LABEL . $signed, $keys[$kid], true), $mac)) {
        throw new Invalid('bad_signature');
    }
    // 'J' is unsigned 64-bit big-endian; PHP stores it in a signed int, which is exactly the
    // two's-complement reading the i64 times need. The u64 invite id is printed with %u.
    $n = unpack('Jid/Jiat/Jexp', $payload);
    $account = substr($payload, 40);
    if (!preg_match('//u', $account)) {
        throw new Invalid('malformed');  // not UTF-8
    }
    $claims = [
        'key_id' => $kid,
        'invite_id' => sprintf('%u', $n['id']),
        'issued_at' => $n['iat'],
        'expires_at' => $n['exp'],
        'account_id' => $account,
    ];
    // The lifetime must be 1 s to 366 days. expires_at - issued_at can overflow PHP's int (it
    // would turn into a float), so the test is expires_at - MAX_LIFETIME > issued_at, which
    // cannot: below PHP_INT_MIN + MAX_LIFETIME, no lifetime can reach the maximum.
    [$iat, $exp] = [$claims['issued_at'], $claims['expires_at']];
    if ($exp <= $iat || ($exp >= PHP_INT_MIN + MAX_LIFETIME && $exp - MAX_LIFETIME > $iat)) {
        throw new Invalid('malformed');
    }
    if ($now >= $claims['expires_at']) {
        throw new Invalid('expired');
    }
    if ($claims['issued_at'] > $now + $skew) {
        throw new Invalid('not_yet_valid');
    }
    return $claims;
}

function claims_json(array $c): string
{
    $s = fn($v) => json_encode($v, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    return sprintf(
        '{"key_id": %s, "invite_id": %s, "issued_at": %d, "expires_at": %d, "account_id": %s}',
        $s($c['key_id']), $c['invite_id'], $c['issued_at'], $c['expires_at'], $s($c['account_id'])
    );
}

/**
 * A key file's text (or a --key value): hex digits of either case, an even number and at least
 * 64, with nothing else but spaces, tabs, CR, LF and form feeds around them.
 */
function parse_secret(string $kid, string $text): string
{
    if (!preg_match(KEY_ID, $kid)) {
        throw new Usage("key id '$kid' is not 1-32 characters of A-Z a-z 0-9 _ -");
    }
    if (!preg_match(HEX_SECRET, $text, $m)) {
        throw new Usage("key $kid: a secret is an even number of hex digits (0-9 a-f A-F), "
            . 'at least 64, with nothing else but surrounding whitespace');
    }
    return hex2bin($m[1]);
}

function parse_skew(string $text): int
{
    if (!preg_match('/\A[0-9]+\z/', $text) || (int) $text > MAX_SKEW) {
        throw new Usage("--skew '$text': expected whole seconds, at most " . MAX_SKEW . ' (1 hour)');
    }
    return (int) $text;
}

function parse_time(string $text): int
{
    if (preg_match('/\A-?[0-9]+\z/', $text)) {
        return (int) $text;
    }
    $t = DateTimeImmutable::createFromFormat('!Y-m-d\TH:i:s\Z', $text, new DateTimeZone('UTC'));
    if ($t === false) {
        throw new Usage("--now '$text': expected Unix seconds or 2026-11-29T10:00:00Z");
    }
    return $t->getTimestamp();
}

/** Checks this verifier against every vector, link and HMAC case of a vectors file. */
function self_test(string $path): int
{
    $v = json_decode(file_get_contents($path), true, 512, JSON_BIGINT_AS_STRING | JSON_THROW_ON_ERROR);
    $failures = [];
    $count = 0;
    foreach ($v['hmac_sha256'] as $case) {
        $count++;
        if (hash_hmac('sha256', hex2bin($case['data']), hex2bin($case['key'])) !== $case['mac']) {
            $failures[] = $case['name'];
        }
    }
    $keys = array_map('hex2bin', $v['keys']);
    foreach ($v['vectors'] as $vec) {
        $count++;
        try {
            $got = array_map('strval', verify($vec['token'], $keys, $v['now'], $v['skew']));
        } catch (Invalid $e) {
            $got = $e->getMessage();
        }
        $want = $vec['valid'] ? array_map('strval', $vec['claims']) : $vec['reason'];
        if ($got !== $want) {
            $failures[] = "{$vec['name']}: got " . json_encode($got);
        }
    }
    foreach ($v['links'] as $link) {
        $count++;
        try {
            $got = ['token', extract_token($link['link'])];
        } catch (Invalid $e) {
            $got = ['reason', $e->getMessage()];
        }
        $want = array_key_exists('token', $link) ? ['token', $link['token']] : ['reason', $link['reason']];
        if ($got !== $want) {
            $failures[] = "link {$link['name']}: got " . json_encode($got);
        }
    }
    foreach ($v['key_files'] as $case) {
        $count++;
        try {
            $got = bin2hex(parse_secret('k1', $case['text']));
        } catch (Usage $e) {
            $got = null;
        }
        if ($got !== ($case['accepted'] ? $case['secret'] : null)) {
            $failures[] = "key file {$case['name']}: got " . json_encode($got);
        }
    }
    foreach ($failures as $f) {
        echo "FAIL $f\n";
    }
    printf("php verifier: %d passed, %d failed\n", $count - count($failures), count($failures));
    return $failures ? 1 : 0;
}

function main(array $args): int
{
    if (PHP_INT_SIZE < 8) {
        fwrite(STDERR, "verify_link.php: needs a 64-bit PHP (the times are 64-bit integers)\n");
        return 2;
    }
    $keys = [];
    $now = time();
    $skew = 60;
    $link = null;
    try {
        while ($args) {
            $arg = array_shift($args);
            $value = function () use (&$args, $arg): string {
                if (!$args) {
                    throw new Usage("$arg needs a value");
                }
                return array_shift($args);
            };
            if ($arg === '--vectors') {
                return self_test($value());
            } elseif ($arg === '--key') {
                [$kid, $hex] = array_pad(explode('=', $value(), 2), 2, '');
                $keys[$kid] = parse_secret($kid, $hex);
            } elseif ($arg === '--key-file') {
                $path = $value();
                $hex = @file_get_contents($path);
                if ($hex === false) {
                    throw new Usage("cannot read $path");
                }
                $kid = pathinfo($path, PATHINFO_FILENAME);
                $keys[$kid] = parse_secret($kid, $hex);
            } elseif ($arg === '--now') {
                $now = parse_time($value());
            } elseif ($arg === '--skew') {
                $skew = parse_skew($value());
            } elseif ($link === null && ($arg === '' || $arg[0] !== '-' || $arg === '-')) {
                $link = $arg;
            } else {
                throw new Usage("unexpected argument '$arg'");
            }
        }
        if ($link === null || !$keys) {
            throw new Usage('give at least one --key or --key-file, and a link');
        }
    } catch (Usage $e) {
        fwrite(STDERR, "verify_link.php: {$e->getMessage()}\n");
        return 2;
    }
    try {
        echo claims_json(verify(extract_token($link), $keys, $now, $skew)), "\n";
        return 0;
    } catch (Invalid $e) {
        echo "invalid: {$e->getMessage()}\n";
        return 1;
    }
}

exit(main(array_slice($argv, 1)));
