//! Property: the JSON a panel sends (permission sets, emails, durations, times, links, config
//! text) never panics the core, and what the core accepts is stable: parsing its own output
//! gives the same value back.
//!
//! The C ABI's JSON input types live in `ffi/`, written alongside this target. Until they are
//! settled this target decodes any JSON document and feeds every string and array of strings it
//! holds to the core parsers those inputs reach. Once `ffi` exposes its request parsing, call it
//! here first (and keep the checks below for what it hands to the core).

use cohort_core::clock::{format_duration, format_rfc3339, parse_duration, parse_time};
use cohort_core::config::{Config, MAX_INVITE_TTL};
use cohort_core::token::{extract_token, Keyring};
use cohort_core::{Catalogue, Email, Permissions};
use serde_json::Value;

/// Year 1 to year 9999: the times RFC 3339 can write with four digits.
const RFC3339_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

pub fn check(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let catalogue = Catalogue::with_extra(&[("billing".into(), "Billing".into())])
        .expect("a valid extra permission");
    let mut ring = Keyring::new();
    ring.insert("k1", &[7u8; 32]).expect("a valid key");
    walk(&doc, &catalogue, &ring);
}

fn walk(v: &Value, cat: &Catalogue, ring: &Keyring) {
    match v {
        Value::String(s) => string(s, cat, ring),
        Value::Array(items) => {
            let keys: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if keys.len() == items.len() {
                key_list(&keys, cat);
            }
            items.iter().for_each(|i| walk(i, cat, ring));
        }
        Value::Object(map) => {
            for (k, v) in map {
                string(k, cat, ring);
                walk(v, cat, ring);
            }
        }
        Value::Number(n) => {
            if let Some(t) = n.as_i64() {
                time(t);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

fn string(s: &str, cat: &Catalogue, ring: &Keyring) {
    // A permission set as text: "all" or "key,key".
    if let Ok(p) = cat.parse(s) {
        cat.validate(&p).expect("a parsed set is valid");
        assert_eq!(cat.parse(&p.to_text()).ok(), Some(p.clone()), "{s:?}");
        let json = serde_json::to_value(&p).expect("permissions serialize");
        match &p {
            Permissions::All => assert_eq!(json, Value::from("all")),
            Permissions::Keys(k) => assert_eq!(json.as_array().map(Vec::len), Some(k.len())),
        }
    }
    // An email: normalizing twice changes nothing.
    if let Ok(e) = Email::parse(s) {
        assert_eq!(Email::parse(e.as_str()).ok(), Some(e.clone()), "{s:?}");
        assert!(!e.domain().is_empty() && e.as_str().is_ascii());
    }
    // A duration such as "7d".
    if let Some(secs) = parse_duration(s) {
        assert!(secs >= 0, "{s:?}");
        assert_eq!(parse_duration(&format_duration(secs)), Some(secs), "{s:?}");
    }
    // A time.
    if let Some(t) = parse_time(s) {
        time(t);
    }
    // A link or token: never panics, whatever the reason.
    if let Ok(t) = extract_token(s) {
        let _ = ring.verify(t, 0, 60);
    }
    // Config text (TOML) as a panel might pass it: accepted values are within their limits.
    if let Ok(cfg) = Config::parse(s, std::path::Path::new("/nonexistent")) {
        assert_eq!(cfg.link_template.matches("{token}").count(), 1);
        assert!((1..=MAX_INVITE_TTL).contains(&cfg.invite_ttl));
        assert!(cfg.clock_skew <= 3_600 && cfg.max_pending_invites >= 1);
    }
}

fn key_list(keys: &[&str], cat: &Catalogue) {
    match cat.chosen(keys) {
        Ok(Permissions::Keys(set)) => {
            assert!(!set.is_empty());
            assert!(set.iter().all(|k| cat.contains(k)), "{keys:?}");
            assert!(keys
                .iter()
                .all(|k| k.trim().is_empty() || set.contains(k.trim())));
        }
        Ok(Permissions::All) => panic!("chosen keys never mean all: {keys:?}"),
        Err(_) => assert!(
            keys.iter().all(|k| k.trim().is_empty())
                || keys.iter().any(|k| !cat.contains(k.trim())),
            "refused a list of known keys: {keys:?}"
        ),
    }
}

fn time(t: i64) {
    if RFC3339_RANGE.contains(&t) {
        assert_eq!(parse_time(&format_rfc3339(t)), Some(t), "{t}");
    } else {
        let _ = format_rfc3339(t);
    }
}
