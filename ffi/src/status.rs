//! The one status enum every fallible export returns.

use cohort_core::ErrorCode;

/// What a call did. `COHORT_STATUS_OK` (0) is success; every other value is a failure whose
/// message `cohort_error_message` returns on the same thread.
///
/// The numbers never change and are never reused. 1 to 99 are the core's error codes (same
/// number, same meaning, see `docs/c-api.md`); 100 to 199 are failures of the C boundary itself.
/// Unassigned numbers in those ranges are reserved.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CohortStatus {
    /// Success.
    Ok = 0,

    /// An argument is out of range or malformed (the message names it).
    InvalidArgument = 1,
    /// An email address is not valid.
    InvalidEmail = 2,
    /// A permission key is not in the catalogue (the message lists the valid ones).
    UnknownPermission = 3,
    /// A chosen permission set is empty.
    EmptyPermissions = 4,
    /// An account, user, member or invite does not exist.
    NotFound = 5,
    /// The acting user is neither the owner of the account nor a member holding `users`.
    NotOwner = 6,
    /// The user is already a member of the account.
    AlreadyMember = 7,
    /// A pending invite to that email already exists on the account (resend it instead).
    PendingInviteExists = 8,
    /// The account has reached its limit of pending invites.
    PendingCapReached = 9,
    /// The operation does not apply to the account owner.
    OwnerProtected = 10,
    /// The accepting login's email differs from the invited email.
    EmailMismatch = 11,
    /// The invite is not pending (already accepted, cancelled or declined).
    InviteNotOpen = 12,
    /// Registering: a login with that email already exists.
    UserExists = 13,
    /// Refused by policy: granting or changing more than the acting member holds, a member
    /// changing their own access, managing contacts without `contacts`, …
    Forbidden = 14,
    /// Refused by a rate limit on invites sent (the message says when the next is possible).
    RateLimited = 15,

    /// Token: empty.
    TokenEmpty = 20,
    /// Token: longer than any token Cohort issues.
    TokenTooLong = 21,
    /// Token: holds non-ASCII characters.
    TokenNonAscii = 22,
    /// Token: not of the form `cohort1.<key id>.<payload>.<mac>`.
    TokenMalformed = 23,
    /// Token: unknown version prefix.
    TokenWrongVersion = 24,
    /// Token: base64url that does not re-encode to itself.
    TokenNonCanonical = 25,
    /// Token: signed with a key that is not configured.
    TokenUnknownKey = 26,
    /// Token: the signature does not match.
    TokenBadSignature = 27,
    /// Token: the invite has expired.
    TokenExpired = 28,
    /// Token: issued in the future.
    TokenNotYetValid = 29,
    /// Token: the invite it names does not exist.
    TokenUnknownInvite = 30,
    /// Token: the invite was sent again; only the newest link works.
    TokenSuperseded = 31,
    /// Token: the invite has already been accepted.
    TokenAlreadyUsed = 32,
    /// Token: the invite was cancelled.
    TokenCancelled = 33,
    /// Token: the invite was declined.
    TokenDeclined = 34,
    /// Token: the token names another account than its invite.
    TokenWrongAccount = 35,

    /// A hook script denied the operation.
    HookDenied = 40,
    /// A hook script failed (error, budget, bad answer); the operation was denied.
    HookFailed = 41,

    /// The database failed.
    Storage = 60,
    /// Another connection (of this process or another) held the write lock longer than
    /// `busy_timeout_ms`; try again.
    Busy = 61,
    /// The database was written by a newer Cohort.
    SchemaTooNew = 62,
    /// The configuration is invalid (the message names the setting).
    Config = 63,
    /// A signing key is missing or unusable.
    Key = 64,
    /// A file could not be read or written, or the database is missing or not Cohort's.
    Io = 65,
    /// The database server could not be reached, refused the login, or the connection was
    /// lost before the commit (the server rolled the change back: nothing was changed).
    Unavailable = 66,
    /// The connection to the database server was lost while committing: the change may or may
    /// not have been made. Look before repeating it.
    CommitUnknown = 67,
    /// A bug in Cohort.
    Internal = 99,

    /// A required pointer argument is NULL.
    NullArgument = 100,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 101,
    /// A string argument holds a NUL byte.
    InteriorNul = 102,
    /// An argument is longer than the input limit (`cohort_library_set_input_limit`).
    InputTooLarge = 103,
    /// The engine handle is closed, or was never opened.
    ClosedHandle = 104,
    /// Cohort panicked; the call had no effect on the caller's memory and the library stays usable.
    Panic = 105,
    /// A JSON argument does not parse.
    InvalidJson = 106,
}

impl CohortStatus {
    /// Every status, in numeric order.
    pub(crate) const ALL: &'static [CohortStatus] = &[
        CohortStatus::Ok,
        CohortStatus::InvalidArgument,
        CohortStatus::InvalidEmail,
        CohortStatus::UnknownPermission,
        CohortStatus::EmptyPermissions,
        CohortStatus::NotFound,
        CohortStatus::NotOwner,
        CohortStatus::AlreadyMember,
        CohortStatus::PendingInviteExists,
        CohortStatus::PendingCapReached,
        CohortStatus::OwnerProtected,
        CohortStatus::EmailMismatch,
        CohortStatus::InviteNotOpen,
        CohortStatus::UserExists,
        CohortStatus::Forbidden,
        CohortStatus::RateLimited,
        CohortStatus::TokenEmpty,
        CohortStatus::TokenTooLong,
        CohortStatus::TokenNonAscii,
        CohortStatus::TokenMalformed,
        CohortStatus::TokenWrongVersion,
        CohortStatus::TokenNonCanonical,
        CohortStatus::TokenUnknownKey,
        CohortStatus::TokenBadSignature,
        CohortStatus::TokenExpired,
        CohortStatus::TokenNotYetValid,
        CohortStatus::TokenUnknownInvite,
        CohortStatus::TokenSuperseded,
        CohortStatus::TokenAlreadyUsed,
        CohortStatus::TokenCancelled,
        CohortStatus::TokenDeclined,
        CohortStatus::TokenWrongAccount,
        CohortStatus::HookDenied,
        CohortStatus::HookFailed,
        CohortStatus::Storage,
        CohortStatus::Busy,
        CohortStatus::SchemaTooNew,
        CohortStatus::Config,
        CohortStatus::Key,
        CohortStatus::Io,
        CohortStatus::Unavailable,
        CohortStatus::CommitUnknown,
        CohortStatus::Internal,
        CohortStatus::NullArgument,
        CohortStatus::InvalidUtf8,
        CohortStatus::InteriorNul,
        CohortStatus::InputTooLarge,
        CohortStatus::ClosedHandle,
        CohortStatus::Panic,
        CohortStatus::InvalidJson,
    ];

    /// The stable number of this status.
    pub fn number(self) -> i32 {
        self as i32
    }

    /// The status with this number, if there is one.
    pub fn from_number(n: i32) -> Option<CohortStatus> {
        CohortStatus::ALL.iter().copied().find(|s| s.number() == n)
    }

    /// The stable snake_case name: the core's code name for 1 to 99 (`token_expired`).
    pub fn name(self) -> &'static str {
        use CohortStatus::*;
        match self {
            Ok => "ok",
            NullArgument => "null_argument",
            InvalidUtf8 => "invalid_utf8",
            InteriorNul => "interior_nul",
            InputTooLarge => "input_too_large",
            ClosedHandle => "closed_handle",
            Panic => "panic",
            InvalidJson => "invalid_json",
            core => match core.core_code() {
                Some(code) => code.as_str(),
                None => "unknown",
            },
        }
    }

    /// The name as a NUL-terminated C string with static lifetime (a test checks it against
    /// [`CohortStatus::name`]).
    pub(crate) fn c_name(self) -> &'static std::ffi::CStr {
        use CohortStatus::*;
        match self {
            Ok => c"ok",
            InvalidArgument => c"invalid_argument",
            InvalidEmail => c"invalid_email",
            UnknownPermission => c"unknown_permission",
            EmptyPermissions => c"empty_permissions",
            NotFound => c"not_found",
            NotOwner => c"not_owner",
            AlreadyMember => c"already_member",
            PendingInviteExists => c"pending_invite_exists",
            PendingCapReached => c"pending_cap_reached",
            OwnerProtected => c"owner_protected",
            EmailMismatch => c"email_mismatch",
            InviteNotOpen => c"invite_not_open",
            UserExists => c"user_exists",
            Forbidden => c"forbidden",
            RateLimited => c"rate_limited",
            TokenEmpty => c"token_empty",
            TokenTooLong => c"token_too_long",
            TokenNonAscii => c"token_non_ascii",
            TokenMalformed => c"token_malformed",
            TokenWrongVersion => c"token_wrong_version",
            TokenNonCanonical => c"token_non_canonical",
            TokenUnknownKey => c"token_unknown_key",
            TokenBadSignature => c"token_bad_signature",
            TokenExpired => c"token_expired",
            TokenNotYetValid => c"token_not_yet_valid",
            TokenUnknownInvite => c"token_unknown_invite",
            TokenSuperseded => c"token_superseded",
            TokenAlreadyUsed => c"token_already_used",
            TokenCancelled => c"token_cancelled",
            TokenDeclined => c"token_declined",
            TokenWrongAccount => c"token_wrong_account",
            HookDenied => c"hook_denied",
            HookFailed => c"hook_failed",
            Storage => c"storage",
            Busy => c"busy",
            SchemaTooNew => c"schema_too_new",
            Config => c"config",
            Key => c"key",
            Io => c"io",
            Unavailable => c"unavailable",
            CommitUnknown => c"commit_unknown",
            Internal => c"internal",
            NullArgument => c"null_argument",
            InvalidUtf8 => c"invalid_utf8",
            InteriorNul => c"interior_nul",
            InputTooLarge => c"input_too_large",
            ClosedHandle => c"closed_handle",
            Panic => c"panic",
            InvalidJson => c"invalid_json",
        }
    }

    /// The core code with the same number, for statuses 1 to 99.
    pub fn core_code(self) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.number() == self.number())
    }
}

impl From<ErrorCode> for CohortStatus {
    fn from(code: ErrorCode) -> Self {
        use CohortStatus as S;
        use ErrorCode as E;
        match code {
            E::InvalidArgument => S::InvalidArgument,
            E::InvalidEmail => S::InvalidEmail,
            E::UnknownPermission => S::UnknownPermission,
            E::EmptyPermissions => S::EmptyPermissions,
            E::NotFound => S::NotFound,
            E::NotOwner => S::NotOwner,
            E::AlreadyMember => S::AlreadyMember,
            E::PendingInviteExists => S::PendingInviteExists,
            E::PendingCapReached => S::PendingCapReached,
            E::OwnerProtected => S::OwnerProtected,
            E::EmailMismatch => S::EmailMismatch,
            E::InviteNotOpen => S::InviteNotOpen,
            E::UserExists => S::UserExists,
            E::Forbidden => S::Forbidden,
            E::RateLimited => S::RateLimited,
            E::TokenEmpty => S::TokenEmpty,
            E::TokenTooLong => S::TokenTooLong,
            E::TokenNonAscii => S::TokenNonAscii,
            E::TokenMalformed => S::TokenMalformed,
            E::TokenWrongVersion => S::TokenWrongVersion,
            E::TokenNonCanonical => S::TokenNonCanonical,
            E::TokenUnknownKey => S::TokenUnknownKey,
            E::TokenBadSignature => S::TokenBadSignature,
            E::TokenExpired => S::TokenExpired,
            E::TokenNotYetValid => S::TokenNotYetValid,
            E::TokenUnknownInvite => S::TokenUnknownInvite,
            E::TokenSuperseded => S::TokenSuperseded,
            E::TokenAlreadyUsed => S::TokenAlreadyUsed,
            E::TokenCancelled => S::TokenCancelled,
            E::TokenDeclined => S::TokenDeclined,
            E::TokenWrongAccount => S::TokenWrongAccount,
            E::HookDenied => S::HookDenied,
            E::HookFailed => S::HookFailed,
            E::Storage => S::Storage,
            E::Busy => S::Busy,
            E::SchemaTooNew => S::SchemaTooNew,
            E::Config => S::Config,
            E::Key => S::Key,
            E::Io => S::Io,
            E::Unavailable => S::Unavailable,
            E::CommitUnknown => S::CommitUnknown,
            E::Internal => S::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_codes_keep_their_numbers_and_names() {
        for code in ErrorCode::ALL {
            let status = CohortStatus::from(*code);
            assert_eq!(status.number(), code.number(), "{code}");
            assert_eq!(status.name(), code.as_str());
            assert_eq!(status.core_code(), Some(*code));
        }
        // Every status between 1 and 99 comes from the core, and the other way round.
        let core_range: Vec<_> = CohortStatus::ALL
            .iter()
            .filter(|s| (1..100).contains(&s.number()))
            .collect();
        assert_eq!(core_range.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn numbers_are_unique_sorted_and_named() {
        let nums: Vec<i32> = CohortStatus::ALL.iter().map(|s| s.number()).collect();
        let mut sorted = nums.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(nums, sorted, "ALL is in numeric order without duplicates");
        let mut names: Vec<&str> = CohortStatus::ALL.iter().map(|s| s.name()).collect();
        assert!(!names.contains(&"unknown"));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CohortStatus::ALL.len(), "names are unique");
        for s in CohortStatus::ALL {
            assert_eq!(CohortStatus::from_number(s.number()), Some(*s));
            assert_eq!(s.c_name().to_str().unwrap(), s.name());
        }
        assert_eq!(CohortStatus::from_number(16), None);
        assert_eq!(CohortStatus::from_number(-1), None);
    }

    #[test]
    fn boundary_statuses_do_not_collide_with_core_codes() {
        for s in [
            CohortStatus::NullArgument,
            CohortStatus::InvalidUtf8,
            CohortStatus::InteriorNul,
            CohortStatus::InputTooLarge,
            CohortStatus::ClosedHandle,
            CohortStatus::Panic,
            CohortStatus::InvalidJson,
        ] {
            assert!((100..200).contains(&s.number()));
            assert_eq!(s.core_code(), None);
        }
    }
}
