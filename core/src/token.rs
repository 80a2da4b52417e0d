//! Signed invite tokens (format `cohort1`), specified in `docs/token-format.md`.
//!
//! ```text
//! cohort1.<key id>.<payload>.<mac>
//! payload = base64url( invite_id u64 BE | issued_at i64 BE | expires_at i64 BE | nonce 16 bytes | account id UTF-8 )
//! mac     = base64url( HMAC-SHA256(secret, "cohort-invite-v1\n" || "cohort1.<key id>.<payload>") )
//! ```
//! Base64url is unpadded and canonical: any text that does not re-encode to itself is rejected.
//! The token holds no personal data; the invited email stays in the database.

pub use crate::error::TokenReason;
use crate::error::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// The version prefix, first field of every token.
pub const VERSION: &str = "cohort1";
/// The domain-separation label that starts the MAC input.
pub const MAC_LABEL: &[u8] = b"cohort-invite-v1\n";
/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 512;
/// Longest account id a token can carry, in bytes.
pub const MAX_ACCOUNT_ID_LEN: usize = 128;
/// Longest key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 32;
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// Default tolerance for a verifier's clock running behind the issuer's, in seconds.
pub const DEFAULT_SKEW: i64 = 60;
/// Largest tolerance a verifier may be given, in seconds (one hour).
pub const MAX_SKEW: i64 = 3_600;
/// Longest lifetime (`expires_at - issued_at`) a token may claim, in seconds: the longest
/// `invite_ttl` (366 days). Cohort never signs a longer one, so a longer one is `malformed`.
pub const MAX_LIFETIME: i64 = 366 * 86_400;

const FIXED_LEN: usize = 8 + 8 + 8 + 16;
const MAC_B64_LEN: usize = 43;

/// What a token asserts, all of it covered by the MAC.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    pub key_id: String,
    pub invite_id: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    #[serde(skip)]
    pub nonce: [u8; 16],
    pub account_id: String,
}

impl Claims {
    /// The hash the database keeps for this token's nonce (the raw token is never stored).
    pub fn nonce_hash(&self) -> Vec<u8> {
        nonce_hash(&self.nonce)
    }

    /// The time checks of a verified token, after its signature (`docs/token-format.md` §4):
    /// `expired` when `now >= expires_at`, then `not_yet_valid` when `issued_at > now + skew`.
    /// Skew never extends a token's life.
    pub fn check_time(&self, now: i64, skew: i64) -> Result<()> {
        check_window(self.invite_id, self.issued_at, self.expires_at, now, skew)
    }
}

/// What a verified token says, read without allocating: the hot path of verification
/// ([`Keyring::verify_view`], [`Keyring::verify_link`], `cohort_token_verify`).
#[derive(Debug, Clone, Copy)]
pub struct TokenView<'t> {
    pub key_id: &'t str,
    pub invite_id: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub nonce: [u8; 16],
    account: [u8; MAX_ACCOUNT_ID_LEN],
    account_len: usize,
}

impl TokenView<'_> {
    /// The panel's account id the token was issued for.
    pub fn account_id(&self) -> &str {
        // Checked to be UTF-8 when the token was decoded.
        std::str::from_utf8(&self.account[..self.account_len]).unwrap_or_default()
    }

    /// The same claims as an owned [`Claims`].
    pub fn to_claims(&self) -> Claims {
        Claims {
            key_id: self.key_id.to_string(),
            invite_id: self.invite_id,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            nonce: self.nonce,
            account_id: self.account_id().to_string(),
        }
    }

    /// The time checks of [`Keyring::verify`].
    pub fn check_time(&self, now: i64, skew: i64) -> Result<()> {
        check_window(self.invite_id, self.issued_at, self.expires_at, now, skew)
    }
}

/// Expired means `now >= expires_at` (no grace); not yet valid means `issued_at > now + skew`.
fn check_window(
    invite_id: u64,
    issued_at: i64,
    expires_at: i64,
    now: i64,
    skew: i64,
) -> Result<()> {
    if now >= expires_at {
        return Err(Error::token(
            TokenReason::Expired,
            format!(
                "invite {} expired at {}",
                invite_id,
                crate::clock::format_rfc3339(expires_at)
            ),
        ));
    }
    if issued_at > now.saturating_add(skew) {
        return Err(Error::token(
            TokenReason::NotYetValid,
            format!(
                "issued at {}, which is in the future by more than the allowed {skew} s",
                crate::clock::format_rfc3339(issued_at)
            ),
        ));
    }
    Ok(())
}

/// Refuses a clock skew outside 0 to [`MAX_SKEW`] seconds.
pub fn check_skew(skew: i64) -> Result<()> {
    if !(0..=MAX_SKEW).contains(&skew) {
        return Err(Error::InvalidArgument {
            field: "skew",
            message: format!("{skew} s is outside 0 s to {MAX_SKEW} s (1 hour)"),
        });
    }
    Ok(())
}

/// SHA-256 over a label and the nonce: what the invite row stores.
pub fn nonce_hash(nonce: &[u8; 16]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"cohort-invite-nonce-v1\n");
    h.update(nonce);
    h.finalize().to_vec()
}

/// Fresh 128-bit nonce from the operating system.
pub fn random_nonce() -> Result<[u8; 16]> {
    let mut n = [0u8; 16];
    getrandom::getrandom(&mut n).map_err(|e| Error::Internal(format!("OS random source: {e}")))?;
    Ok(n)
}

/// Whether `kid` is a valid key id: 1-32 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_key_id(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KEY_ID_LEN
        && kid
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Key id → secret. Signs with the current key; verifies with any key it holds.
#[derive(Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<String, HmacSha256>,
    current: Option<String>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds a key. Refuses malformed ids, short secrets and duplicate ids.
    pub fn insert(&mut self, kid: &str, secret: &[u8]) -> Result<()> {
        if !valid_key_id(kid) {
            return Err(Error::Key {
                key: kid.into(),
                message: "a key id is 1-32 characters of A-Z, a-z, 0-9, _ and -".into(),
            });
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::Key {
                key: kid.into(),
                message: format!(
                    "secret is {} bytes; at least {MIN_SECRET_LEN} are required",
                    secret.len()
                ),
            });
        }
        if self.keys.contains_key(kid) {
            return Err(Error::Key {
                key: kid.into(),
                message: "defined twice".into(),
            });
        }
        let mac = HmacSha256::new_from_slice(secret).map_err(|e| Error::Internal(e.to_string()))?;
        self.keys.insert(kid.to_string(), mac);
        Ok(())
    }

    /// Chooses the signing key; it must already be in the ring.
    pub fn set_current(&mut self, kid: &str) -> Result<()> {
        if !self.keys.contains_key(kid) {
            return Err(Error::Key {
                key: kid.into(),
                message: "the current key is not in the keyring".into(),
            });
        }
        self.current = Some(kid.to_string());
        Ok(())
    }

    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// Signs claims with the current key (the `key_id` of `claims` is replaced by it).
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let kid = self.current.as_deref().ok_or_else(|| Error::Key {
            key: "(none)".into(),
            message: "no current signing key".into(),
        })?;
        self.sign_with(kid, claims)
    }

    /// Signs claims with a named key.
    pub fn sign_with(&self, kid: &str, claims: &Claims) -> Result<String> {
        let mac = self.keys.get(kid).ok_or_else(|| Error::Key {
            key: kid.into(),
            message: "not in the keyring".into(),
        })?;
        let acct = claims.account_id.as_bytes();
        if acct.is_empty() || acct.len() > MAX_ACCOUNT_ID_LEN {
            return Err(Error::InvalidArgument {
                field: "account id",
                message: format!("must be 1-{MAX_ACCOUNT_ID_LEN} bytes to be signed into a token"),
            });
        }
        let mut payload = Vec::with_capacity(FIXED_LEN + acct.len());
        payload.extend_from_slice(&claims.invite_id.to_be_bytes());
        payload.extend_from_slice(&claims.issued_at.to_be_bytes());
        payload.extend_from_slice(&claims.expires_at.to_be_bytes());
        payload.extend_from_slice(&claims.nonce);
        payload.extend_from_slice(acct);
        let mut text = format!("{VERSION}.{kid}.");
        URL_SAFE_NO_PAD.encode_string(&payload, &mut text);
        let mut m = mac.clone();
        m.update(MAC_LABEL);
        m.update(text.as_bytes());
        let tag = m.finalize().into_bytes();
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut text);
        Ok(text)
    }

    /// Verifies structure, signature and time window. `now` and `skew` are UTC seconds; `skew`
    /// must be 0 to [`MAX_SKEW`].
    ///
    /// Expired means `now >= expires_at` (no grace); not yet valid means `issued_at > now + skew`.
    pub fn verify(&self, token: &str, now: i64, skew: i64) -> Result<Claims> {
        Ok(self.verify_view(token, now, skew)?.to_claims())
    }

    /// [`Keyring::verify`] without allocating: the claims as a [`TokenView`].
    pub fn verify_view<'t>(&self, token: &'t str, now: i64, skew: i64) -> Result<TokenView<'t>> {
        check_skew(skew)?;
        let view = self.verify_signature_view(token)?;
        view.check_time(now, skew)?;
        Ok(view)
    }

    /// Verifies a token or a whole link (found by [`extract_token`]) as an integrator's verifier
    /// does: structure, signature and time window, no database. The one place that assembles
    /// link verification for the C ABI and the CLI.
    pub fn verify_link<'t>(
        &self,
        token_or_link: &'t str,
        now: i64,
        skew: i64,
    ) -> Result<TokenView<'t>> {
        self.verify_view(extract_token(token_or_link)?, now, skew)
    }

    /// Verifies structure and signature only (no time checks).
    pub fn verify_signature(&self, token: &str) -> Result<Claims> {
        Ok(self.verify_signature_view(token)?.to_claims())
    }

    /// [`Keyring::verify_signature`] without allocating.
    pub fn verify_signature_view<'t>(&self, token: &'t str) -> Result<TokenView<'t>> {
        let parts = split(token)?;
        let mac = self.keys.get(parts.kid).ok_or_else(|| {
            Error::token(
                TokenReason::UnknownKey,
                format!("key id {:?} is not configured", parts.kid),
            )
        })?;
        let mut m = mac.clone();
        m.update(MAC_LABEL);
        m.update(parts.signed.as_bytes());
        if m.verify_slice(&parts.tag).is_err() {
            return Err(Error::token(
                TokenReason::BadSignature,
                "signature does not match",
            ));
        }
        decode_view(parts.kid, &parts.payload[..parts.payload_len])
    }
}

/// Longest payload a valid token has: the fixed fields and the longest account id.
const MAX_PAYLOAD_LEN: usize = FIXED_LEN + MAX_ACCOUNT_ID_LEN;

struct Parts<'a> {
    kid: &'a str,
    signed: &'a str,
    payload: [u8; MAX_PAYLOAD_LEN + DECODE_SLACK],
    payload_len: usize,
    tag: [u8; 32],
}

/// Room the decoder needs beyond the decoded bytes to take its fast path.
const DECODE_SLACK: usize = 8;

/// Decodes strict unpadded base64url into `buf`, which holds the longest valid field plus
/// [`DECODE_SLACK`]; a longer field is decoded into a scratch buffer only to tell a
/// non-canonical text (`None`) from one that is merely too long (`Some(len)`, more than a valid
/// field), so the reasons stay those of a full decode while the valid path stays small.
fn decode_field(field: &str, buf: &mut [u8]) -> Option<usize> {
    if field.len().div_ceil(4) * 3 <= buf.len() {
        return URL_SAFE_NO_PAD.decode_slice(field, buf).ok();
    }
    let mut big = [0u8; MAX_TOKEN_LEN];
    URL_SAFE_NO_PAD.decode_slice(field, &mut big).ok()
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::token(TokenReason::Malformed, msg)
}

/// Decodes strict, canonical, unpadded base64url.
pub fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    if URL_SAFE_NO_PAD.encode(&bytes) != s {
        return None;
    }
    Some(bytes)
}

fn split(token: &str) -> Result<Parts<'_>> {
    if token.is_empty() {
        return Err(Error::token(TokenReason::Empty, "the token is empty"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::token(
            TokenReason::TooLong,
            format!(
                "the token is {} bytes; at most {MAX_TOKEN_LEN} are allowed",
                token.len()
            ),
        ));
    }
    if !token.is_ascii() {
        return Err(Error::token(
            TokenReason::NonAscii,
            "the token contains non-ASCII characters",
        ));
    }
    let mut fields = [""; 4];
    let mut count = 0;
    let mut start = 0;
    for (i, &b) in token.as_bytes().iter().enumerate() {
        if b == b'.' {
            if count < 4 {
                fields[count] = &token[start..i];
            }
            count += 1;
            start = i + 1;
        }
    }
    if count < 4 {
        fields[count] = &token[start..];
    }
    count += 1;
    if count != 4 {
        return Err(malformed(format!(
            "expected 4 dot-separated fields, found {count}"
        )));
    }
    if fields[0] != VERSION {
        return Err(Error::token(
            TokenReason::WrongVersion,
            format!(
                "version {:?} is not supported (expected {VERSION})",
                fields[0]
            ),
        ));
    }
    let kid = fields[1];
    if !valid_key_id(kid) {
        return Err(malformed(
            "the key id is not 1-32 characters of A-Z, a-z, 0-9, _ and -",
        ));
    }
    // The engine is strict: no padding, alphabet `A-Z a-z 0-9 - _` only, zero trailing bits, no
    // impossible lengths. So whatever decodes is canonical (re-encodes to itself), without
    // re-encoding on this hot path; `tests/vectors/tokens.json` and the property tests hold it to that.
    let mut payload = [0u8; MAX_PAYLOAD_LEN + DECODE_SLACK];
    let payload_len = decode_field(fields[2], &mut payload).ok_or_else(|| {
        Error::token(
            TokenReason::NonCanonical,
            "the payload is not canonical unpadded base64url",
        )
    })?;
    let mut tag_buf = [0u8; 32 + DECODE_SLACK];
    let tag_len = decode_field(fields[3], &mut tag_buf).ok_or_else(|| {
        Error::token(
            TokenReason::NonCanonical,
            "the signature is not canonical unpadded base64url",
        )
    })?;
    if fields[3].len() != MAC_B64_LEN || tag_len != 32 {
        return Err(malformed("the signature is not 32 bytes"));
    }
    if payload_len <= FIXED_LEN || payload_len > FIXED_LEN + MAX_ACCOUNT_ID_LEN {
        return Err(malformed(format!(
            "the payload is {payload_len} bytes; expected 41-168"
        )));
    }
    let signed_len = fields[0].len() + 1 + kid.len() + 1 + fields[2].len();
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&tag_buf[..32]);
    Ok(Parts {
        kid,
        signed: &token[..signed_len],
        payload,
        payload_len,
        tag,
    })
}

fn decode_view<'t>(kid: &'t str, p: &[u8]) -> Result<TokenView<'t>> {
    let be8 = |i: usize| -> [u8; 8] {
        let mut b = [0u8; 8];
        b.copy_from_slice(&p[i..i + 8]);
        b
    };
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&p[24..40]);
    let account_bytes = &p[FIXED_LEN..];
    std::str::from_utf8(account_bytes).map_err(|_| malformed("the account id is not UTF-8"))?;
    let mut account = [0u8; MAX_ACCOUNT_ID_LEN];
    account[..account_bytes.len()].copy_from_slice(account_bytes);
    let view = TokenView {
        key_id: kid,
        invite_id: u64::from_be_bytes(be8(0)),
        issued_at: i64::from_be_bytes(be8(8)),
        expires_at: i64::from_be_bytes(be8(16)),
        nonce,
        account,
        account_len: account_bytes.len(),
    };
    if view.expires_at <= view.issued_at {
        return Err(malformed("expires_at is not after issued_at"));
    }
    // Widened, so that no pair of 64-bit times can overflow.
    let lifetime = i128::from(view.expires_at) - i128::from(view.issued_at);
    if lifetime > i128::from(MAX_LIFETIME) {
        return Err(malformed(format!(
            "the token claims a lifetime of {lifetime} s; at most {MAX_LIFETIME} s (366 days) are allowed"
        )));
    }
    Ok(view)
}

/// Finds the token in a whole link, or returns the input trimmed (`docs/token-format.md` §7).
///
/// Surrounding ASCII whitespace is ignored. When the query (after the first `?`, before any `#`)
/// has a parameter named exactly `token`, its value is the token (`…?token=T&x=1`); a link with
/// more than one such parameter is refused as `malformed` rather than guessing which one counts.
/// Otherwise, when the text holds a `/`, the token is the last path segment once every trailing
/// `/` is dropped (`…/invite/T`, `…/invite/T//`, `…?rp=/invite/T`), cut at the first `?` or `&`;
/// otherwise the whole text is the token.
pub fn extract_token(token_or_link: &str) -> Result<&str> {
    let s = token_or_link.trim_matches(|c: char| c.is_ascii_whitespace());
    let no_frag = s.split('#').next().unwrap_or(s);
    if let Some((_, query)) = no_frag.split_once('?') {
        let mut found = query.split('&').filter_map(|p| p.strip_prefix("token="));
        if let Some(t) = found.next() {
            let others = found.count();
            if others > 0 {
                return Err(malformed(format!(
                    "the link has {} token= parameters; exactly one is allowed",
                    others + 1
                )));
            }
            return Ok(t);
        }
    }
    if s.contains('/') {
        let tail = no_frag.trim_end_matches('/');
        let last = tail.rsplit('/').next().unwrap_or(tail);
        return Ok(last.split(['?', '&']).next().unwrap_or(last));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> Keyring {
        let mut k = Keyring::new();
        k.insert("k1", &[7u8; 32]).unwrap();
        k.insert("k2", &[9u8; 32]).unwrap();
        k.set_current("k2").unwrap();
        k
    }

    fn claims() -> Claims {
        Claims {
            key_id: String::new(),
            invite_id: 42,
            issued_at: 1_000,
            expires_at: 1_000 + 7 * 86_400,
            nonce: [3u8; 16],
            account_id: "1042".into(),
        }
    }

    fn reason(r: Result<Claims>) -> TokenReason {
        match r {
            Err(Error::Token { reason, .. }) => reason,
            other => panic!("expected a token error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_rotation() {
        let k = ring();
        let t = k.sign(&claims()).unwrap();
        assert!(t.starts_with("cohort1.k2."));
        let c = k.verify(&t, 2_000, 60).unwrap();
        assert_eq!(c.invite_id, 42);
        assert_eq!(c.account_id, "1042");
        assert_eq!(c.key_id, "k2");
        // An old key still verifies; removing it kills its links.
        let old = k.sign_with("k1", &claims()).unwrap();
        assert!(k.verify(&old, 2_000, 60).is_ok());
        let mut only2 = Keyring::new();
        only2.insert("k2", &[9u8; 32]).unwrap();
        assert_eq!(
            reason(only2.verify(&old, 2_000, 60)),
            TokenReason::UnknownKey
        );
    }

    #[test]
    fn each_defect_has_its_reason() {
        let k = ring();
        let t = k.sign(&claims()).unwrap();
        assert_eq!(reason(k.verify("", 2_000, 60)), TokenReason::Empty);
        assert_eq!(
            reason(k.verify(&"a".repeat(513), 2_000, 60)),
            TokenReason::TooLong
        );
        assert_eq!(
            reason(k.verify(&format!("{t}é"), 2_000, 60)),
            TokenReason::NonAscii
        );
        assert_eq!(
            reason(k.verify(&t.replacen("cohort1", "cohort2", 1), 2_000, 60)),
            TokenReason::WrongVersion
        );
        assert_eq!(
            reason(k.verify(&format!("{t}.x"), 2_000, 60)),
            TokenReason::Malformed
        );
        assert_eq!(
            reason(k.verify(&t[..t.len() - 1], 2_000, 60)),
            TokenReason::NonCanonical
        );
        assert_eq!(
            reason(k.verify(&format!("{t}="), 2_000, 60)),
            TokenReason::NonCanonical
        );
        assert_eq!(
            reason(k.verify(&t.replacen(".k2.", ".k9.", 1), 2_000, 60)),
            TokenReason::UnknownKey
        );
        assert_eq!(
            reason(k.verify(&t, 1_000 + 7 * 86_400, 60)),
            TokenReason::Expired
        );
        assert!(k.verify(&t, 1_000 + 7 * 86_400 - 1, 60).is_ok());
        assert_eq!(reason(k.verify(&t, 939, 60)), TokenReason::NotYetValid);
        assert!(k.verify(&t, 940, 60).is_ok());
        // Signed by another keyring with the same key id.
        let mut other = Keyring::new();
        other.insert("k2", &[1u8; 32]).unwrap();
        other.set_current("k2").unwrap();
        let forged = other.sign(&claims()).unwrap();
        assert_eq!(
            reason(k.verify(&forged, 2_000, 60)),
            TokenReason::BadSignature
        );
    }

    #[test]
    fn keyring_refuses_bad_keys() {
        let mut k = Keyring::new();
        assert!(k.insert("k1", &[0u8; 31]).is_err());
        assert!(k.insert("bad id", &[0u8; 32]).is_err());
        assert!(k.insert("k1", &[0u8; 32]).is_ok());
        assert!(k.insert("k1", &[1u8; 32]).is_err());
        assert!(k.set_current("k9").is_err());
        assert!(k.sign(&claims()).is_err(), "no current key yet");
    }

    #[test]
    fn extracts_tokens_from_links() {
        fn x(link: &str) -> &str {
            extract_token(link).unwrap()
        }
        assert_eq!(x("https://p.example/invite?token=abc.def&x=1"), "abc.def");
        assert_eq!(
            x("https://p.example/index.php?rp=/invite/abc.def"),
            "abc.def"
        );
        assert_eq!(x("https://p.example/invite/abc.def/#top"), "abc.def");
        assert_eq!(x("https://p.example/invite/abc.def?utm=x"), "abc.def");
        assert_eq!(x("  abc.def \n"), "abc.def");
        // Every trailing slash is dropped.
        assert_eq!(x("https://p.example/invite/abc.def///"), "abc.def");
        // Only a parameter named exactly `token` counts, and only in the query.
        assert_eq!(
            x("https://p.example/accept?csrf_token=x&token=abc.def"),
            "abc.def"
        );
        assert_eq!(x("https://p.example/invite/abc.def#token=x"), "abc.def");
        // Only ASCII whitespace is trimmed, as the stdlib verifiers do.
        assert_eq!(x("abc.def\u{a0}"), "abc.def\u{a0}");
    }

    #[test]
    fn a_link_with_two_token_parameters_is_refused() {
        for link in [
            "https://p.example/accept?token=abc.def&token=ghi.jkl",
            "https://p.example/accept?token=abc.def&x=1&token=abc.def",
            "https://p.example/accept?token=&token=abc.def",
        ] {
            let e = extract_token(link).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Token {
                        reason: TokenReason::Malformed,
                        ..
                    }
                ),
                "{link}: {e}"
            );
        }
        // One in the query and one in the fragment: the fragment is not the query.
        assert_eq!(
            extract_token("https://p.example/accept?token=abc.def#token=x").unwrap(),
            "abc.def"
        );
    }

    #[test]
    fn lifetime_is_capped() {
        let k = ring();
        let at = |iat: i64, exp: i64| {
            let c = Claims {
                issued_at: iat,
                expires_at: exp,
                ..claims()
            };
            k.verify_signature(&k.sign(&c).unwrap())
        };
        assert!(at(1_000, 1_000 + MAX_LIFETIME).is_ok());
        assert_eq!(
            reason(at(1_000, 1_001 + MAX_LIFETIME)),
            TokenReason::Malformed
        );
        assert_eq!(reason(at(1_000, i64::MAX)), TokenReason::Malformed);
        assert_eq!(reason(at(i64::MIN, i64::MAX)), TokenReason::Malformed);
        assert_eq!(reason(at(1_000, 1_000)), TokenReason::Malformed);
        assert_eq!(reason(at(1_000, 999)), TokenReason::Malformed);
    }

    #[test]
    fn skew_is_capped() {
        let k = ring();
        let t = k.sign(&claims()).unwrap();
        assert!(k.verify(&t, 2_000, MAX_SKEW).is_ok());
        for skew in [MAX_SKEW + 1, -1, i64::MAX] {
            assert!(
                matches!(
                    k.verify(&t, 2_000, skew),
                    Err(Error::InvalidArgument { field: "skew", .. })
                ),
                "{skew}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn sign_verify_round_trips(id in any::<u64>(), iat in 0i64..4_000_000_000, ttl in 1i64..=MAX_LIFETIME,
                                   nonce in any::<[u8; 16]>(), acct in "[a-zA-Z0-9 _.-]{1,64}") {
            let k = ring();
            let c = Claims { key_id: String::new(), invite_id: id, issued_at: iat, expires_at: iat + ttl, nonce, account_id: acct };
            let t = k.sign(&c).unwrap();
            let v = k.verify(&t, iat, 0).unwrap();
            prop_assert_eq!(v.invite_id, c.invite_id);
            prop_assert_eq!(v.expires_at, c.expires_at);
            prop_assert_eq!(v.nonce, c.nonce);
            prop_assert_eq!(v.account_id, c.account_id);
        }

        #[test]
        fn any_single_byte_change_is_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let k = ring();
            let t = k.sign(&claims()).unwrap();
            let mut b = t.clone().into_bytes();
            let i = pos.index(b.len());
            prop_assume!(b[i] != byte);
            b[i] = byte;
            let s = String::from_utf8_lossy(&b).into_owned();
            prop_assert!(k.verify(&s, 2_000, 60).is_err(), "accepted {} (from {})", s, t);
        }

        #[test]
        fn parse_never_panics_and_accepted_is_canonical(s in "\\PC{0,200}") {
            let k = ring();
            if let Ok(c) = k.verify_signature(&s) {
                prop_assert_eq!(k.sign_with(&c.key_id, &c).unwrap(), s);
            }
        }
    }
}
