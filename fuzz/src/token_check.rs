//! Property: the token verifier never panics, agrees with the spec's reading (`spec.rs`) on
//! every input, reason for reason (genuine tokens included, up to and over the lifetime cap),
//! and anything it accepts re-encodes to itself.

use crate::spec;
use cohort_core::token::{extract_token, Claims, Keyring};
use cohort_core::Error;

const NOW: i64 = 1_795_946_400;
const SKEW: i64 = 60;

fn secret(kid: &str) -> Option<Vec<u8>> {
    match kid {
        "k1" => Some(vec![7u8; 32]),
        "k2" => Some(vec![9u8; 32]),
        "legacy_2025-q4" => Some((0u8..100).collect()),
        _ => None,
    }
}

fn ring() -> Keyring {
    let mut k = Keyring::new();
    for kid in ["k1", "k2", "legacy_2025-q4"] {
        k.insert(kid, &secret(kid).unwrap()).unwrap();
    }
    k
}

/// Reads fuzzer bytes as numbers, yielding zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |n, _| (n << 8) | u64::from(self.u8()))
    }
}

/// Runs one input: either a raw string, or a genuine token that the input then edits.
pub fn check(data: &[u8]) {
    let mut b = Bytes(data);
    let mode = b.u8();
    let ring = ring();
    let (token, now) = if mode % 4 == 0 {
        (String::from_utf8_lossy(b.0).into_owned(), NOW)
    } else {
        let kid = ["k1", "k2", "legacy_2025-q4"][usize::from(b.u8() % 3)];
        let issued_at = NOW - i64::from(b.u8()) * 97;
        // Mode 3 aims at the lifetime cap: up to 128 s under it or over it.
        let ttl = if mode % 4 == 3 {
            spec::MAX_LIFETIME - 127 + i64::from(b.u8())
        } else {
            1 + i64::from(b.u8()) * 211
        };
        let mut nonce = [0u8; 16];
        nonce.iter_mut().for_each(|n| *n = b.u8());
        let acct_len = 1 + usize::from(b.u8() % 128);
        let claims = Claims {
            key_id: String::new(),
            invite_id: b.u64(),
            issued_at,
            expires_at: issued_at + ttl,
            nonce,
            account_id: "7".repeat(acct_len),
        };
        let genuine = ring
            .sign_with(kid, &claims)
            .expect("signing genuine claims");
        let now = issued_at - 90 + i64::from(b.u8()) * 4;
        let mut t = genuine.into_bytes();
        // Edits: (what, where, byte) triples until the input runs out.
        while !b.0.is_empty() {
            let (what, at, byte) = (b.u8(), usize::from(b.u8()), b.u8());
            let at = at % (t.len() + 1);
            match what % 5 {
                0 if at < t.len() => t[at] = byte,
                1 => t.insert(at, byte),
                2 if at < t.len() => {
                    t.remove(at);
                }
                3 => t.truncate(at),
                _ => t.resize(t.len() + usize::from(what) * 3, byte),
            }
        }
        (String::from_utf8_lossy(&t).into_owned(), now)
    };
    compare(&ring, &token, now);
}

/// The real verifier and the spec agree on `token`; accepted tokens re-encode to themselves and
/// survive being put in a link.
pub fn compare(ring: &Keyring, token: &str, now: i64) {
    let real = ring.verify(token, now, SKEW);
    let by_spec = spec::verify(token, &secret, now, SKEW);
    match (&real, &by_spec) {
        (Ok(c), Ok(s)) => {
            assert_eq!(
                (
                    &c.key_id,
                    c.invite_id,
                    c.issued_at,
                    c.expires_at,
                    &c.nonce,
                    &c.account_id
                ),
                (
                    &s.key_id,
                    s.invite_id,
                    s.issued_at,
                    s.expires_at,
                    &s.nonce,
                    &s.account_id
                ),
                "claims differ for {token:?}"
            );
            let again = ring
                .sign_with(&c.key_id, c)
                .expect("re-signing accepted claims");
            assert_eq!(
                again, token,
                "an accepted token does not re-encode to itself"
            );
            // More than one `token=` parameter: refused, whichever way the values agree.
            let twice = format!("https://panel.example.com/accept?token={token}&token={token}");
            assert!(extract_token(&twice).is_err(), "{twice:?} is accepted");
            for link in [
                format!("https://panel.example.com/index.php?rp=/invite/{token}"),
                format!(" https://panel.example.com/accept?utm=x&token={token}#top\n"),
                format!("https://panel.example.com/invite/{token}/"),
            ] {
                assert_eq!(extract_token(&link).ok(), Some(token), "from {link:?}");
            }
        }
        (Err(Error::Token { reason, .. }), Err(s)) => {
            assert_eq!(reason.as_str(), *s, "reasons differ for {token:?}");
        }
        _ => panic!("verifier and spec disagree on {token:?}: {real:?} vs {by_spec:?}"),
    }
    // Never panics on anything, link or not.
    let _ = extract_token(token);
}
