//! `cohort verify-link` against every vector of `tests/vectors/tokens.json`, and with the keys
//! of a config made by `cohort init`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cohort");

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/tokens.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_key(dir: &Path, kid: &str, hex: &str, mode: u32) -> PathBuf {
    let path = dir.join(format!("{kid}.key"));
    std::fs::write(&path, format!("{hex}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
    path
}

fn verify(key_files: &[PathBuf], extra: &[&str], link: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("verify-link").env_remove("COHORT_CONFIG");
    for f in key_files {
        cmd.arg("--key-file").arg(f);
    }
    cmd.args(extra).arg(link).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn every_vector() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = v["keys"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(kid, hex)| write_key(dir.path(), kid, hex.as_str().unwrap(), 0o600))
        .collect();
    let now = v["now"].to_string();
    let skew = format!("{}s", v["skew"]);
    let flags = ["--now", now.as_str(), "--skew", skew.as_str()];
    let mut checked = 0;
    for vec in v["vectors"].as_array().unwrap() {
        let name = vec["name"].as_str().unwrap();
        let token = vec["token"].as_str().unwrap();
        if token.contains('\0') {
            continue; // a command line cannot carry a NUL byte
        }
        let mut forms = vec![format!("https://panel.example.com/accept?token={token}")];
        if !token.contains('/') {
            forms.push(token.to_string());
        }
        for form in forms {
            // Plain output: the reason on stdout, exit 0 or 1.
            let out = verify(&files, &flags, &form);
            let text = stdout(&out);
            if vec["valid"].as_bool().unwrap() {
                assert_eq!(out.status.code(), Some(0), "{name}: {text}");
                assert!(text.starts_with("valid: invite "), "{name}: {text}");
            } else {
                assert_eq!(out.status.code(), Some(1), "{name}: {text}");
                let reason = vec["reason"].as_str().unwrap();
                assert_eq!(text.trim(), format!("invalid: {reason}"), "{name}");
            }
            // JSON output: the claims, or the reason.
            let mut json_flags = vec!["--json"];
            json_flags.extend_from_slice(&flags);
            let out = verify(&files, &json_flags, &form);
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["valid"], vec["valid"], "{name}");
            if vec["valid"].as_bool().unwrap() {
                assert_eq!(doc["claims"], vec["claims"], "{name}");
            } else {
                assert_eq!(doc["reason"], vec["reason"], "{name}");
            }
            checked += 1;
        }
    }
    for link in v["links"].as_array().unwrap() {
        let out = verify(&files, &flags, link["link"].as_str().unwrap());
        match link["reason"].as_str() {
            None => assert_eq!(out.status.code(), Some(0), "link {}", link["name"]),
            Some(reason) => {
                assert_eq!(out.status.code(), Some(1), "link {}", link["name"]);
                assert_eq!(stdout(&out).trim(), format!("invalid: {reason}"));
            }
        }
        checked += 1;
    }
    assert!(checked > 80, "{checked}");
}

/// Each key file text of the vectors, as `k1.key`: an accepted one verifies k1's tokens, a
/// refused one is a key error (exit 2).
#[test]
fn every_key_file_text() {
    let v = vectors();
    let token = v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "valid_k1")
        .unwrap()["token"]
        .as_str()
        .unwrap();
    let now = v["now"].to_string();
    for case in v["key_files"].as_array().unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k1.key");
        std::fs::write(&path, case["text"].as_str().unwrap()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let out = verify(&[path], &["--now", now.as_str()], token);
        let want = if case["accepted"].as_bool().unwrap() {
            0
        } else {
            2
        };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{}: {}{}",
            case["name"],
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn skew_is_at_most_an_hour() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let k1 = write_key(dir.path(), "k1", v["keys"]["k1"].as_str().unwrap(), 0o600);
    let token = v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "not_yet_valid_tomorrow")
        .unwrap()["token"]
        .as_str()
        .unwrap();
    let now = v["now"].to_string();
    let run = |skew: &str| {
        verify(
            std::slice::from_ref(&k1),
            &["--now", &now, "--skew", skew],
            token,
        )
    };
    // Within the cap the skew applies (this link was issued a day ahead: still not valid).
    for skew in ["3600", "3600s", "60m", "1h"] {
        let out = run(skew);
        assert_eq!(out.status.code(), Some(1), "--skew {skew}");
        assert_eq!(stdout(&out).trim(), "invalid: not_yet_valid");
    }
    for skew in ["3601", "3601s", "2h", "1d", "soon"] {
        let out = run(skew);
        assert_eq!(out.status.code(), Some(2), "--skew {skew}");
        assert!(stdout(&out).is_empty(), "--skew {skew}: no verdict");
    }
    let err = String::from_utf8_lossy(&run("2h").stderr).into_owned();
    assert!(err.contains("--skew") && err.contains("1h"), "{err}");
}

#[test]
fn keys_from_the_config_and_key_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--config")
            .arg(dir.path().join("cohort.toml"))
            .args(args)
            .env_remove("COHORT_CONFIG")
            .output()
            .unwrap()
    };
    let init = Command::new(BIN)
        .arg("init")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(run(&[
        "account",
        "add",
        "1042",
        "--name",
        "Acme Ltd",
        "--owner",
        "owner@acme.example"
    ])
    .status
    .success());
    let out = run(&["--json", "invite", "1042", "ben@partner.example", "--all"]);
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    let link = sent["link"].as_str().unwrap();
    let id = &sent["invite"]["id"];
    let expires = sent["invite"]["expires_at"].as_i64().unwrap();

    // The config's keys, the clock's time.
    let out = run(&["--json", "verify-link", link]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&doc["claims"]["invite_id"], id);
    assert_eq!(doc["claims"]["account_id"], "1042");
    assert_eq!(doc["claims"]["expires_at"], expires);
    // At the expiry second the link is expired.
    let at = expires.to_string();
    let out = run(&["verify-link", "--now", &at, link]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "invalid: expired");
    // A key file with another secret under another id: unknown key.
    let other = tempfile::tempdir().unwrap();
    let k9 = write_key(other.path(), "k9", &"ab".repeat(32), 0o600);
    let out = verify(std::slice::from_ref(&k9), &[], link);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "invalid: unknown_key");
    // The same key id with another secret: bad signature.
    let kid = doc["claims"]["key_id"].as_str().unwrap();
    let wrong = write_key(other.path(), kid, &"cd".repeat(32), 0o600);
    let out = verify(&[wrong], &[], link);
    assert_eq!(stdout(&out).trim(), "invalid: bad_signature");
    // The config's key file itself, given explicitly.
    let own = dir.path().join("keys").join(format!("{kid}.key"));
    assert_eq!(verify(&[own], &[], link).status.code(), Some(0));

    // Usage and key errors exit 2.
    let loose = write_key(other.path(), "k8", &"ab".repeat(32), 0o644);
    let out = verify(&[loose], &[], link);
    assert_eq!(out.status.code(), Some(2), "a key file others can read");
    let missing = other.path().join("nope.key");
    assert_eq!(verify(&[missing], &[], link).status.code(), Some(2));
    let short = write_key(other.path(), "k7", "abcd", 0o600);
    assert_eq!(verify(&[short], &[], link).status.code(), Some(2));
    assert_eq!(
        verify(std::slice::from_ref(&k9), &["--now", "soon"], link)
            .status
            .code(),
        Some(2)
    );
    let nowhere = Command::new(BIN)
        .current_dir(other.path())
        .args(["verify-link", link])
        .env_remove("COHORT_CONFIG")
        .output()
        .unwrap();
    assert_eq!(nowhere.status.code(), Some(2), "no config and no key file");
}
