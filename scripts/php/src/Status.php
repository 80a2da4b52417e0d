<?php

declare(strict_types=1);

namespace Cohort;

use Cohort\Exception;

/**
 * The status numbers of the C API (COHORT_STATUS_* in cohort.h, which PHP FFI cannot read as
 * macros), and how each becomes an exception. tests/header_test.php checks them against cohort.h.
 */
final class Status
{
    public const OK = 0;
    public const INVALID_ARGUMENT = 1;
    public const INVALID_EMAIL = 2;
    public const UNKNOWN_PERMISSION = 3;
    public const EMPTY_PERMISSIONS = 4;
    public const NOT_FOUND = 5;
    public const NOT_OWNER = 6;
    public const ALREADY_MEMBER = 7;
    public const PENDING_INVITE_EXISTS = 8;
    public const PENDING_CAP_REACHED = 9;
    public const OWNER_PROTECTED = 10;
    public const EMAIL_MISMATCH = 11;
    public const INVITE_NOT_OPEN = 12;
    public const USER_EXISTS = 13;
    public const FORBIDDEN = 14;
    public const RATE_LIMITED = 15;
    public const TOKEN_EMPTY = 20;
    public const TOKEN_TOO_LONG = 21;
    public const TOKEN_NON_ASCII = 22;
    public const TOKEN_MALFORMED = 23;
    public const TOKEN_WRONG_VERSION = 24;
    public const TOKEN_NON_CANONICAL = 25;
    public const TOKEN_UNKNOWN_KEY = 26;
    public const TOKEN_BAD_SIGNATURE = 27;
    public const TOKEN_EXPIRED = 28;
    public const TOKEN_NOT_YET_VALID = 29;
    public const TOKEN_UNKNOWN_INVITE = 30;
    public const TOKEN_SUPERSEDED = 31;
    public const TOKEN_ALREADY_USED = 32;
    public const TOKEN_CANCELLED = 33;
    public const TOKEN_DECLINED = 34;
    public const TOKEN_WRONG_ACCOUNT = 35;
    public const HOOK_DENIED = 40;
    public const HOOK_FAILED = 41;
    public const STORAGE = 60;
    public const BUSY = 61;
    public const SCHEMA_TOO_NEW = 62;
    public const CONFIG = 63;
    public const KEY = 64;
    public const IO = 65;
    public const UNAVAILABLE = 66;
    public const COMMIT_UNKNOWN = 67;
    public const INTERNAL = 99;
    public const NULL_ARGUMENT = 100;
    public const INVALID_UTF8 = 101;
    public const INTERIOR_NUL = 102;
    public const INPUT_TOO_LARGE = 103;
    public const CLOSED_HANDLE = 104;
    public const PANIC = 105;
    public const INVALID_JSON = 106;

    /** Stable names, as cohort_status_name() gives them. */
    public const NAMES = [
        0 => 'ok',
        1 => 'invalid_argument',
        2 => 'invalid_email',
        3 => 'unknown_permission',
        4 => 'empty_permissions',
        5 => 'not_found',
        6 => 'not_owner',
        7 => 'already_member',
        8 => 'pending_invite_exists',
        9 => 'pending_cap_reached',
        10 => 'owner_protected',
        11 => 'email_mismatch',
        12 => 'invite_not_open',
        13 => 'user_exists',
        14 => 'forbidden',
        15 => 'rate_limited',
        20 => 'token_empty',
        21 => 'token_too_long',
        22 => 'token_non_ascii',
        23 => 'token_malformed',
        24 => 'token_wrong_version',
        25 => 'token_non_canonical',
        26 => 'token_unknown_key',
        27 => 'token_bad_signature',
        28 => 'token_expired',
        29 => 'token_not_yet_valid',
        30 => 'token_unknown_invite',
        31 => 'token_superseded',
        32 => 'token_already_used',
        33 => 'token_cancelled',
        34 => 'token_declined',
        35 => 'token_wrong_account',
        40 => 'hook_denied',
        41 => 'hook_failed',
        60 => 'storage',
        61 => 'busy',
        62 => 'schema_too_new',
        63 => 'config',
        64 => 'key',
        65 => 'io',
        66 => 'unavailable',
        67 => 'commit_unknown',
        99 => 'internal',
        100 => 'null_argument',
        101 => 'invalid_utf8',
        102 => 'interior_nul',
        103 => 'input_too_large',
        104 => 'closed_handle',
        105 => 'panic',
        106 => 'invalid_json',
    ];

    /** Exception class of each status family; statuses not listed are InternalException. */
    private const FAMILIES = [
        self::INVALID_ARGUMENT => Exception\InvalidInputException::class,
        self::INVALID_EMAIL => Exception\InvalidInputException::class,
        self::UNKNOWN_PERMISSION => Exception\InvalidInputException::class,
        self::EMPTY_PERMISSIONS => Exception\InvalidInputException::class,
        self::INVALID_UTF8 => Exception\InvalidInputException::class,
        self::INTERIOR_NUL => Exception\InvalidInputException::class,
        self::INPUT_TOO_LARGE => Exception\InvalidInputException::class,
        self::INVALID_JSON => Exception\InvalidInputException::class,
        self::NOT_FOUND => Exception\NotFoundException::class,
        self::NOT_OWNER => Exception\AccessDeniedException::class,
        self::FORBIDDEN => Exception\AccessDeniedException::class,
        self::OWNER_PROTECTED => Exception\OwnerProtectedException::class,
        self::ALREADY_MEMBER => Exception\ConflictException::class,
        self::PENDING_INVITE_EXISTS => Exception\ConflictException::class,
        self::USER_EXISTS => Exception\ConflictException::class,
        self::PENDING_CAP_REACHED => Exception\LimitException::class,
        self::RATE_LIMITED => Exception\LimitException::class,
        self::EMAIL_MISMATCH => Exception\EmailMismatchException::class,
        self::INVITE_NOT_OPEN => Exception\InviteNotOpenException::class,
        self::HOOK_DENIED => Exception\HookDeniedException::class,
        self::HOOK_FAILED => Exception\HookDeniedException::class,
        self::STORAGE => Exception\StorageException::class,
        self::SCHEMA_TOO_NEW => Exception\StorageException::class,
        self::IO => Exception\StorageException::class,
        self::BUSY => Exception\BusyException::class,
        self::UNAVAILABLE => Exception\UnavailableException::class,
        self::COMMIT_UNKNOWN => Exception\CommitUnknownException::class,
        self::CONFIG => Exception\ConfigException::class,
        self::KEY => Exception\ConfigException::class,
        self::CLOSED_HANDLE => Exception\ClosedException::class,
    ];

    /** The stable name of a status ("unknown" for a number that is not one). */
    public static function name(int $status): string
    {
        return self::NAMES[$status] ?? 'unknown';
    }

    /** The exception for a failed call: its family's class, carrying the status and message. */
    public static function exception(int $status, string $message): Exception\CohortException
    {
        if ($status >= self::TOKEN_EMPTY && $status <= self::TOKEN_WRONG_ACCOUNT) {
            $class = Exception\InvalidTokenException::class;
        } else {
            $class = self::FAMILIES[$status] ?? Exception\InternalException::class;
        }
        return new $class($message !== '' ? $message : self::name($status), $status, self::name($status));
    }
}
