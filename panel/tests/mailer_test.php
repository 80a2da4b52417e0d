<?php

declare(strict_types=1);

/*
 * php panel/tests/mailer_test.php: the panel's Mailer without a browser. The message it
 * composes (multipart/alternative, quoted-printable text and HTML, encoded subject), the .eml
 * files it writes without a server, and its SMTP client against a one-connection server forked
 * here (dot-stuffing, the envelope, a refusal). Run by panel/tests/browser_test.py.
 */

require dirname(__DIR__) . '/src/Mailer.php';

use Panel\MailException;
use Panel\Mailer;

$passed = 0;
$failed = 0;
function ok(bool $cond, string $what): void
{
    global $passed, $failed;
    if ($cond) {
        $passed++;
    } else {
        $failed++;
        fwrite(STDERR, "mailer_test: FAILED: $what\n");
    }
}

/** The decoded parts of a message: [headers text, [content type => body]]. */
function parts(string $message): array
{
    [$head, $body] = explode("\r\n\r\n", $message, 2);
    preg_match('/boundary="([^"]+)"/', $head, $m);
    $out = [];
    foreach (explode('--' . $m[1], $body) as $chunk) {
        if (preg_match('/Content-Type: ([a-z\/]+);.*?\r\n\r\n(.*)$/s', $chunk, $p) === 1) {
            $out[$p[1]] = quoted_printable_decode(rtrim($p[2], "\r\n"));
        }
    }
    return [$head, $out];
}

$text = "Hello,\n\nOlivia <olivia@acme.example> invited you.\n.a line that starts with a dot\n\n"
    . "https://panel.example/accept?token=cohort1.k1.abc&x=1\n" . str_repeat('long ', 40) . "é\n";
$msg = Mailer::compose('Acme <no-reply@acme.example>', 'dev@acme.example', "Äcme Ltd has invited you\r\nBcc: x@evil.example", $text);
[$head, $p] = parts($msg);
ok(str_contains($head, "Content-Type: multipart/alternative;\r\n boundary="), 'multipart/alternative');
ok(isset($p['text/plain'], $p['text/html']), 'a text and an HTML part');
ok(($p['text/plain'] ?? '') === rtrim(str_replace("\n", "\r\n", $text)), 'the text part decodes to the text (CRLF line ends)');
ok(!preg_match('/^[^\r\n]{77,}/m', $msg), 'no line over 76 characters');
ok(str_contains($p['text/html'] ?? '', '&lt;olivia@acme.example&gt;'), 'the HTML part escapes the text');
ok(str_contains($p['text/html'] ?? '', '<a href="https://panel.example/accept?token=cohort1.k1.abc&amp;x=1">'), 'the HTML part links the URL');
ok(preg_match('/^Subject: =\?UTF-8\?B\?/m', $head) === 1, 'a non-ASCII subject is encoded');
ok(iconv_mime_decode(preg_match('/^Subject: ([^\r\n]*(?:\r\n [^\r\n]*)*)/m', $head, $s) ? $s[1] : '', 0, 'UTF-8')
    === 'Äcme Ltd has invited you Bcc: x@evil.example', 'the subject decodes, on one line (no header injection)');
ok(preg_match('/^Bcc:/mi', $head) === 0, 'no header smuggled in through the subject');

// Without a server: .eml files.
$dir = sys_get_temp_dir() . '/mailer-test-' . bin2hex(random_bytes(4));
$where = (new Mailer('', $dir, 'Acme <no-reply@acme.example>'))->send('dev@acme.example', 'Hi', "Body\n");
ok(is_file($where) && str_ends_with($where, '.eml') && dirname($where) === $dir, '.eml written into the mail directory');
ok(str_contains((string) @file_get_contents($where), "To: dev@acme.example\r\n"), 'the .eml is the message');
array_map('unlink', glob("$dir/*") ?: []);
@rmdir($dir);

// SMTP: one connection to a server forked here, which records what it gets.
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$port = (int) substr(strrchr(stream_socket_get_name($server, false), ':'), 1);
$record = tempnam(sys_get_temp_dir(), 'smtp');
$pid = pcntl_fork();
if ($pid === 0) {
    $c = stream_socket_accept($server, 10);
    $say = static fn (string $l) => fwrite($c, $l . "\r\n");
    $say('220 test ESMTP');
    $log = '';
    $inData = false;
    while (($line = fgets($c)) !== false) {
        $log .= $line;
        if ($inData) {
            if ($line === ".\r\n") {
                $inData = false;
                $say('250 queued');
            }
            continue;
        }
        $cmd = strtoupper(substr($line, 0, 4));
        if ($cmd === 'EHLO') {
            $say('250-test');
            $say('250 8BITMIME');
        } elseif ($cmd === 'RCPT' && str_contains($line, 'refused@')) {
            $say('550 no such user');
        } elseif ($cmd === 'DATA') {
            $inData = true;
            $say('354 go on');
        } elseif ($cmd === 'QUIT') {
            $say('221 bye');
            break;
        } else {
            $say('250 ok');
        }
    }
    file_put_contents($record, $log);
    exit(0);
}
$m = new Mailer("127.0.0.1:$port", '/nonexistent', 'Acme <no-reply@acme.example>');
ok($m->send('dev@acme.example', 'Hi', $text) === "127.0.0.1:$port", 'sent over SMTP');
pcntl_waitpid($pid, $status);
$log = (string) file_get_contents($record);
ok(str_contains($log, "MAIL FROM:<no-reply@acme.example>\r\n") && str_contains($log, "RCPT TO:<dev@acme.example>\r\n"), 'the envelope');
ok(str_contains($log, "\r\n..a line that starts with a dot\r\n"), 'a line starting with a dot is dot-stuffed');
ok(str_ends_with($log, "\r\n.\r\nQUIT\r\n"), 'DATA ends with a lone dot, then QUIT');
unlink($record);
try {
    (new Mailer('127.0.0.1:1', '/nonexistent', 'a@b.example'))->send('dev@acme.example', 'Hi', 'x');
    ok(false, 'no server: refused');
} catch (MailException $e) {
    ok(str_contains($e->getMessage(), 'cannot connect'), 'no server: says it cannot connect');
}
try {
    (new Mailer('127.0.0.1:1', '/nonexistent', 'a@b.example'))->send("dev@acme.example>\r\nRCPT TO:<x@evil.example", 'Hi', 'x');
    ok(false, 'an address with CRLF: refused');
} catch (MailException $e) {
    ok(str_contains($e->getMessage(), 'refusing'), 'an address with CRLF is refused before connecting');
}

echo "mailer_test: $passed passed, $failed failed\n";
exit($failed === 0 ? 0 : 1);
