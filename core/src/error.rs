//! One error type for the whole core, with stable numeric codes.
//!
//! The numbers returned by [`ErrorCode::number`] are part of the public contract (the C ABI
//! returns them as status codes): they never change and are never reused.

/// Stable, machine-readable error codes. The discriminant is the public number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(i32)]
pub enum ErrorCode {
    InvalidArgument = 1,
    InvalidEmail = 2,
    UnknownPermission = 3,
    EmptyPermissions = 4,
    NotFound = 5,
    NotOwner = 6,
    AlreadyMember = 7,
    PendingInviteExists = 8,
    PendingCapReached = 9,
    OwnerProtected = 10,
    EmailMismatch = 11,
    InviteNotOpen = 12,
    UserExists = 13,
    Forbidden = 14,
    RateLimited = 15,

    TokenEmpty = 20,
    TokenTooLong = 21,
    TokenNonAscii = 22,
    TokenMalformed = 23,
    TokenWrongVersion = 24,
    TokenNonCanonical = 25,
    TokenUnknownKey = 26,
    TokenBadSignature = 27,
    TokenExpired = 28,
    TokenNotYetValid = 29,
    TokenUnknownInvite = 30,
    TokenSuperseded = 31,
    TokenAlreadyUsed = 32,
    TokenCancelled = 33,
    TokenDeclined = 34,
    TokenWrongAccount = 35,

    HookDenied = 40,
    HookFailed = 41,

    Storage = 60,
    Busy = 61,
    SchemaTooNew = 62,
    Config = 63,
    Key = 64,
    Io = 65,
    Unavailable = 66,
    CommitUnknown = 67,
    Internal = 99,
}

impl ErrorCode {
    /// The stable public number of this code.
    pub fn number(self) -> i32 {
        self as i32
    }

    /// The stable snake_case name of this code (as used in JSON output).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidArgument => "invalid_argument",
            InvalidEmail => "invalid_email",
            UnknownPermission => "unknown_permission",
            EmptyPermissions => "empty_permissions",
            NotFound => "not_found",
            NotOwner => "not_owner",
            AlreadyMember => "already_member",
            PendingInviteExists => "pending_invite_exists",
            PendingCapReached => "pending_cap_reached",
            OwnerProtected => "owner_protected",
            EmailMismatch => "email_mismatch",
            InviteNotOpen => "invite_not_open",
            UserExists => "user_exists",
            Forbidden => "forbidden",
            RateLimited => "rate_limited",
            TokenEmpty => "token_empty",
            TokenTooLong => "token_too_long",
            TokenNonAscii => "token_non_ascii",
            TokenMalformed => "token_malformed",
            TokenWrongVersion => "token_wrong_version",
            TokenNonCanonical => "token_non_canonical",
            TokenUnknownKey => "token_unknown_key",
            TokenBadSignature => "token_bad_signature",
            TokenExpired => "token_expired",
            TokenNotYetValid => "token_not_yet_valid",
            TokenUnknownInvite => "token_unknown_invite",
            TokenSuperseded => "token_superseded",
            TokenAlreadyUsed => "token_already_used",
            TokenCancelled => "token_cancelled",
            TokenDeclined => "token_declined",
            TokenWrongAccount => "token_wrong_account",
            HookDenied => "hook_denied",
            HookFailed => "hook_failed",
            Storage => "storage",
            Busy => "busy",
            SchemaTooNew => "schema_too_new",
            Config => "config",
            Key => "key",
            Io => "io",
            Unavailable => "unavailable",
            CommitUnknown => "commit_unknown",
            Internal => "internal",
        }
    }

    /// Every code, in numeric order (for documentation and exhaustive tests).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidEmail,
        ErrorCode::UnknownPermission,
        ErrorCode::EmptyPermissions,
        ErrorCode::NotFound,
        ErrorCode::NotOwner,
        ErrorCode::AlreadyMember,
        ErrorCode::PendingInviteExists,
        ErrorCode::PendingCapReached,
        ErrorCode::OwnerProtected,
        ErrorCode::EmailMismatch,
        ErrorCode::InviteNotOpen,
        ErrorCode::UserExists,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::TokenEmpty,
        ErrorCode::TokenTooLong,
        ErrorCode::TokenNonAscii,
        ErrorCode::TokenMalformed,
        ErrorCode::TokenWrongVersion,
        ErrorCode::TokenNonCanonical,
        ErrorCode::TokenUnknownKey,
        ErrorCode::TokenBadSignature,
        ErrorCode::TokenExpired,
        ErrorCode::TokenNotYetValid,
        ErrorCode::TokenUnknownInvite,
        ErrorCode::TokenSuperseded,
        ErrorCode::TokenAlreadyUsed,
        ErrorCode::TokenCancelled,
        ErrorCode::TokenDeclined,
        ErrorCode::TokenWrongAccount,
        ErrorCode::HookDenied,
        ErrorCode::HookFailed,
        ErrorCode::Storage,
        ErrorCode::Busy,
        ErrorCode::SchemaTooNew,
        ErrorCode::Config,
        ErrorCode::Key,
        ErrorCode::Io,
        ErrorCode::Unavailable,
        ErrorCode::CommitUnknown,
        ErrorCode::Internal,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token is not (or no longer) valid. Each reason has its own stable error code.
///
/// It lives here, beside the codes it maps to, so that `error` depends on nothing else in the
/// crate; `token` re-exports it as `token::TokenReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenReason {
    Empty,
    TooLong,
    NonAscii,
    Malformed,
    WrongVersion,
    NonCanonical,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    UnknownInvite,
    Superseded,
    AlreadyUsed,
    Cancelled,
    Declined,
    WrongAccount,
}

impl TokenReason {
    /// The reason as used in test vectors and by the verifiers (e.g. `bad_signature`).
    pub fn as_str(self) -> &'static str {
        use TokenReason::*;
        match self {
            Empty => "empty",
            TooLong => "too_long",
            NonAscii => "non_ascii",
            Malformed => "malformed",
            WrongVersion => "wrong_version",
            NonCanonical => "non_canonical",
            UnknownKey => "unknown_key",
            BadSignature => "bad_signature",
            Expired => "expired",
            NotYetValid => "not_yet_valid",
            UnknownInvite => "unknown_invite",
            Superseded => "superseded",
            AlreadyUsed => "already_used",
            Cancelled => "cancelled",
            Declined => "declined",
            WrongAccount => "wrong_account",
        }
    }

    /// The stable error code of this reason (`token_<reason>`).
    pub fn code(self) -> ErrorCode {
        use TokenReason::*;
        match self {
            Empty => ErrorCode::TokenEmpty,
            TooLong => ErrorCode::TokenTooLong,
            NonAscii => ErrorCode::TokenNonAscii,
            Malformed => ErrorCode::TokenMalformed,
            WrongVersion => ErrorCode::TokenWrongVersion,
            NonCanonical => ErrorCode::TokenNonCanonical,
            UnknownKey => ErrorCode::TokenUnknownKey,
            BadSignature => ErrorCode::TokenBadSignature,
            Expired => ErrorCode::TokenExpired,
            NotYetValid => ErrorCode::TokenNotYetValid,
            UnknownInvite => ErrorCode::TokenUnknownInvite,
            Superseded => ErrorCode::TokenSuperseded,
            AlreadyUsed => ErrorCode::TokenAlreadyUsed,
            Cancelled => ErrorCode::TokenCancelled,
            Declined => ErrorCode::TokenDeclined,
            WrongAccount => ErrorCode::TokenWrongAccount,
        }
    }
}

/// Every failure the core can report. The message is meant for people; the code for programs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid {field}: {message}")]
    InvalidArgument {
        field: &'static str,
        message: String,
    },
    #[error("invalid email address {:?}", clip(.0))]
    InvalidEmail(String),
    #[error("unknown permission {:?}; valid permissions are: {}", clip(.key), valid.join(", "))]
    UnknownPermission { key: String, valid: Vec<String> },
    #[error("choose at least one permission, or grant all permissions")]
    EmptyPermissions,
    #[error("{what} {} not found", clip(.id))]
    NotFound { what: &'static str, id: String },
    #[error(
        "{actor} is not the owner of account {account} and does not hold its users permission"
    )]
    NotOwner { actor: String, account: String },
    #[error("{email} is already a member of account {account}")]
    AlreadyMember { email: String, account: String },
    #[error(
        "invite {invite_id} to {email} is already pending on account {account}; resend it instead"
    )]
    PendingInviteExists {
        invite_id: i64,
        email: String,
        account: String,
    },
    #[error("account {account} already has {cap} pending invites (the limit); cancel one first")]
    PendingCapReached { account: String, cap: u32 },
    #[error("{email} owns account {account}: {action} does not apply to the owner")]
    OwnerProtected {
        email: String,
        account: String,
        action: &'static str,
    },
    #[error("invite {invite_id} was sent to {invited}, not to {actual}; log in as {invited} to accept it")]
    EmailMismatch {
        invite_id: i64,
        invited: String,
        actual: String,
    },
    #[error("invite {invite_id} is {status}, not pending")]
    InviteNotOpen {
        invite_id: i64,
        status: &'static str,
    },
    #[error("a login for {0} already exists; log in to accept the invite instead of registering")]
    UserExists(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("invalid invite link ({}): {message}", reason.as_str())]
    Token {
        reason: TokenReason,
        message: String,
    },
    #[error("denied by hook {script}: {reason}")]
    HookDenied { script: String, reason: String },
    #[error("hook {script} failed: {message}")]
    HookFailed { script: String, message: String },
    #[error("database error: {0}")]
    Storage(String),
    #[error("database is busy: another connection (of this process or another) held its write lock for longer than busy_timeout_ms; try again")]
    Busy,
    #[error("database schema version {found} is newer than this Cohort supports ({supported}); upgrade Cohort")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("config: {setting}: {message}")]
    Config { setting: String, message: String },
    #[error("key {key}: {message}")]
    Key { key: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("database server {server}: {message}")]
    Unavailable { server: String, message: String },
    #[error("database server {server}: {message}")]
    CommitUnknown { server: String, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        use Error::*;
        match self {
            InvalidArgument { .. } => ErrorCode::InvalidArgument,
            InvalidEmail(_) => ErrorCode::InvalidEmail,
            UnknownPermission { .. } => ErrorCode::UnknownPermission,
            EmptyPermissions => ErrorCode::EmptyPermissions,
            NotFound { .. } => ErrorCode::NotFound,
            NotOwner { .. } => ErrorCode::NotOwner,
            AlreadyMember { .. } => ErrorCode::AlreadyMember,
            PendingInviteExists { .. } => ErrorCode::PendingInviteExists,
            PendingCapReached { .. } => ErrorCode::PendingCapReached,
            OwnerProtected { .. } => ErrorCode::OwnerProtected,
            EmailMismatch { .. } => ErrorCode::EmailMismatch,
            InviteNotOpen { .. } => ErrorCode::InviteNotOpen,
            UserExists(_) => ErrorCode::UserExists,
            Forbidden(_) => ErrorCode::Forbidden,
            RateLimited(_) => ErrorCode::RateLimited,
            Token { reason, .. } => reason.code(),
            HookDenied { .. } => ErrorCode::HookDenied,
            HookFailed { .. } => ErrorCode::HookFailed,
            Storage(_) => ErrorCode::Storage,
            Busy => ErrorCode::Busy,
            SchemaTooNew { .. } => ErrorCode::SchemaTooNew,
            Config { .. } => ErrorCode::Config,
            Key { .. } => ErrorCode::Key,
            Io { .. } => ErrorCode::Io,
            Unavailable { .. } => ErrorCode::Unavailable,
            CommitUnknown { .. } => ErrorCode::CommitUnknown,
            Internal(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn token(reason: TokenReason, message: impl Into<String>) -> Error {
        Error::Token {
            reason,
            message: message.into(),
        }
    }

    pub(crate) fn config(setting: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            setting: setting.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Error {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => Error::Busy,
            _ => Error::Storage(e.to_string()),
        }
    }
}

/// Longest piece of caller input a message repeats, in characters.
pub const MAX_ECHO: usize = 64;

/// A caller's value as a message repeats it: whole when short, else its first [`MAX_ECHO`]
/// characters and how long it was, so a 10,000-character argument does not come back whole.
pub fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_ECHO) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => {
            std::borrow::Cow::Owned(format!("{}… ({} characters)", &s[..end], s.chars().count()))
        }
    }
}

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
