//! The C API reference lists what the library does: every audit action the core writes.

use cohort_integration::workspace_root;

/// Audit action names written by the engine: the `"<object>.<verb>"` string literals passed to
/// its `audit(...)` calls and hook denials.
fn audit_actions() -> Vec<String> {
    let root = workspace_root();
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![
        root.join("core/src/engine.rs"),
        root.join("core/src/engine"),
    ];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for line in text.lines() {
            let t = line.trim();
            // `"invite.create",` on a line of its own (an audit call's argument), or the hook
            // denial table `=> ("hook.deny", ...)`.
            let candidate = t
                .strip_suffix("\",")
                .and_then(|s| s.strip_prefix('"'))
                .or_else(|| t.split("=> (\"").nth(1).and_then(|s| s.split('"').next()));
            if let Some(c) = candidate {
                let mut parts = c.split('.');
                let (a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let word = |s: &str| {
                    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                };
                if parts.next().is_none() && word(a) && word(b) {
                    found.insert(c.to_string());
                }
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn c_api_reference_lists_every_audit_action() {
    let actions = audit_actions();
    assert!(actions.len() >= 20, "found only {actions:?}");
    let doc = std::fs::read_to_string(workspace_root().join("docs/c-api.md")).unwrap();
    let missing: Vec<&String> = actions
        .iter()
        .filter(|a| !doc.contains(&format!("| `{a}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/c-api.md lacks audit actions {missing:?}"
    );
}
