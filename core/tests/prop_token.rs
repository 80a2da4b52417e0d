//! Tokens beyond the unit tests: RFC 4231 HMAC-SHA256 cases, the committed test vectors
//! (`tests/vectors/tokens.json`, rebuilt here with the real signer and compared byte for byte),
//! and property runs of the token fuzz target (`fuzz/fuzz_targets/token_verify.rs`).
//!
//! After a deliberate change to the vectors: `COHORT_WRITE_VECTORS=1 cargo test -p cohort-core
//! --test prop_token` rewrites the file; review the diff like code.

#[path = "../../fuzz/src/spec.rs"]
mod spec;
#[path = "../../fuzz/src/token_check.rs"]
mod token_check;

use cohort_core::clock::format_rfc3339;
use cohort_core::config::decode_hex_secret;
use cohort_core::token::{Claims, Keyring, MAX_LIFETIME};
use cohort_core::Error;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The fixed "now" of every vector: 2026-11-29T10:00:00Z.
const NOW: i64 = 1_795_946_400;
const SKEW: i64 = 60;
const DAY: i64 = 86_400;

/// RFC 4231 test cases 1 and 2: (key, data, HMAC-SHA256).
const RFC4231: [(&[u8], &[u8], &str); 2] = [
    (
        &[0x0b; 20],
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha(label: &str) -> Vec<u8> {
    Sha256::digest(label.as_bytes()).to_vec()
}

#[test]
fn rfc4231_hmac_sha256_cases_1_and_2() {
    for (key, data, mac) in RFC4231 {
        // The HMAC that signs tokens (hmac + sha2, as in core/src/token.rs).
        assert_eq!(hex(&spec::hmac_sha256(key, &[data])), mac);
        // Split input gives the same MAC (the token MAC is fed as label, then text).
        let (a, b) = data.split_at(3);
        assert_eq!(hex(&spec::hmac_sha256(key, &[a, b])), mac);
    }
}

/// The keys published in the vectors file.
fn keys() -> Vec<(&'static str, Vec<u8>)> {
    let mut b64 = sha("cohort vectors rotation-2027_b 1");
    b64.extend(sha("cohort vectors rotation-2027_b 2"));
    vec![
        ("k1", (0u8..32).collect()),
        ("k2", sha("cohort vectors k2")),
        ("rotation-2027_b", b64),
        (
            "legacy",
            (0u8..100).map(|i| i.wrapping_mul(7) ^ 0x5c).collect(),
        ),
        (
            "abcdefghijklmnopqrstuvwxyz-_0123",
            sha("cohort vectors long key id"),
        ),
    ]
}

/// A key that signs some vectors but is not published: its tokens have an unknown key id.
fn unpublished() -> Vec<u8> {
    sha("cohort vectors k3 (not published)")
}

fn nonce(seed: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    n.copy_from_slice(&sha(&format!("nonce {seed}"))[..16]);
    n
}

fn claims(invite_id: u64, issued_at: i64, expires_at: i64, seed: &str, acct: &str) -> Claims {
    Claims {
        key_id: String::new(),
        invite_id,
        issued_at,
        expires_at,
        nonce: nonce(seed),
        account_id: acct.into(),
    }
}

struct Gen {
    ring: Keyring,
    keys: Vec<(&'static str, Vec<u8>)>,
    vectors: Vec<String>,
    names: Vec<String>,
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

impl Gen {
    fn new() -> Gen {
        let keys = keys();
        let mut ring = Keyring::new();
        for (kid, secret) in &keys {
            ring.insert(kid, secret).unwrap();
        }
        Gen {
            ring,
            keys,
            vectors: Vec::new(),
            names: Vec::new(),
        }
    }

    fn secret(&self, kid: &str) -> Option<Vec<u8>> {
        self.keys
            .iter()
            .find(|(k, _)| *k == kid)
            .map(|(_, s)| s.clone())
    }

    fn sign(&self, kid: &str, c: &Claims) -> String {
        let t = self.ring.sign_with(kid, c).unwrap();
        // The spec's own construction gives the same bytes.
        let p = spec::payload(
            c.invite_id,
            c.issued_at,
            c.expires_at,
            &c.nonce,
            c.account_id.as_bytes(),
        );
        assert_eq!(spec::sign_raw(&self.secret(kid).unwrap(), kid, &p, true), t);
        t
    }

    fn name(&mut self, name: &str) {
        assert!(!self.names.iter().any(|n| n == name), "duplicate {name}");
        self.names.push(name.into());
    }

    fn valid(&mut self, name: &str, description: &str, token: &str) {
        self.name(name);
        let c = self
            .ring
            .verify(token, NOW, SKEW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = spec::verify(token, &|k| self.secret(k), NOW, SKEW).unwrap();
        assert_eq!(
            (c.invite_id, c.issued_at, c.expires_at, &c.account_id),
            (s.invite_id, s.issued_at, s.expires_at, &s.account_id)
        );
        self.vectors.push(format!(
            "    {{\"name\": {}, \"valid\": true, \"token\": {},\n     \"claims\": {{\"key_id\": {}, \"invite_id\": {}, \"issued_at\": {}, \"expires_at\": {}, \"account_id\": {}}},\n     \"description\": {}}}",
            js(name),
            js(token),
            js(&c.key_id),
            c.invite_id,
            c.issued_at,
            c.expires_at,
            js(&c.account_id),
            js(description)
        ));
    }

    fn invalid(&mut self, name: &str, reason: &str, description: &str, token: &str) {
        self.name(name);
        match self.ring.verify(token, NOW, SKEW) {
            Err(Error::Token { reason: r, .. }) => {
                assert_eq!(r.as_str(), reason, "{name}: verifier says {r:?}")
            }
            other => panic!("{name}: expected {reason}, got {other:?}"),
        }
        assert_eq!(
            spec::verify(token, &|k| self.secret(k), NOW, SKEW).err(),
            Some(reason),
            "{name}: the spec's reading differs"
        );
        assert!(
            !token.starts_with(|c: char| c.is_ascii_whitespace())
                && !token.ends_with(|c: char| c.is_ascii_whitespace())
                && !token.contains(['&', '#']),
            "{name}: must survive `?token=` link extraction unchanged"
        );
        self.vectors.push(format!(
            "    {{\"name\": {}, \"valid\": false, \"reason\": {}, \"token\": {},\n     \"description\": {}}}",
            js(name),
            js(reason),
            js(token),
            js(description)
        ));
    }
}

fn fields(t: &str) -> Vec<String> {
    t.split('.').map(str::to_string).collect()
}

fn join(f: &[String]) -> String {
    f.join(".")
}

fn b64_index(c: u8) -> usize {
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .iter()
        .position(|&a| a == c)
        .unwrap()
}

/// Sets a low bit of the last character that a canonical encoding leaves zero.
fn set_trailing_bit(field: &str) -> String {
    let b = field.as_bytes();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = b64_index(b[b.len() - 1]);
    assert_eq!(last & 1, 0, "canonical last character");
    let mut s = field[..field.len() - 1].to_string();
    s.push(alphabet[last | 1] as char);
    s
}

/// Key file texts for the secret of `k1` (given as lower-case hex): what a verifier reading a
/// key file must accept, and what it must refuse (`docs/token-format.md` section 5).
fn key_files(k1: &str) -> Vec<String> {
    let upper = k1.to_uppercase();
    assert_ne!(upper, k1, "k1 has letters in its hex");
    // Upper case in the first half, lower case in the second.
    let mixed = format!("{}{}", k1[..32].to_uppercase(), &k1[32..]);
    let accepted = [
        (
            "plain",
            k1.to_string(),
            "64 lower-case hex digits, nothing else.",
        ),
        (
            "trailing_newline",
            format!("{k1}\n"),
            "A trailing newline, as an editor or echo writes it.",
        ),
        ("trailing_crlf", format!("{k1}\r\n"), "A trailing CR LF."),
        ("upper_case", upper, "Upper-case hex digits."),
        (
            "mixed_case",
            mixed,
            "Upper- and lower-case hex digits in one file.",
        ),
        (
            "surrounding_whitespace",
            format!(" \t{k1}\n\n"),
            "Spaces, tabs and blank lines around the digits.",
        ),
    ];
    let refused = [
        ("empty", String::new(), "An empty file."),
        (
            "too_short",
            k1[..62].to_string(),
            "62 hex digits: a secret is at least 32 bytes.",
        ),
        (
            "odd_length",
            format!("{k1}0"),
            "65 hex digits: not a whole number of bytes.",
        ),
        (
            "inner_newline",
            format!("{}\n{}", &k1[..32], &k1[32..]),
            "The digits wrapped over two lines.",
        ),
        (
            "inner_space",
            format!("{} {}", &k1[..32], &k1[32..]),
            "A space between the digits.",
        ),
        ("hex_prefix", format!("0x{k1}"), "A 0x prefix."),
        (
            "plus_sign",
            format!("+{}", &k1[1..]),
            "A + in place of the first digit (some integer parsers read \"+0\" as 0).",
        ),
        (
            "trailing_nbsp",
            format!("{k1}\u{a0}"),
            "A trailing no-break space (U+00A0): only ASCII whitespace is trimmed.",
        ),
        ("trailing_nul", format!("{k1}\0"), "A trailing NUL byte."),
        (
            "trailing_vertical_tab",
            format!("{k1}\u{b}"),
            "A trailing vertical tab.",
        ),
        (
            "not_hex",
            format!("{}g", &k1[..63]),
            "A g among the digits.",
        ),
    ];
    let mut out = Vec::new();
    for (name, text, description) in accepted {
        let secret = decode_hex_secret("k1", &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hex(&secret), k1, "{name}");
        out.push(format!(
            "    {{\"name\": {}, \"accepted\": true, \"text\": {}, \"secret\": {},\n     \"description\": {}}}",
            js(name),
            js(&text),
            js(k1),
            js(description)
        ));
    }
    for (name, text, description) in refused {
        assert!(
            decode_hex_secret("k1", &text).is_err(),
            "{name} is accepted"
        );
        out.push(format!(
            "    {{\"name\": {}, \"accepted\": false, \"text\": {},\n     \"description\": {}}}",
            js(name),
            js(&text),
            js(description)
        ));
    }
    out
}

fn generate() -> String {
    let mut g = Gen::new();
    let iat = NOW - 3_600;
    let week = 7 * DAY;
    let base = g.sign("k1", &claims(42, iat, iat + week, "base", "1042"));
    let f = fields(&base);
    assert_eq!(f[2].len(), 59, "44-byte payload");

    // ---------- valid ----------
    g.valid(
        "valid_k1",
        "Invite 42 of account 1042, issued an hour ago, valid for 7 days, signed with k1.",
        &base,
    );
    let t = g.sign("k2", &claims(43, iat, iat + week, "k2", "1042"));
    g.valid(
        "valid_k2",
        "Signed with k2: a verifier holding several keys picks the one the key id names.",
        &t,
    );
    let t = g.sign(
        "rotation-2027_b",
        &claims(44, iat, iat + week, "rot", "55012"),
    );
    g.valid(
        "valid_64_byte_secret",
        "A 64-byte secret (the SHA-256 block size) and a key id with - and _.",
        &t,
    );
    let t = g.sign("legacy", &claims(45, iat, iat + week, "legacy", "55012"));
    g.valid(
        "valid_100_byte_secret",
        "A 100-byte secret: longer than the block size, so HMAC hashes it first.",
        &t,
    );
    let t = g.sign(
        "abcdefghijklmnopqrstuvwxyz-_0123",
        &claims(46, iat, iat + week, "kid32", "1042"),
    );
    g.valid(
        "valid_key_id_32_chars",
        "The longest key id, 32 characters.",
        &t,
    );
    let t = g.sign("k1", &claims(47, NOW - DAY, NOW + 1, "edge1", "1042"));
    g.valid(
        "valid_expires_next_second",
        "expires_at = now + 1: still valid for one second.",
        &t,
    );
    let t = g.sign("k1", &claims(48, NOW, NOW + 60, "now", "1042"));
    g.valid("valid_issued_now", "issued_at = now.", &t);
    let t = g.sign("k1", &claims(49, NOW + SKEW, NOW + DAY, "skew", "1042"));
    g.valid(
        "valid_issued_at_skew_edge",
        "issued_at = now + 60: the issuer's clock is ahead by exactly the allowed skew.",
        &t,
    );
    let t = g.sign("k2", &claims(u64::MAX, iat, iat + week, "max", "1042"));
    g.valid(
        "valid_max_invite_id",
        "invite_id = 2^64 - 1: the id is unsigned (PHP must not print it negative).",
        &t,
    );
    let long_acct: String = (0..128).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let t = g.sign("k1", &claims(50, iat, iat + week, "long", &long_acct));
    g.valid(
        "valid_account_id_128_bytes",
        "The longest account id, 128 bytes (a 168-byte payload).",
        &t,
    );
    let t = g.sign("k1", &claims(51, iat, iat + week, "short", "7"));
    g.valid(
        "valid_account_id_1_byte",
        "The shortest account id, 1 byte (a 41-byte payload).",
        &t,
    );
    let t = g.sign("k2", &claims(52, iat, iat + week, "utf8", "compte-é-1042"));
    g.valid(
        "valid_account_id_utf8",
        "A UTF-8 account id; the token itself stays ASCII.",
        &t,
    );
    // A token whose MAC holds both - and _, for the standard-alphabet vectors.
    let alpha = (0..)
        .map(|i| {
            g.sign(
                "k1",
                &claims(54, iat, iat + week, &format!("alpha{i}"), "1042"),
            )
        })
        .find(|t| fields(t)[3].contains('-') && fields(t)[3].contains('_'))
        .unwrap();
    g.valid(
        "valid_with_url_safe_characters",
        "The MAC holds - and _, the URL-safe base64 characters.",
        &alpha,
    );

    // ---------- size and characters ----------
    g.invalid("empty", "empty", "The empty string.", "");
    g.invalid(
        "too_long_513",
        "too_long",
        "513 bytes, one more than the maximum; the length is checked before anything else.",
        &"A".repeat(513),
    );
    g.invalid(
        "too_long_valid_prefix",
        "too_long",
        "A genuine token followed by filler up to 513 bytes.",
        &format!("{base}{}", "A".repeat(513 - base.len())),
    );
    let mut t = format!("{base}.");
    t.push_str(&"A".repeat(512 - t.len()));
    g.invalid(
        "length_512_is_allowed",
        "malformed",
        "Exactly 512 bytes is not too long; this one fails later, on its 5 fields.",
        &t,
    );
    g.invalid(
        "too_long_non_ascii",
        "too_long",
        "257 x 'é' is 514 bytes: the maximum counts bytes, and length comes before ASCII.",
        &"é".repeat(257),
    );
    let mut p = f.clone();
    p[2].replace_range(10..11, "é");
    g.invalid(
        "non_ascii_in_payload",
        "non_ascii",
        "One payload character replaced by é.",
        &join(&p),
    );
    g.invalid(
        "non_ascii_nbsp_at_end",
        "non_ascii",
        "A no-break space (U+00A0) after a genuine token: not trimmed, refused.",
        &format!("{base}\u{a0}"),
    );
    g.invalid(
        "non_ascii_fullwidth_dot",
        "non_ascii",
        "The last separator is a fullwidth full stop (U+FF0E).",
        &format!("{}.{}.{}\u{ff0e}{}", f[0], f[1], f[2], f[3]),
    );

    // ---------- fields ----------
    g.invalid("one_field", "malformed", "Only the version.", "cohort1");
    g.invalid(
        "three_fields_mac_missing",
        "malformed",
        "The MAC and its separator are cut off.",
        &join(&f[..3]),
    );
    g.invalid(
        "five_fields",
        "malformed",
        "An extra field after the MAC.",
        &format!("{base}.x"),
    );
    g.invalid(
        "five_fields_trailing_dot",
        "malformed",
        "A trailing dot makes a fifth, empty field.",
        &format!("{base}."),
    );
    g.invalid(
        "three_fields_wrong_version",
        "malformed",
        "The field count is checked before the version.",
        &format!("cohort2.{}.{}", f[1], f[2]),
    );
    let mut p = f.clone();
    p[0] = "cohort2".into();
    g.invalid(
        "wrong_version_cohort2",
        "wrong_version",
        "A future version.",
        &join(&p),
    );
    p[0] = "COHORT1".into();
    g.invalid(
        "wrong_version_uppercase",
        "wrong_version",
        "The version is case-sensitive.",
        &join(&p),
    );
    p[0] = "cohort1 ".into();
    g.invalid(
        "wrong_version_trailing_space",
        "wrong_version",
        "A space inside the version field.",
        &join(&p),
    );
    let mut p = f.clone();
    p[1] = String::new();
    g.invalid("key_id_empty", "malformed", "An empty key id.", &join(&p));
    p[1] = "abcdefghijklmnopqrstuvwxyz-_01234".into();
    g.invalid(
        "key_id_33_chars",
        "malformed",
        "A key id one character too long.",
        &join(&p),
    );
    p[1] = "k+1".into();
    g.invalid(
        "key_id_bad_character",
        "malformed",
        "A key id with a character outside A-Z a-z 0-9 _ -.",
        &join(&p),
    );
    p[1] = "K1".into();
    g.invalid(
        "unknown_key_case",
        "unknown_key",
        "Key ids are case-sensitive: K1 is not k1.",
        &join(&p),
    );
    let mut k3 = Keyring::new();
    k3.insert("k3", &unpublished()).unwrap();
    let t = k3
        .sign_with("k3", &claims(60, iat, iat + week, "k3", "1042"))
        .unwrap();
    g.invalid(
        "unknown_key_k3",
        "unknown_key",
        "Genuinely signed with key k3, which the verifier does not hold (e.g. not yet deployed, or retired).",
        &t,
    );

    // ---------- canonical base64url ----------
    let mut p = f.clone();
    p[2].push('=');
    g.invalid(
        "payload_padded",
        "non_canonical",
        "The payload with the '=' padding a padded encoder would add.",
        &join(&p),
    );
    p[2].push('=');
    g.invalid(
        "payload_double_padding",
        "non_canonical",
        "The payload with '=='.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].push('=');
    g.invalid(
        "mac_padded",
        "non_canonical",
        "The MAC with its '=' padding.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].push_str("%3D");
    g.invalid(
        "mac_percent_encoded_padding",
        "non_canonical",
        "The MAC with URL-encoded padding (%3D).",
        &join(&p),
    );
    let mut p = f.clone();
    p[2] = set_trailing_bit(&p[2]);
    g.invalid(
        "payload_trailing_bits",
        "non_canonical",
        "The last payload character has an unused low bit set: lenient decoders read the same bytes.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3] = set_trailing_bit(&p[3]);
    g.invalid(
        "mac_trailing_bits",
        "non_canonical",
        "The last MAC character has an unused low bit set: lenient decoders read the same 32 bytes.",
        &join(&p),
    );
    let mut p = f.clone();
    p[2].insert(20, '\n');
    g.invalid(
        "payload_newline",
        "non_canonical",
        "A line break inside the payload (as a wrapping mailer might insert).",
        &join(&p),
    );
    let mut p = f.clone();
    p[2].insert_str(40, "\r\n");
    g.invalid(
        "payload_crlf",
        "non_canonical",
        "CR LF inside the payload.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].insert(10, ' ');
    g.invalid(
        "mac_space",
        "non_canonical",
        "A space inside the MAC.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].insert(30, '\t');
    g.invalid(
        "mac_tab",
        "non_canonical",
        "A tab inside the MAC.",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].insert(5, '\0');
    g.invalid(
        "mac_nul",
        "non_canonical",
        "A NUL byte inside the MAC.",
        &join(&p),
    );
    let a = fields(&alpha);
    let mut p = a.clone();
    p[3] = p[3].replace('-', "+");
    g.invalid(
        "mac_plus_for_minus",
        "non_canonical",
        "valid_with_url_safe_characters with '-' written as '+' (standard base64).",
        &join(&p),
    );
    let mut p = a.clone();
    p[3] = p[3].replace('_', "/");
    g.invalid(
        "mac_slash_for_underscore",
        "non_canonical",
        "valid_with_url_safe_characters with '_' written as '/' (standard base64).",
        &join(&p),
    );
    let mut p = f.clone();
    p[2].truncate(57);
    g.invalid(
        "payload_impossible_length",
        "non_canonical",
        "57 characters (1 mod 4) cannot be base64 of anything.",
        &join(&p),
    );

    // ---------- decoded lengths ----------
    let mut p = f.clone();
    p[3].truncate(40);
    g.invalid(
        "mac_truncated",
        "malformed",
        "The MAC cut to 40 characters (30 bytes).",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].push('A');
    g.invalid(
        "mac_extended",
        "malformed",
        "One character added to the MAC (44 characters, 33 bytes).",
        &join(&p),
    );
    let mut p = f.clone();
    p[3].clear();
    g.invalid("mac_empty", "malformed", "An empty MAC field.", &join(&p));
    let k1 = g.secret("k1").unwrap();
    let short = spec::payload(61, iat, iat + week, &nonce("short40"), b"");
    g.invalid(
        "payload_40_bytes",
        "malformed",
        "Correctly signed, but the payload has no account id (40 bytes).",
        &spec::sign_raw(&k1, "k1", &short, true),
    );
    let long = spec::payload(62, iat, iat + week, &nonce("long169"), &[b'1'; 129]);
    g.invalid(
        "payload_169_bytes",
        "malformed",
        "Correctly signed, but the account id is 129 bytes.",
        &spec::sign_raw(&k1, "k1", &long, true),
    );

    // ---------- signature ----------
    let mut p = f.clone();
    let c = p[3].as_bytes()[20];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let swapped = alphabet[(b64_index(c) + 1) % 64] as char;
    p[3].replace_range(20..21, &swapped.to_string());
    g.invalid(
        "mac_one_character_changed",
        "bad_signature",
        "One MAC character changed.",
        &join(&p),
    );
    let raw = spec::b64url_decode(&f[2]).unwrap();
    let mut other = raw.clone();
    other[7] = 43;
    let mut p = f.clone();
    p[2] = spec::b64url_encode(&other);
    g.invalid(
        "payload_other_invite_id",
        "bad_signature",
        "The payload re-encoded with invite_id 43 instead of 42; MAC unchanged.",
        &join(&p),
    );
    let mut later = raw.clone();
    later[16..24].copy_from_slice(&(iat + 365 * DAY).to_be_bytes());
    p[2] = spec::b64url_encode(&later);
    g.invalid(
        "payload_expiry_extended",
        "bad_signature",
        "The payload re-encoded with expires_at a year later; MAC unchanged.",
        &join(&p),
    );
    p[2] = spec::b64url_encode(&raw[..raw.len() - 1]);
    g.invalid(
        "payload_truncated",
        "bad_signature",
        "The payload's last byte removed (account id 104), re-encoded canonically.",
        &join(&p),
    );
    let mut ext = raw.clone();
    ext.push(b'0');
    p[2] = spec::b64url_encode(&ext);
    g.invalid(
        "payload_extended",
        "bad_signature",
        "A byte appended to the payload (account id 10420), re-encoded canonically.",
        &join(&p),
    );
    let mut p = f.clone();
    p[1] = "k2".into();
    g.invalid(
        "key_id_swapped",
        "bad_signature",
        "Signed with k1 but labelled k2: the key id is covered by the MAC.",
        &join(&p),
    );
    let mut wrong = Keyring::new();
    wrong.insert("k1", &unpublished()).unwrap();
    let t = wrong
        .sign_with("k1", &claims(42, iat, iat + week, "base", "1042"))
        .unwrap();
    g.invalid(
        "wrong_secret",
        "bad_signature",
        "The claims of valid_k1 signed under key id k1 with another secret.",
        &t,
    );
    g.invalid(
        "mac_without_label",
        "bad_signature",
        "MAC computed without the \"cohort-invite-v1\\n\" label.",
        &spec::sign_raw(&k1, "k1", &raw, false),
    );
    let mac = spec::hmac_sha256(&k1, &[spec::LABEL, &raw]);
    g.invalid(
        "mac_over_payload_bytes",
        "bad_signature",
        "MAC computed over the label and the raw payload bytes instead of the token text.",
        &format!("{}.{}.{}.{}", f[0], f[1], f[2], spec::b64url_encode(&mac)),
    );
    let v2 = fields(&g.sign("k1", &claims(43, iat, iat + week, "k2", "1042")));
    g.invalid(
        "mac_of_another_token",
        "bad_signature",
        "The MAC of another genuine k1 token.",
        &format!("{}.{}.{}.{}", f[0], f[1], f[2], v2[3]),
    );

    // ---------- claims ----------
    let t = g.sign("k1", &claims(63, NOW - 10, NOW - 10, "eq", "1042"));
    g.invalid(
        "expires_equals_issued",
        "malformed",
        "Correctly signed, but expires_at = issued_at.",
        &t,
    );
    let t = g.sign("k1", &claims(64, NOW, NOW - DAY, "before", "1042"));
    g.invalid(
        "expires_before_issued",
        "malformed",
        "Correctly signed, but expires_at is before issued_at.",
        &t,
    );
    let t = g.sign("k1", &claims(70, iat, iat + MAX_LIFETIME, "life", "1042"));
    g.valid(
        "valid_lifetime_366_days",
        "expires_at - issued_at = 31622400 s (366 days), the longest lifetime allowed.",
        &t,
    );
    let t = g.sign(
        "k1",
        &claims(71, iat, iat + MAX_LIFETIME + 1, "life1", "1042"),
    );
    g.invalid(
        "lifetime_366_days_and_1s",
        "malformed",
        "Correctly signed, but expires_at - issued_at is 366 days and 1 second: Cohort never issues that.",
        &t,
    );
    let t = g.sign("k1", &claims(72, iat, i64::MAX, "forever", "1042"));
    g.invalid(
        "expires_at_max",
        "malformed",
        "Correctly signed, but expires_at = 2^63 - 1: a link that never expires.",
        &t,
    );
    let t = g.sign("k2", &claims(73, i64::MIN, i64::MAX, "overflow", "1042"));
    g.invalid(
        "lifetime_overflows_64_bits",
        "malformed",
        "issued_at = -2^63, expires_at = 2^63 - 1: the lifetime does not fit in a signed 64-bit subtraction.",
        &t,
    );
    let t = g.sign(
        "k1",
        &claims(74, NOW - 400 * DAY, NOW - DAY, "longdead", "1042"),
    );
    g.invalid(
        "lifetime_too_long_and_expired",
        "malformed",
        "A 399-day lifetime that ended yesterday: the lifetime check comes before the expiry check.",
        &t,
    );
    let bad = spec::payload(65, iat, iat + week, &nonce("utf8"), b"10\xff\xfe42");
    g.invalid(
        "account_id_not_utf8",
        "malformed",
        "Correctly signed, but the account id is not UTF-8.",
        &spec::sign_raw(&k1, "k1", &bad, true),
    );

    // ---------- time ----------
    let t = g.sign("k1", &claims(66, NOW - week, NOW, "exp0", "1042"));
    g.invalid(
        "expired_exactly_now",
        "expired",
        "expires_at = now: expired (no grace period).",
        &t,
    );
    let t = g.sign(
        "k2",
        &claims(67, NOW - 400 * DAY, NOW - 393 * DAY, "exp1", "1042"),
    );
    g.invalid(
        "expired_last_year",
        "expired",
        "Expired more than a year ago.",
        &t,
    );
    let t = g.sign("k1", &claims(53, -2 * DAY, -DAY, "neg", "1042"));
    g.invalid(
        "expired_before_1970",
        "expired",
        "issued_at and expires_at are negative (1969): the times are signed 64-bit integers; read as unsigned they would be far in the future.",
        &t,
    );
    let t = g.sign("k1", &claims(68, NOW + SKEW + 1, NOW + DAY, "nyv", "1042"));
    g.invalid(
        "not_yet_valid_61s",
        "not_yet_valid",
        "issued_at = now + 61: one second beyond the allowed skew.",
        &t,
    );
    let t = g.sign("k1", &claims(69, NOW + DAY, NOW + week, "nyv2", "1042"));
    g.invalid(
        "not_yet_valid_tomorrow",
        "not_yet_valid",
        "Issued a day in the future.",
        &t,
    );

    // ---------- the file ----------
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str("  \"about\": \"Test vectors for Cohort invite tokens (format cohort1), specified in docs/token-format.md. Generated by core/tests/prop_token.rs with the real signer; every verifier must return exactly these results at the given now and skew. Each link gives its token, or a reason when the link itself is refused. Each key file text is a spelling of k1's key file: accepted (giving secret) or refused.\",\n");
    let _ = writeln!(out, "  \"now\": {NOW},");
    let _ = writeln!(out, "  \"now_utc\": {},", js(&format_rfc3339(NOW)));
    let _ = writeln!(out, "  \"skew\": {SKEW},");
    out.push_str("  \"keys\": {\n");
    let keys: Vec<String> = g
        .keys
        .iter()
        .map(|(k, s)| format!("    {}: {}", js(k), js(&hex(s))))
        .collect();
    out.push_str(&keys.join(",\n"));
    out.push_str("\n  },\n  \"vectors\": [\n");
    out.push_str(&g.vectors.join(",\n"));
    out.push_str("\n  ],\n  \"links\": [\n");
    let links = [
        (
            "default_template",
            format!("https://panel.example.com/index.php?rp=/invite/{base}"),
        ),
        (
            "template_then_parameter",
            format!("https://panel.example.com/index.php?rp=/invite/{base}&language=french"),
        ),
        (
            "query_parameter",
            format!("https://panel.example.com/accept?token={base}&utm_source=email"),
        ),
        (
            "query_parameter_after_similar_name",
            format!("https://panel.example.com/accept?csrf_token=abc&token={base}"),
        ),
        (
            "query_parameter_before_fragment",
            format!("https://panel.example.com/accept?token={base}#token=abc"),
        ),
        (
            "path_trailing_slash",
            format!("https://panel.example.com/invite/{base}/"),
        ),
        (
            "path_then_query",
            format!("https://panel.example.com/invite/{base}?utm_source=email"),
        ),
        (
            "path_then_fragment",
            format!("https://panel.example.com/invite/{base}#welcome"),
        ),
        (
            "fragment_is_not_the_query",
            format!("https://panel.example.com/invite/{base}#token=abc"),
        ),
        ("bare_token_with_whitespace", format!(" \t{base}\r\n")),
        (
            "path_several_trailing_slashes",
            format!("https://panel.example.com/invite/{base}///"),
        ),
        (
            "query_parameter_wins_over_path",
            format!("https://panel.example.com/invite/{}?token={base}", f[3]),
        ),
    ];
    let mut lines: Vec<String> = links
        .iter()
        .map(|(name, link)| {
            assert_eq!(
                cohort_core::token::extract_token(link).ok(),
                Some(base.as_str()),
                "{name}"
            );
            format!(
                "    {{\"name\": {}, \"link\": {}, \"token\": {}}}",
                js(name),
                js(link),
                js(&base)
            )
        })
        .collect();
    // Links that are refused before any token is read from them.
    let other = g.sign("k2", &claims(43, iat, iat + week, "k2", "1042"));
    let refused = [
        (
            "two_token_parameters",
            format!("https://panel.example.com/accept?token={base}&token={other}"),
        ),
        (
            "two_token_parameters_same_value",
            format!("https://panel.example.com/accept?token={base}&utm_source=email&token={base}"),
        ),
        (
            "two_token_parameters_one_empty",
            format!("https://panel.example.com/accept?token=&token={base}"),
        ),
    ];
    for (name, link) in &refused {
        match cohort_core::token::extract_token(link) {
            Err(Error::Token { reason, .. }) => assert_eq!(reason.as_str(), "malformed", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        lines.push(format!(
            "    {{\"name\": {}, \"link\": {}, \"reason\": \"malformed\"}}",
            js(name),
            js(link)
        ));
    }
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  ],\n  \"key_files\": [\n");
    out.push_str(&key_files(&hex(&g.secret("k1").unwrap())).join(",\n"));
    out.push_str("\n  ],\n  \"hmac_sha256\": [\n");
    let cases: Vec<String> = RFC4231
        .iter()
        .enumerate()
        .map(|(i, (key, data, mac))| {
            format!(
                "    {{\"name\": \"RFC 4231 test case {}\", \"key\": {}, \"data\": {}, \"mac\": {}}}",
                i + 1,
                js(&hex(key)),
                js(&hex(data)),
                js(mac)
            )
        })
        .collect();
    out.push_str(&cases.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

#[test]
fn vectors_file_is_current() {
    let text = generate();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/tokens.json");
    if std::env::var_os("COHORT_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "{path} differs from what the signer produces; rerun with COHORT_WRITE_VECTORS=1 and review the diff"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["vectors"].as_array().unwrap().len() >= 30);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_096))]

    /// The fuzz target `token_verify`, fed by proptest.
    #[test]
    fn token_verify_target(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        token_check::check(&data);
    }

    /// Single edits of genuine tokens, aimed at every position.
    #[test]
    fn every_position_of_a_genuine_token(kid in 0u8..3, pos in 0u8..=255, byte in any::<u8>(), what in 0u8..4) {
        token_check::check(&[1, kid, 5, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 9,
                             0, 0, 0, 0, 0, 0, 0, 42, 25, what, pos, byte]);
    }
}
