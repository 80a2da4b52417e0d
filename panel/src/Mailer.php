<?php

declare(strict_types=1);

namespace Panel;

/**
 * Sends the panel's mail: over SMTP to a configured server (a small client of its own: EHLO,
 * MAIL FROM, RCPT TO, DATA, QUIT; no TLS or AUTH, meant for a local relay), or, with no server
 * configured, into a directory as one .eml file per message.
 *
 * Every message is multipart/alternative: the text Cohort composed, and the same text as HTML
 * (escaped, links made clickable). Both parts are quoted-printable UTF-8.
 */
final class Mailer
{
    private const TIMEOUT = 10;

    /**
     * @param string $smtp    "host:port" ("[::1]:25" for IPv6), or "" to write .eml files
     * @param string $mailDir where .eml files go when $smtp is ""
     * @param string $from    the From header, "Name <address>" or "address"
     */
    public function __construct(
        private readonly string $smtp,
        private readonly string $mailDir,
        private readonly string $from,
    ) {
    }

    /** Sends one message; returns where it went, for the page ("127.0.0.1:2525" or the file). */
    public function send(string $to, string $subject, string $text): string
    {
        $message = self::compose($this->from, $to, $subject, $text);
        if ($this->smtp === '') {
            return $this->writeFile($to, $message);
        }
        $this->smtpSend(self::address($this->from), $to, $message);
        return $this->smtp;
    }

    /** The whole message (headers and body, CRLF line ends). */
    public static function compose(string $from, string $to, string $subject, string $text, ?int $now = null): string
    {
        $now ??= time();
        $subject = self::headerValue($subject);
        $boundary = '=_cohort_' . bin2hex(random_bytes(12));
        $domain = substr(strrchr(self::address($from), '@') ?: '@panel.localhost', 1);
        $headers = [
            'Date: ' . date(DATE_RFC2822, $now),
            'From: ' . self::headerValue($from),
            'To: ' . self::headerValue($to),
            'Subject: ' . self::encodeHeader($subject),
            'Message-ID: <' . bin2hex(random_bytes(16)) . '@' . $domain . '>',
            'MIME-Version: 1.0',
            "Content-Type: multipart/alternative;\r\n boundary=\"$boundary\"",
        ];
        $part = static fn (string $type, string $body): string =>
            "--$boundary\r\n"
            . "Content-Type: $type; charset=UTF-8\r\n"
            . "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            . quoted_printable_encode(self::crlf($body)) . "\r\n";
        return implode("\r\n", $headers) . "\r\n\r\n"
            . "This is a multi-part message in MIME format.\r\n"
            . $part('text/plain', $text)
            . $part('text/html', self::html($subject, $text))
            . "--$boundary--\r\n";
    }

    /** The text as a small HTML document: paragraphs, line breaks, clickable links. */
    public static function html(string $subject, string $text): string
    {
        $paragraphs = preg_split("/\n\s*\n/", trim(str_replace("\r\n", "\n", $text))) ?: [];
        $out = '';
        foreach ($paragraphs as $p) {
            $escaped = htmlspecialchars($p, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
            $linked = preg_replace_callback(
                '~https?://[^\s<>"\']+~',
                static fn (array $m): string => '<a href="' . $m[0] . '">' . $m[0] . '</a>',
                $escaped,
            );
            $out .= '<p>' . nl2br($linked, false) . "</p>\n";
        }
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            . htmlspecialchars($subject, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8')
            . "</title></head>\n<body>\n" . $out . "</body></html>\n";
    }

    private function writeFile(string $to, string $message): string
    {
        if (!is_dir($this->mailDir) && !@mkdir($this->mailDir, 0700, true) && !is_dir($this->mailDir)) {
            throw new MailException("cannot create the mail directory {$this->mailDir}");
        }
        $name = gmdate('Ymd-His') . '-' . bin2hex(random_bytes(4)) . '-'
            . preg_replace('/[^a-z0-9@._-]+/i', '_', $to) . '.eml';
        $path = $this->mailDir . '/' . $name;
        if (@file_put_contents($path, $message, LOCK_EX) === false) {
            throw new MailException("cannot write $path");
        }
        return $path;
    }

    private function smtpSend(string $from, string $to, string $message): void
    {
        if (preg_match('/[\s<>]/', $from . $to) === 1 || $to === '' || $from === '') {
            throw new MailException('refusing to send: an address is empty or holds spaces or angle brackets');
        }
        $i = strrpos($this->smtp, ':');
        $host = $i === false ? $this->smtp : substr($this->smtp, 0, $i);
        $port = $i === false ? 25 : (int) substr($this->smtp, $i + 1);
        $errno = 0;
        $errstr = '';
        $fp = @stream_socket_client("tcp://$host:$port", $errno, $errstr, self::TIMEOUT);
        if ($fp === false) {
            throw new MailException("cannot connect to the mail server {$this->smtp}: $errstr");
        }
        stream_set_timeout($fp, self::TIMEOUT);
        try {
            self::expect($fp, [220], 'greeting');
            $helo = 'panel.localhost';
            self::command($fp, "EHLO $helo");
            if (self::reply($fp)[0] !== 250) {
                self::command($fp, "HELO $helo");
                self::expect($fp, [250], 'HELO');
            }
            self::command($fp, "MAIL FROM:<$from>");
            self::expect($fp, [250], 'MAIL FROM');
            self::command($fp, "RCPT TO:<$to>");
            self::expect($fp, [250, 251], 'RCPT TO');
            self::command($fp, 'DATA');
            self::expect($fp, [354], 'DATA');
            // Dot-stuffing: a line that starts with "." gets another one.
            $data = preg_replace('/^\./m', '..', $message);
            if (!str_ends_with($data, "\r\n")) {
                $data .= "\r\n";
            }
            self::write($fp, $data . ".\r\n");
            self::expect($fp, [250], 'end of DATA');
            self::command($fp, 'QUIT');
            self::reply($fp);
        } finally {
            fclose($fp);
        }
    }

    /** @param resource $fp */
    private static function command($fp, string $line): void
    {
        self::write($fp, $line . "\r\n");
    }

    /** @param resource $fp */
    private static function write($fp, string $data): void
    {
        while ($data !== '') {
            $n = @fwrite($fp, $data);
            if ($n === false || $n === 0) {
                throw new MailException('the mail server closed the connection');
            }
            $data = substr($data, $n);
        }
    }

    /**
     * Reads one (possibly multi-line) reply.
     * @param resource $fp
     * @return array{0: int, 1: string}
     */
    private static function reply($fp): array
    {
        $text = '';
        while (true) {
            $line = fgets($fp, 2048);
            if ($line === false) {
                throw new MailException('no answer from the mail server');
            }
            $text .= $line;
            if (strlen($line) < 4 || $line[3] !== '-') {
                return [(int) substr($line, 0, 3), trim($text)];
            }
        }
    }

    /** @param resource $fp */
    private static function expect($fp, array $codes, string $step): void
    {
        [$code, $text] = self::reply($fp);
        if (!in_array($code, $codes, true)) {
            throw new MailException("the mail server refused $step: $text");
        }
    }

    private static function address(string $mailbox): string
    {
        return preg_match('/<([^<>]+)>\s*$/', $mailbox, $m) === 1 ? trim($m[1]) : trim($mailbox);
    }

    /** A header value on one line: CR and LF never reach the header block. */
    private static function headerValue(string $value): string
    {
        return trim(preg_replace('/[\r\n]+/', ' ', $value));
    }

    /** RFC 2047 encoded words (B) when the value is not plain ASCII, one per line of at most 76. */
    private static function encodeHeader(string $value): string
    {
        if (preg_match('/^[\x20-\x7e]*$/', $value) === 1) {
            return $value;
        }
        $words = [];
        $chunk = '';
        foreach (preg_split('//u', $value, -1, PREG_SPLIT_NO_EMPTY) ?: [] as $char) {
            if (strlen($chunk . $char) > 30) {
                $words[] = '=?UTF-8?B?' . base64_encode($chunk) . '?=';
                $chunk = '';
            }
            $chunk .= $char;
        }
        $words[] = '=?UTF-8?B?' . base64_encode($chunk) . '?=';
        return implode("\r\n ", $words);
    }

    private static function crlf(string $text): string
    {
        return preg_replace("/\r\n|\r|\n/", "\r\n", $text);
    }
}

final class MailException extends \RuntimeException
{
}
