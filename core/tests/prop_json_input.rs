//! JSON documents as a panel sends them, through the core's parsers: the fuzz target
//! `json_input` (`fuzz/src/json_check.rs`), fed by proptest so that it runs on every
//! `cargo test`.

#[path = "../../fuzz/src/json_check.rs"]
mod json_check;

use proptest::prelude::*;
use serde_json::Value;

/// Strings that reach deep into the parsers, mixed with arbitrary ones.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "all",
            " all ",
            "tickets",
            "invoices,tickets",
            "tickets,,billing",
            "billing",
            "Tickets",
            "tickets,nope",
            ",",
            "",
            "dev@acme.example",
            " Dev@ACME.example ",
            "a..b@x.io",
            "x@-a.io",
            "7d",
            "90m",
            "0s",
            "99999999999999999d",
            "1h",
            "2026-11-29T10:00:00Z",
            "2026-02-30",
            "0000-01-01T00:00:00Z",
            "-1",
            "https://panel.example.com/index.php?rp=/invite/cohort1.k1.AAAA.BBBB",
            "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n",
            "invite_ttl = \"0s\"\n[keys]\ncurrent = \"k1\"\ndir = \"k\"\n",
            "link_template = \"x\"\n[keys]\ncurrent = \"k1\"\ndir = \"k\"\n",
        ])
        .prop_map(str::to_string),
        "\\PC{0,40}",
        "[a-z,@. 0-9]{0,30}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_048))]

    #[test]
    fn json_input_target_documents(doc in json()) {
        json_check::check(serde_json::to_string(&doc).unwrap().as_bytes());
    }

    #[test]
    fn json_input_target_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        json_check::check(&data);
    }
}
