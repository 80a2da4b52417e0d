//! A second, independent reading of `docs/token-format.md`, written from the document and not
//! from `core/src/token.rs`: hand-written strict base64url, the fields, the MAC input and the
//! order of the checks. The fuzz targets and the property tests compare the real verifier with
//! it, reason for reason.
//!
//! Shared by the fuzz crate (`fuzz/src/lib.rs`) and core's property tests (`#[path]`), so it
//! only uses `std`, `hmac` and `sha2`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const LABEL: &[u8] = b"cohort-invite-v1\n";
pub const MAX_LEN: usize = 512;
/// Longest lifetime (`expires_at - issued_at`) a token may claim: 366 days.
pub const MAX_LIFETIME: i64 = 31_622_400;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Claims in the order the payload holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecClaims {
    pub key_id: String,
    pub invite_id: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub nonce: [u8; 16],
    pub account_id: String,
}

pub fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Strict unpadded base64url: only the 64 characters, never a length of 1 mod 4, and the unused
/// low bits of the last character are zero (so the text is the one encoding of its bytes).
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut vals = Vec::with_capacity(s.len());
    for c in s.bytes() {
        vals.push(ALPHABET.iter().position(|&a| a == c)? as u32);
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        for i in 0..bytes {
            out.push((n >> (16 - 8 * i)) as u8);
        }
        // Bits the last character carries beyond the bytes it encodes must be zero.
        let used = 8 * bytes;
        if chunk.len() < 4 && n & ((1u32 << (24 - used)) - 1) != 0 {
            return None;
        }
    }
    Some(out)
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn key_id_ok(kid: &str) -> bool {
    (1..=32).contains(&kid.len())
        && kid
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// Verifies `token` as the spec says, step by step; `key` looks a secret up by key id.
pub fn verify(
    token: &str,
    key: &dyn Fn(&str) -> Option<Vec<u8>>,
    now: i64,
    skew: i64,
) -> Result<SpecClaims, &'static str> {
    if token.is_empty() {
        return Err("empty");
    }
    if token.len() > MAX_LEN {
        return Err("too_long");
    }
    if token.bytes().any(|b| b >= 0x80) {
        return Err("non_ascii");
    }
    let f: Vec<&str> = token.split('.').collect();
    if f.len() != 4 {
        return Err("malformed");
    }
    if f[0] != "cohort1" {
        return Err("wrong_version");
    }
    if !key_id_ok(f[1]) {
        return Err("malformed");
    }
    let payload = b64url_decode(f[2]).ok_or("non_canonical")?;
    let mac = b64url_decode(f[3]).ok_or("non_canonical")?;
    if mac.len() != 32 {
        return Err("malformed");
    }
    if payload.len() < 41 || payload.len() > 40 + 128 {
        return Err("malformed");
    }
    let secret = key(f[1]).ok_or("unknown_key")?;
    let signed = &token[..token.len() - f[3].len() - 1];
    if hmac_sha256(&secret, &[LABEL, signed.as_bytes()])[..] != mac[..] {
        return Err("bad_signature");
    }
    let int = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&payload[at..at + 8]);
        b
    };
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&payload[24..40]);
    let account_id = String::from_utf8(payload[40..].to_vec()).map_err(|_| "malformed")?;
    let c = SpecClaims {
        key_id: f[1].to_string(),
        invite_id: u64::from_be_bytes(int(0)),
        issued_at: i64::from_be_bytes(int(8)),
        expires_at: i64::from_be_bytes(int(16)),
        nonce,
        account_id,
    };
    // A lifetime of at most 366 days, computed without overflow.
    if c.expires_at <= c.issued_at
        || i128::from(c.expires_at) - i128::from(c.issued_at) > i128::from(MAX_LIFETIME)
    {
        return Err("malformed");
    }
    if now >= c.expires_at {
        return Err("expired");
    }
    if c.issued_at > now.saturating_add(skew) {
        return Err("not_yet_valid");
    }
    Ok(c)
}

/// Builds a token from raw payload bytes; `label` false leaves the domain label out (a forgery
/// that a correct verifier refuses).
pub fn sign_raw(secret: &[u8], kid: &str, payload: &[u8], label: bool) -> String {
    let signed = format!("cohort1.{kid}.{}", b64url_encode(payload));
    let l: &[u8] = if label { LABEL } else { b"" };
    let mac = hmac_sha256(secret, &[l, signed.as_bytes()]);
    format!("{signed}.{}", b64url_encode(&mac))
}

/// The payload bytes for the given claims.
pub fn payload(
    invite_id: u64,
    issued_at: i64,
    expires_at: i64,
    nonce: &[u8; 16],
    account: &[u8],
) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&invite_id.to_be_bytes());
    p.extend_from_slice(&issued_at.to_be_bytes());
    p.extend_from_slice(&expires_at.to_be_bytes());
    p.extend_from_slice(nonce);
    p.extend_from_slice(account);
    p
}
