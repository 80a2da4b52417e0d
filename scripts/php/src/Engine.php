<?php

declare(strict_types=1);

namespace Cohort;

use Cohort\Exception\CohortException;
use Cohort\Exception\InvalidInputException;

/**
 * A Cohort engine: one database with its configuration and signing keys. One method per
 * operation; results are PHP arrays (the JSON shapes of docs/c-api.md, decoded), failures are
 * exceptions of Cohort\Exception (one class per family, see Cohort\Status).
 *
 * Opening reads the config and keys and opens the database (about a millisecond). A CLI
 * script or worker loop opens one and keeps it; under PHP-FPM nothing survives a request, so
 * each request opens its own. Never share one across fork(). The handle is closed by close()
 * or when the object is destroyed.
 *
 *     $cohort = Cohort\Engine::open('/etc/cohort/cohort.toml');
 *     if (!$cohort->check($clientId, $email, 'invoices')) { ... }
 *
 * Times are UTC seconds since the epoch. Permissions are 'all' or a list of keys.
 */
final class Engine
{
    /**
     * The numbers of cohort.h's COHORT_LOG_LEVEL_* by the PSR-3 name a record's level gets
     * (header_test.php compares them).
     */
    private const LOG_LEVELS = ['error' => 1, 'warning' => 2, 'info' => 3, 'debug' => 4];
    /** PSR-3 level names accepted as the least severe level setLogger() passes on. */
    private const LOG_THRESHOLDS = [
        'emergency' => 1, 'alert' => 1, 'critical' => 1, 'error' => 1,
        'warning' => 2, 'notice' => 3, 'info' => 3, 'debug' => 4,
    ];

    private \FFI $ffi;
    private \FFI\CData $handle;
    private bool $closed = false;
    /** Reused out-parameters (char * for JSON, bool for check, int64_t for verifyToken). */
    private \FFI\CData $out;
    private \FFI\CData $outAddr;
    private \FFI\CData $allowed;
    private \FFI\CData $allowedAddr;
    private \FFI\CData $id;
    private \FFI\CData $idAddr;
    private \FFI\CData $expires;
    private \FFI\CData $expiresAddr;
    /** The closure the library calls back, kept alive while it is set. */
    private ?\Closure $logCallback = null;
    /**
     * check()'s answers as [account][email][key] => bool, valid while the library's permission
     * generation stays $checkGeneration (see check()).
     */
    private array $checkMemo = [];
    private int $checkMemoSize = 0;
    private int $checkGeneration = 0;
    /** Most answers check() keeps before it starts afresh. */
    private const CHECK_MEMO_CAPACITY = 4096;

    private function __construct(\FFI $ffi, \FFI\CData $handle)
    {
        $this->ffi = $ffi;
        $this->handle = $handle;
        $this->out = $ffi->new('char *');
        $this->outAddr = \FFI::addr($this->out);
        $this->allowed = $ffi->new('bool');
        $this->allowedAddr = \FFI::addr($this->allowed);
        $this->id = $ffi->new('int64_t');
        $this->idAddr = \FFI::addr($this->id);
        $this->expires = $ffi->new('int64_t');
        $this->expiresAddr = \FFI::addr($this->expires);
    }

    /**
     * Opens the engine of a config file (the cohort.toml that `cohort init` writes). The
     * database must exist: a missing, empty or foreign file throws StorageException.
     */
    public static function open(string $configPath, ?string $library = null): self
    {
        return self::openWith('cohort_engine_open', $configPath, $library);
    }

    /**
     * Like open(), but creates the database when its path does not exist yet (a panel's
     * installer; `cohort init` does the same from the shell).
     */
    public static function create(string $configPath, ?string $library = null): self
    {
        return self::openWith('cohort_engine_create', $configPath, $library);
    }

    /**
     * Like open(), for PHP-FPM: the library keeps the engine open in this worker after the object
     * is gone, and the next request's shared() of the same config gets it back in microseconds
     * (no config parsing, key loading or database opening), until the config or a key file
     * changes (cohort_engine_open_shared). close() and __destruct() release only this handle.
     */
    public static function shared(string $configPath, ?string $library = null): self
    {
        return self::openWith('cohort_engine_open_shared', $configPath, $library);
    }

    private static function openWith(string $function, string $configPath, ?string $library): self
    {
        $ffi = Library::ffi($library);
        $handle = $ffi->new('CohortEngine *');
        $status = $ffi->$function($configPath, \strlen($configPath), \FFI::addr($handle));
        if ($status !== 0) {
            throw Status::exception($status, self::lastError($ffi));
        }
        return new self($ffi, $handle);
    }

    /**
     * Closes the engine. Closing it again, or using it after close, throws ClosedException (the
     * library reports the closed handle; nothing is touched).
     */
    public function close(): void
    {
        $this->closed = true;
        $status = $this->ffi->cohort_engine_close($this->handle);
        if ($status !== 0) {
            throw $this->failure($status);
        }
    }

    public function __destruct()
    {
        if (!$this->closed) {
            $this->closed = true;
            $this->ffi->cohort_engine_close($this->handle);
        }
    }

    /** The library version, such as "0.1.0". */
    public static function version(): string
    {
        return Library::version();
    }

    /** Sets the longest string argument the library accepts, in bytes (default 1 MiB). */
    public static function setInputLimit(int $bytes): void
    {
        $ffi = Library::ffi();
        $status = $ffi->cohort_library_set_input_limit($bytes);
        if ($status !== 0) {
            throw Status::exception($status, self::lastError($ffi));
        }
    }

    public static function inputLimit(): int
    {
        return Library::ffi()->cohort_library_input_limit();
    }

    /**
     * Sends the records of hooks (lines scripts write with cohort.log() and print(), failing
     * after-handlers, scripts that do not load) at $level or more severe to $logger, besides
     * the destinations of the config's [log] section:
     *
     * - an object with a PSR-3 shaped method log($level, string $message, array $context), such
     *   as any Psr\Log\LoggerInterface (psr/log is not required);
     * - or a callable, called the same way: fn (string $level, string $message, array $context).
     *
     * $level is 'error', 'warning', 'info' or 'debug'; $context is ['script' => file name or
     * '(hooks)', 'line' => int|null, 'event' => 'after_invite'|null, 'time' => float (Unix
     * seconds)]. $level for setLogger() is a PSR-3 level name (default 'debug': everything).
     * null removes the logger.
     *
     * The logger is called during the engine call that made the record, once its scripts have
     * run. It should not call this engine (such calls work, but their own records skip it). An
     * exception it throws cannot cross the library: it is reported with error_log() and the
     * operation goes on.
     */
    public function setLogger(callable|object|null $logger, string $level = 'debug'): void
    {
        if ($logger === null) {
            $status = $this->ffi->cohort_engine_set_logger($this->handle, 0, null, null);
            if ($status !== 0) {
                throw $this->failure($status);
            }
            $this->logCallback = null;
            return;
        }
        $threshold = self::LOG_THRESHOLDS[strtolower($level)] ?? null;
        if ($threshold === null) {
            throw new InvalidInputException(
                "setLogger: level '$level' is not a PSR-3 level (debug, info, notice, warning, error, ...)",
                Status::INVALID_ARGUMENT,
                Status::name(Status::INVALID_ARGUMENT),
            );
        }
        if (!$logger instanceof \Closure && \is_object($logger) && method_exists($logger, 'log')) {
            $deliver = [$logger, 'log'];
        } elseif (\is_callable($logger)) {
            $deliver = $logger;
        } else {
            throw new \TypeError('setLogger: $logger must be callable or have a log($level, $message, array $context) method');
        }
        $names = array_flip(self::LOG_LEVELS);
        // Static: the closure must not hold the engine (that would be a reference cycle).
        $callback = static function ($userData, $record) use ($deliver, $names): void {
            try {
                $text = static fn ($s, int $len): string => \is_string($s) ? $s : \FFI::string($s, $len);
                $event = $text($record->event, $record->event_len);
                $deliver($names[$record->level] ?? 'info', $text($record->message, $record->message_len), [
                    'script' => $text($record->script, $record->script_len),
                    'line' => $record->line > 0 ? $record->line : null,
                    'event' => $event === '' ? null : $event,
                    'time' => $record->time_ms / 1000,
                ]);
            } catch (\Throwable $e) {
                // Nothing may be thrown through the library (PHP makes it a fatal error).
                error_log('Cohort: the logger threw ' . \get_class($e) . ': ' . $e->getMessage());
            }
        };
        $status = $this->ffi->cohort_engine_set_logger($this->handle, $threshold, $callback, null);
        if ($status !== 0) {
            throw $this->failure($status);
        }
        // Replaced only now: the library no longer calls the previous one.
        $this->logCallback = $callback;
    }

    // ---------- accounts and users ----------

    /** Creates or renames an account (its owner's login is created if needed). */
    public function upsertAccount(string $id, string $name, string $ownerEmail): array
    {
        return $this->json('cohort_account_upsert', $id, \strlen($id), $name, \strlen($name), $ownerEmail, \strlen($ownerEmail));
    }

    public function account(string $id): array
    {
        return $this->json('cohort_account_get', $id, \strlen($id));
    }

    /** Makes a member the owner; the previous owner stays on with all permissions. */
    public function transferOwnership(string $actor, string $account, string $newOwner): array
    {
        return $this->json('cohort_account_transfer', $actor, \strlen($actor), $account, \strlen($account), $newOwner, \strlen($newOwner));
    }

    /** Creates a login or updates it; null leaves a field as it is. */
    public function upsertUser(string $email, ?string $name = null, ?bool $twoFactor = null): array
    {
        $tf = $twoFactor === null ? -1 : ($twoFactor ? 1 : 0);
        return $this->json('cohort_user_upsert', $email, \strlen($email), $name, $name === null ? 0 : \strlen($name), $tf);
    }

    public function user(string $email): array
    {
        return $this->json('cohort_user_get', $email, \strlen($email));
    }

    /** Tells Cohort the panel logged this user in (Last Login). */
    public function recordLogin(string $email): array
    {
        return $this->json('cohort_user_login', $email, \strlen($email));
    }

    /** The accounts a login can switch between, with role and permissions. */
    public function accountsOf(string $email): array
    {
        return $this->json('cohort_user_accounts', $email, \strlen($email));
    }

    // ---------- invites ----------

    /**
     * Invites $email with 'all' or a list of permission keys (a choice the caller must make: no
     * default), valid for $ttl seconds (null: the configured default). Returns
     * ['invite' => ..., 'token', 'link', 'email' => [to, subject, body]].
     */
    public function invite(string $actor, string $account, string $email, string|array $permissions, ?int $ttl = null): array
    {
        $p = self::permissionsJson($permissions);
        return $this->json('cohort_invite_create', $actor, \strlen($actor), $account, \strlen($account), $email, \strlen($email), $p, \strlen($p), $ttl ?? 0);
    }

    /** Pending and expired invites of an account, newest first. */
    public function pending(string $account): array
    {
        return $this->json('cohort_invite_pending', $account, \strlen($account));
    }

    public function inviteById(int $id): array
    {
        return $this->json('cohort_invite_get', $id);
    }

    /** Sends an invite again: new link, fresh expiry; the old link stops working. */
    public function resend(string $actor, int $inviteId, ?int $ttl = null): array
    {
        return $this->json('cohort_invite_resend', $actor, \strlen($actor), $inviteId, $ttl ?? 0);
    }

    public function cancel(string $actor, int $inviteId): array
    {
        return $this->json('cohort_invite_cancel', $actor, \strlen($actor), $inviteId);
    }

    /**
     * What a token or link is for, without using it: ['valid' => bool, 'reason' => null|string,
     * 'has_login' => bool (show Login rather than Register), 'account_name', 'email', ...].
     */
    public function inspect(string $tokenOrLink): array
    {
        return $this->json('cohort_invite_inspect', $tokenOrLink, \strlen($tokenOrLink));
    }

    /**
     * Checks a token's signature and expiry only (no database: use inspect() to know whether the
     * invite can still be used). Returns ['invite_id' => int, 'expires_at' => int]; throws
     * InvalidTokenException when the token is not genuine or has expired.
     */
    public function verifyToken(string $tokenOrLink): array
    {
        $status = $this->ffi->cohort_token_verify($this->handle, $tokenOrLink, \strlen($tokenOrLink), $this->idAddr, $this->expiresAddr);
        if ($status !== 0) {
            throw $this->failure($status);
        }
        return ['invite_id' => $this->id->cdata, 'expires_at' => $this->expires->cdata];
    }

    /** Accepts an invite as an existing login; returns the new member. */
    public function accept(string $tokenOrLink, string $email): array
    {
        return $this->json('cohort_invite_accept', $tokenOrLink, \strlen($tokenOrLink), $email, \strlen($email));
    }

    /** Accepts an invite by registering a new login; returns the new member. */
    public function acceptRegister(string $tokenOrLink, string $email, string $name): array
    {
        return $this->json('cohort_invite_accept_register', $tokenOrLink, \strlen($tokenOrLink), $email, \strlen($email), $name, \strlen($name));
    }

    public function decline(string $tokenOrLink): array
    {
        return $this->json('cohort_invite_decline', $tokenOrLink, \strlen($tokenOrLink));
    }

    /** Marks overdue invites expired (for a cron job); returns how many. */
    public function expireDue(): int
    {
        $count = $this->ffi->new('size_t');
        $status = $this->ffi->cohort_invite_expire_due($this->handle, \FFI::addr($count));
        if ($status !== 0) {
            throw $this->failure($status);
        }
        return $count->cdata;
    }

    // ---------- members ----------

    /** The User Management table: owner first, then members by join date. */
    public function members(string $account): array
    {
        return $this->json('cohort_member_list', $account, \strlen($account));
    }

    public function setPermissions(string $actor, string $account, string $email, string|array $permissions): array
    {
        $p = self::permissionsJson($permissions);
        return $this->json('cohort_member_set_permissions', $actor, \strlen($actor), $account, \strlen($account), $email, \strlen($email), $p, \strlen($p));
    }

    /** Removes a member's access (the login and its other accounts remain). */
    public function revoke(string $actor, string $account, string $email): void
    {
        $status = $this->ffi->cohort_member_revoke($this->handle, $actor, \strlen($actor), $account, \strlen($account), $email, \strlen($email));
        if ($status !== 0) {
            throw $this->failure($status);
        }
    }

    /**
     * Whether $email holds permission $key on $account. The hottest call of a panel, so this
     * object keeps the answers it got, and serves one again only while the library's permission
     * generation (cohort_permission_generation: one FFI argument where the question takes six)
     * says no commit has happened since, by this process or any other; otherwise it asks the
     * library (cohort_permission_allows). Never stale; failures are never kept.
     */
    public function check(string $account, string $email, string $key): bool
    {
        $g = $this->ffi->cohort_permission_generation($this->handle);
        if ($g === $this->checkGeneration) {
            // (Always empty when $g is 0.)
            $kept = $this->checkMemo[$account][$email][$key] ?? null;
            if ($kept !== null) {
                return $kept;
            }
        } else {
            if ($g < 0) {
                throw $this->failure(-$g);
            }
            $this->checkMemo = [];
            $this->checkMemoSize = 0;
            $this->checkGeneration = $g;
        }
        $r = $this->ffi->cohort_permission_allows($this->handle, $account, \strlen($account), $email, \strlen($email), $key, \strlen($key));
        if ($r !== 1 && $r !== 0) {
            throw $this->failure(-$r);
        }
        // 0: a server database, where every answer is asked for.
        if ($g !== 0) {
            if ($this->checkMemoSize >= self::CHECK_MEMO_CAPACITY) {
                $this->checkMemo = [];
                $this->checkMemoSize = 0;
            }
            $this->checkMemo[$account][$email][$key] = $r === 1;
            $this->checkMemoSize++;
        }
        return $r === 1;
    }

    /** The permission catalogue: [['key' => 'invoices', 'label' => 'View & Pay Invoices'], ...]. */
    public function permissions(): array
    {
        return $this->json('cohort_permission_list');
    }

    /** The latest $limit audit entries (0: the library's default, 100) of an account at or after $since, oldest first. */
    public function audit(string $account, int $since = 0, int $limit = 0): array
    {
        return $this->json('cohort_audit_list', $account, \strlen($account), $since, $limit);
    }

    /** A member leaves an account on their own (the owner cannot: transfer first). */
    public function leave(string $account, string $email): void
    {
        $status = $this->ffi->cohort_member_leave($this->handle, $account, \strlen($account), $email, \strlen($email));
        if ($status !== 0) {
            throw $this->failure($status);
        }
    }

    // ---------- contacts and notifications ----------

    public function contacts(string $account): array
    {
        return $this->json('cohort_contact_list', $account, \strlen($account));
    }

    public function contact(int $id): array
    {
        return $this->json('cohort_contact_get', $id);
    }

    /**
     * Adds a contact: ['first_name' => ..., 'email' => ...] required; 'last_name', 'phone',
     * 'company', 'user' (a login's email) and 'notify' (list of kinds) optional.
     */
    public function addContact(string $actor, string $account, array $fields): array
    {
        $f = self::objectJson($fields);
        return $this->json('cohort_contact_add', $actor, \strlen($actor), $account, \strlen($account), $f, \strlen($f));
    }

    /** Changes the given fields of a contact ('user' => '' unlinks the login). */
    public function updateContact(string $actor, int $contactId, array $fields): array
    {
        $f = self::objectJson($fields);
        return $this->json('cohort_contact_update', $actor, \strlen($actor), $contactId, $f, \strlen($f));
    }

    public function deleteContact(string $actor, int $contactId): array
    {
        return $this->json('cohort_contact_delete', $actor, \strlen($actor), $contactId);
    }

    /**
     * Which kinds of email a member receives: a list of 'general', 'domain', 'invoice', 'product',
     * 'support', 'affiliate'. Returns the kinds now set.
     */
    public function setNotifications(string $actor, string $account, string $email, array $kinds): array
    {
        $k = self::listJson($kinds);
        return $this->json('cohort_member_set_notifications', $actor, \strlen($actor), $account, \strlen($account), $email, \strlen($email), $k, \strlen($k));
    }

    /** Who receives $kind of email for an account: [['email', 'name', 'source'], ...]. */
    public function recipients(string $account, string $kind): array
    {
        return $this->json('cohort_notification_recipients', $account, \strlen($account), $kind, \strlen($kind));
    }

    /** Audit entries filtered by 'account', 'user' (actor or target), 'since', 'until', 'limit'. */
    public function auditQuery(array $filters): array
    {
        $q = self::objectJson($filters);
        return $this->json('cohort_audit_query', $q, \strlen($q));
    }

    // ---------- plumbing ----------

    /** Calls a JSON-returning function, copies the string, frees it, decodes it. */
    private function json(string $function, mixed ...$args): array
    {
        $status = $this->ffi->$function($this->handle, ...$args, ...[$this->outAddr]);
        if ($status !== 0) {
            throw $this->failure($status);
        }
        $text = \FFI::string($this->out);
        $this->ffi->cohort_string_free($this->out);
        return json_decode($text, true, 512, JSON_THROW_ON_ERROR);
    }

    private function failure(int $status): CohortException
    {
        return Status::exception($status, self::lastError($this->ffi));
    }

    private static function lastError(\FFI $ffi): string
    {
        $m = $ffi->new('char *');
        if ($ffi->cohort_error_message(\FFI::addr($m)) !== 0) {
            return '';
        }
        $text = \FFI::string($m);
        $ffi->cohort_string_free($m);
        return $text;
    }

    private static function permissionsJson(string|array $permissions): string
    {
        if (\is_string($permissions)) {
            if ($permissions === 'all') {
                return '"all"';
            }
            $permissions = explode(',', $permissions);
        }
        return self::listJson($permissions);
    }

    private static function listJson(array $items): string
    {
        return self::encode(array_values($items));
    }

    private static function objectJson(array $fields): string
    {
        return self::encode((object) $fields);
    }

    private static function encode(mixed $value): string
    {
        try {
            return json_encode($value, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        } catch (\JsonException $e) {
            throw new InvalidInputException(
                'arguments must be valid UTF-8: ' . $e->getMessage(),
                Status::INVALID_UTF8,
                Status::name(Status::INVALID_UTF8),
                $e,
            );
        }
    }
}
