//! The Rust verifier against every vector of `tests/vectors/tokens.json` (the same file the
//! Python, PHP and CLI verifiers are checked against): tokens, links and key file texts.

use cohort_core::config::decode_hex_secret;
use cohort_core::token::{extract_token, Keyring};
use cohort_core::Error;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/tokens.json");
    let text = std::fs::read_to_string(path).expect("tests/vectors/tokens.json");
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn ring(v: &Value) -> Keyring {
    let mut ring = Keyring::new();
    for (kid, hex) in v["keys"].as_object().unwrap() {
        ring.insert(kid, &unhex(hex.as_str().unwrap())).unwrap();
    }
    ring
}

#[test]
fn every_vector_verifies_as_expected() {
    let v = vectors();
    let ring = ring(&v);
    let now = v["now"].as_i64().unwrap();
    let skew = v["skew"].as_i64().unwrap();
    let list = v["vectors"].as_array().unwrap();
    assert!(list.len() >= 30, "at least 30 vectors");
    let mut valid = 0;
    for vec in list {
        let name = vec["name"].as_str().unwrap();
        let token = vec["token"].as_str().unwrap();
        match (
            ring.verify(token, now, skew),
            vec["valid"].as_bool().unwrap(),
        ) {
            (Ok(c), true) => {
                let want = &vec["claims"];
                assert_eq!(c.key_id, want["key_id"].as_str().unwrap(), "{name}");
                assert_eq!(c.invite_id, want["invite_id"].as_u64().unwrap(), "{name}");
                assert_eq!(c.issued_at, want["issued_at"].as_i64().unwrap(), "{name}");
                assert_eq!(c.expires_at, want["expires_at"].as_i64().unwrap(), "{name}");
                assert_eq!(c.account_id, want["account_id"].as_str().unwrap(), "{name}");
                // What the verifier prints as claims is exactly the vector's claims.
                let mut printed = serde_json::to_value(&c).unwrap();
                printed.as_object_mut().unwrap().remove("nonce");
                assert_eq!(&printed, want, "{name}");
                valid += 1;
            }
            (Err(Error::Token { reason, .. }), false) => {
                assert_eq!(reason.as_str(), vec["reason"].as_str().unwrap(), "{name}");
            }
            (got, _) => panic!("{name}: unexpected {got:?}"),
        }
        // A link carrying the token gives the same token back.
        let link = format!("https://panel.example.com/accept?token={token}");
        assert_eq!(extract_token(&link).ok(), Some(token), "{name}");
    }
    assert!(valid >= 10, "several valid vectors");
}

#[test]
fn every_reason_and_case_is_covered() {
    let v = vectors();
    let list = v["vectors"].as_array().unwrap();
    let reasons: Vec<&str> = list.iter().filter_map(|x| x["reason"].as_str()).collect();
    for r in [
        "empty",
        "too_long",
        "non_ascii",
        "malformed",
        "wrong_version",
        "non_canonical",
        "unknown_key",
        "bad_signature",
        "expired",
        "not_yet_valid",
    ] {
        assert!(reasons.contains(&r), "no vector with reason {r}");
    }
    let names: Vec<&str> = list.iter().map(|x| x["name"].as_str().unwrap()).collect();
    for n in [
        "payload_padded",
        "mac_trailing_bits",
        "payload_newline",
        "mac_plus_for_minus",
        "mac_slash_for_underscore",
        "payload_truncated",
        "payload_extended",
        "five_fields",
        "three_fields_mac_missing",
        "valid_expires_next_second",
        "expired_exactly_now",
        "valid_issued_at_skew_edge",
        "not_yet_valid_61s",
        "valid_lifetime_366_days",
        "lifetime_366_days_and_1s",
        "expires_at_max",
        "lifetime_overflows_64_bits",
        "lifetime_too_long_and_expired",
    ] {
        assert!(names.contains(&n), "vector {n} is missing");
    }
    let kids: std::collections::BTreeSet<&str> = list
        .iter()
        .filter_map(|x| x["claims"]["key_id"].as_str())
        .collect();
    assert!(kids.len() >= 3, "valid vectors under several keys");
}

#[test]
fn every_link_gives_its_token_or_is_refused() {
    let v = vectors();
    let ring = ring(&v);
    let now = v["now"].as_i64().unwrap();
    let mut refused = 0;
    for l in v["links"].as_array().unwrap() {
        let (name, link) = (&l["name"], l["link"].as_str().unwrap());
        match (extract_token(link), l["token"].as_str()) {
            (Ok(token), Some(want)) => {
                assert_eq!(token, want, "{name}");
                assert!(ring.verify(token, now, 60).is_ok(), "{name}");
            }
            (Err(Error::Token { reason, .. }), None) => {
                assert_eq!(reason.as_str(), l["reason"].as_str().unwrap(), "{name}");
                refused += 1;
            }
            (got, _) => panic!("{name}: unexpected {got:?}"),
        }
    }
    assert!(refused >= 2, "links with several token= parameters");
}

#[test]
fn every_key_file_text_is_read_as_expected() {
    let v = vectors();
    let k1 = v["keys"]["k1"].as_str().unwrap();
    let list = v["key_files"].as_array().unwrap();
    for k in list {
        let name = &k["name"];
        let got = decode_hex_secret("k1", k["text"].as_str().unwrap());
        if k["accepted"].as_bool().unwrap() {
            let secret = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(secret, unhex(k["secret"].as_str().unwrap()), "{name}");
            assert_eq!(secret, unhex(k1), "{name}: a spelling of k1");
        } else {
            assert!(got.is_err(), "{name} is accepted");
        }
    }
    let names: Vec<&str> = list.iter().map(|x| x["name"].as_str().unwrap()).collect();
    for n in [
        "trailing_newline",
        "upper_case",
        "inner_newline",
        "plus_sign",
    ] {
        assert!(names.contains(&n), "key file case {n} is missing");
    }
}
