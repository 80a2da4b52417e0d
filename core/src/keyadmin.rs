//! Managing signing keys on disk: where each key comes from, adding a verification key, and
//! rotating the signing key (a new key file, and `[keys] current` rewritten in the config file).

use crate::config::{create_key_file, Config};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One configured key, for listings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    /// Whether it signs new links (`[keys] current`).
    pub current: bool,
    /// Its file, or `env VARIABLE`.
    pub source: String,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rotation {
    pub current: String,
    pub previous: String,
    pub file: PathBuf,
}

/// Every configured key with its source, in the order of [`Config::list_keys`].
pub fn list(cfg: &Config) -> Result<Vec<KeyInfo>> {
    Ok(cfg
        .list_keys()?
        .into_iter()
        .map(|(id, _)| {
            let source = match cfg.keys.env.get(&id) {
                Some(var) => format!("env {var}"),
                None => cfg
                    .keys
                    .dir
                    .as_ref()
                    .map(|d| d.join(format!("{id}.key")).display().to_string())
                    .unwrap_or_default(),
            };
            KeyInfo {
                current: id == cfg.keys.current,
                id,
                source,
            }
        })
        .collect())
}

fn key_dir(cfg: &Config) -> Result<PathBuf> {
    cfg.keys.dir.clone().ok_or_else(|| {
        Error::config(
            "keys.dir",
            "is not set: keys held in the environment are added by setting keys.env",
        )
    })
}

/// Creates the verification key `id` in the key directory (new links are still signed with
/// the current key); returns its file.
pub fn add(cfg: &Config, id: &str) -> Result<PathBuf> {
    create_key_file(&key_dir(cfg)?, id)
}

/// Creates the key `id` (default `k<now>`) and makes it the signing key: the config file's
/// `[keys] current` line is rewritten (atomically, after the edited text has been parsed as a
/// config), and the old key keeps verifying the links it signed.
pub fn rotate(config_path: &Path, id: Option<&str>, now: i64) -> Result<Rotation> {
    let cfg = Config::load(config_path)?;
    let dir = key_dir(&cfg)?;
    let id = id.map_or_else(|| format!("k{now}"), str::to_string);
    let io = |e: std::io::Error| Error::Io {
        path: config_path.display().to_string(),
        message: e.to_string(),
    };
    let text = std::fs::read_to_string(config_path).map_err(io)?;
    let new_text = set_current_key(&text, &id).ok_or_else(|| {
        Error::config(
            "keys.current",
            "cannot find a `current = ...` line in the [keys] section to rewrite",
        )
    })?;
    let base = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Config::parse(&new_text, &base)?;
    let file = create_key_file(&dir, &id)?;
    write_atomic(config_path, &new_text).map_err(io)?;
    Ok(Rotation {
        current: id,
        previous: cfg.keys.current,
        file,
    })
}

/// Writes a config file: a temporary file beside it, synced, then renamed over it.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("toml.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// `text` with the `current = ...` line of its `[keys]` section set to `id`; `None` when there
/// is no such line.
fn set_current_key(text: &str, id: &str) -> Option<String> {
    let mut in_keys = false;
    let mut done = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_keys = t == "[keys]";
        }
        if in_keys
            && !done
            && t.starts_with("current")
            && t["current".len()..].trim_start().starts_with('=')
        {
            out.push(format!("current = \"{id}\""));
            done = true;
        } else {
            out.push(line.to_string());
        }
    }
    done.then(|| out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn rotates_only_the_keys_current_line() {
        let t = "current = \"x\"\n[keys]\n# current = \"no\"\ncurrent = \"k1\"\ndir = \"keys\"\n";
        let out = super::set_current_key(t, "k2").unwrap();
        assert_eq!(
            out,
            "current = \"x\"\n[keys]\n# current = \"no\"\ncurrent = \"k2\"\ndir = \"keys\"\n"
        );
        assert!(super::set_current_key("[keys]\ndir = \"k\"\n", "k2").is_none());
    }
}
