//! TOML configuration. Unknown or mistyped settings are errors that name the setting.

use crate::clock::{format_duration, parse_duration};
pub use crate::dburl::{Database, ServerKind, ServerUrl, TlsMode};
use crate::error::{Error, Result};
use crate::hooks::logbook::{SYSLOG_FACILITIES, SYSLOG_SOCKET};
use crate::hooks::{
    parse_millis, parse_size, HooksConfig, LogConfig, LogLevel, OnError, SyslogConfig,
};
use crate::token::{valid_key_id, Keyring, DEFAULT_SKEW, MIN_SECRET_LEN};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// SQLite durability level. `full` is the default; `normal` is faster but a power loss may undo
/// the last acknowledged changes (never corrupts the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<String>,
    database_password_env: Option<String>,
    link_template: Option<String>,
    allow_http_links: Option<bool>,
    invite_ttl: Option<String>,
    bind_email: Option<bool>,
    max_pending_invites: Option<u32>,
    max_invites_per_day: Option<u32>,
    max_invites_per_inviter_per_day: Option<u32>,
    synchronous: Option<Synchronous>,
    busy_timeout_ms: Option<u32>,
    database_file_mode: Option<String>,
    clock_skew: Option<String>,
    keys: Option<RawKeys>,
    permissions: Option<BTreeMap<String, String>>,
    hooks: Option<RawHooks>,
    log: Option<RawLog>,
}

/// The `[log]` section: where the records of hooks go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    file: Option<String>,
    file_mode: Option<String>,
    syslog: Option<bool>,
    syslog_facility: Option<String>,
    syslog_socket: Option<String>,
}

/// The `[hooks]` section: Lua hook scripts and their budgets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    dir: Option<String>,
    deadline: Option<String>,
    memory: Option<RawSize>,
    max_return: Option<RawSize>,
    on_error: Option<OnError>,
    reload_check: Option<String>,
}

/// A size in bytes: a number, or a string such as "8MiB", "512KiB", "4096".
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawSize {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    current: Option<String>,
    dir: Option<String>,
    env: Option<BTreeMap<String, String>>,
}

/// Where the key material of the keyring comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysConfig {
    /// Id of the signing key.
    pub current: String,
    /// Directory whose `<id>.key` files are keys (hex, owner-only permissions).
    pub dir: Option<PathBuf>,
    /// Key id → name of an environment variable holding the hex secret.
    pub env: BTreeMap<String, String>,
}

/// What [`Config::sources_stamp`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesStamp {
    #[allow(clippy::type_complexity)]
    files: Vec<(PathBuf, Option<(u64, u64, u64, i64, i64)>, Option<Vec<u8>>)>,
    env: Vec<Option<String>>,
}

/// A loaded configuration with paths resolved against the config file's directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file this came from, if any.
    pub path: Option<PathBuf>,
    /// A SQLite file, or a MariaDB/MySQL or PostgreSQL server.
    pub database: Database,
    /// Invite link; `{token}` is replaced by the token. `https://` unless
    /// [`Config::allow_http_links`].
    pub link_template: String,
    /// Opt-in, weaker: lets `link_template` be `http://` (local development only: the token
    /// would cross the network in clear text).
    pub allow_http_links: bool,
    /// Default invite lifetime in seconds (7 days).
    pub invite_ttl: i64,
    /// Whether the accepting login's email must equal the invited email (default true).
    pub bind_email: bool,
    /// Most pending invites one account may have at once.
    pub max_pending_invites: u32,
    /// Most invites (new or resent) one account may send in any rolling 24 hours.
    pub max_invites_per_day: u32,
    /// Most invites (new or resent) one inviter may send in any rolling 24 hours, over all accounts.
    pub max_invites_per_inviter_per_day: u32,
    pub synchronous: Synchronous,
    pub busy_timeout_ms: u32,
    /// Permission bits of a database file Cohort creates: 0o600 (owner only) unless group
    /// access is opted into with `database_file_mode = "0640"` or `"0660"`.
    pub database_file_mode: u32,
    /// Tolerance, in seconds, for a token issued slightly in the future.
    pub clock_skew: i64,
    pub keys: KeysConfig,
    /// Extra permission keys (key → label) beyond the 14 built-in ones.
    pub permissions: Vec<(String, String)>,
    /// Lua hook scripts; `None` when no `[hooks]` directory is configured (hooks cost nothing).
    pub hooks: Option<HooksConfig>,
    /// Where the records of hooks go besides the `log` facade and a host's logger; `None`
    /// without a `[log]` section.
    pub log: Option<LogConfig>,
}

pub const DEFAULT_LINK_TEMPLATE: &str = "https://panel.example.com/index.php?rp=/invite/{token}";
pub const DEFAULT_INVITE_TTL: i64 = 7 * 86_400;
pub const DEFAULT_MAX_PENDING: u32 = 100;
pub const DEFAULT_MAX_INVITES_PER_DAY: u32 = 50;
pub const DEFAULT_MAX_INVITES_PER_INVITER_PER_DAY: u32 = 50;
pub const DEFAULT_BUSY_TIMEOUT_MS: u32 = 5_000;
/// Owner-only, like the key files.
pub const DEFAULT_DATABASE_FILE_MODE: u32 = 0o600;
/// Longest invite lifetime accepted (366 days): the longest lifetime a token may claim.
pub const MAX_INVITE_TTL: i64 = crate::token::MAX_LIFETIME;

impl Config {
    /// A configuration with defaults, a database at `database` and keys in `key_dir`.
    pub fn new(
        database: impl Into<Database>,
        key_dir: impl Into<PathBuf>,
        current_key: &str,
    ) -> Config {
        Config {
            path: None,
            database: database.into(),
            link_template: DEFAULT_LINK_TEMPLATE.into(),
            allow_http_links: false,
            invite_ttl: DEFAULT_INVITE_TTL,
            bind_email: true,
            max_pending_invites: DEFAULT_MAX_PENDING,
            max_invites_per_day: DEFAULT_MAX_INVITES_PER_DAY,
            max_invites_per_inviter_per_day: DEFAULT_MAX_INVITES_PER_INVITER_PER_DAY,
            synchronous: Synchronous::Full,
            busy_timeout_ms: DEFAULT_BUSY_TIMEOUT_MS,
            database_file_mode: DEFAULT_DATABASE_FILE_MODE,
            clock_skew: DEFAULT_SKEW,
            keys: KeysConfig {
                current: current_key.into(),
                dir: Some(key_dir.into()),
                env: BTreeMap::new(),
            },
            permissions: Vec::new(),
            hooks: None,
            log: None,
        }
    }

    /// Reads and validates a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut cfg = Config::parse(&text, &base).map_err(|e| match e {
            Error::Config { setting, message } => Error::Config {
                setting: format!("{}: {setting}", path.display()),
                message,
            },
            other => other,
        })?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses config text; relative paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let setting = match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    let src = text.lines().nth(line - 1).unwrap_or("").trim();
                    format!("line {line} ({src})")
                }
                None => "(file)".into(),
            };
            Error::config(setting, msg)
        })?;
        let resolve = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        };
        let dur = |name: &str, v: Option<String>, default: i64| -> Result<i64> {
            match v {
                None => Ok(default),
                Some(s) => parse_duration(&s).ok_or_else(|| {
                    Error::config(
                        name,
                        format!("{s:?} is not a duration such as \"7d\", \"12h\", \"90s\""),
                    )
                }),
            }
        };
        let invite_ttl = dur("invite_ttl", raw.invite_ttl, DEFAULT_INVITE_TTL)?;
        if invite_ttl <= 0 || invite_ttl > MAX_INVITE_TTL {
            return Err(Error::config(
                "invite_ttl",
                format!("must be between 1s and {}", format_duration(MAX_INVITE_TTL)),
            ));
        }
        let clock_skew = dur("clock_skew", raw.clock_skew, DEFAULT_SKEW)?;
        if !(0..=crate::token::MAX_SKEW).contains(&clock_skew) {
            return Err(Error::config("clock_skew", "must be at most 1h"));
        }
        let link_template = raw
            .link_template
            .unwrap_or_else(|| DEFAULT_LINK_TEMPLATE.into());
        if link_template.matches("{token}").count() != 1 {
            return Err(Error::config(
                "link_template",
                "must contain {token} exactly once",
            ));
        }
        let allow_http_links = raw.allow_http_links.unwrap_or(false);
        check_link_scheme(&link_template, allow_http_links)?;
        let max_pending_invites = raw.max_pending_invites.unwrap_or(DEFAULT_MAX_PENDING);
        if max_pending_invites == 0 {
            return Err(Error::config("max_pending_invites", "must be at least 1"));
        }
        let max_invites_per_day = raw
            .max_invites_per_day
            .unwrap_or(DEFAULT_MAX_INVITES_PER_DAY);
        if max_invites_per_day == 0 {
            return Err(Error::config("max_invites_per_day", "must be at least 1"));
        }
        let max_invites_per_inviter_per_day = raw
            .max_invites_per_inviter_per_day
            .unwrap_or(DEFAULT_MAX_INVITES_PER_INVITER_PER_DAY);
        if max_invites_per_inviter_per_day == 0 {
            return Err(Error::config(
                "max_invites_per_inviter_per_day",
                "must be at least 1",
            ));
        }
        let database_file_mode = file_mode("database_file_mode", raw.database_file_mode)?;
        let database = Database::from_setting(
            raw.database.as_deref().unwrap_or("cohort.db"),
            base,
            raw.database_password_env.as_deref(),
        )?;
        let raw_keys = raw
            .keys
            .ok_or_else(|| Error::config("keys", "the [keys] section is required"))?;
        let current = raw_keys
            .current
            .ok_or_else(|| Error::config("keys.current", "is required"))?;
        if !valid_key_id(&current) {
            return Err(Error::config(
                "keys.current",
                "a key id is 1-32 characters of A-Z, a-z, 0-9, _ and -",
            ));
        }
        let env = raw_keys.env.unwrap_or_default();
        for id in env.keys() {
            if !valid_key_id(id) {
                return Err(Error::config(format!("keys.env.{id}"), "invalid key id"));
            }
        }
        if raw_keys.dir.is_none() && env.is_empty() {
            return Err(Error::config("keys", "set keys.dir or keys.env"));
        }
        Ok(Config {
            path: None,
            database,
            link_template,
            allow_http_links,
            invite_ttl,
            bind_email: raw.bind_email.unwrap_or(true),
            max_pending_invites,
            max_invites_per_day,
            max_invites_per_inviter_per_day,
            synchronous: raw.synchronous.unwrap_or_default(),
            busy_timeout_ms: raw.busy_timeout_ms.unwrap_or(DEFAULT_BUSY_TIMEOUT_MS),
            database_file_mode,
            clock_skew,
            keys: KeysConfig {
                current,
                dir: raw_keys.dir.as_deref().map(resolve),
                env,
            },
            permissions: raw.permissions.unwrap_or_default().into_iter().collect(),
            hooks: raw.hooks.map(|h| parse_hooks(h, resolve)).transpose()?,
            log: raw.log.map(|l| parse_log(l, resolve)).transpose()?,
        })
    }

    /// Loads every configured key and selects the current one.
    pub fn load_keyring(&self) -> Result<Keyring> {
        let mut ring = Keyring::new();
        for (id, secret) in self.list_keys()? {
            ring.insert(&id, &secret)?;
        }
        ring.set_current(&self.keys.current)?;
        Ok(ring)
    }

    /// Every configured key as (id, secret), from the key directory then the environment.
    pub fn list_keys(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        if let Some(dir) = &self.keys.dir {
            let rd = std::fs::read_dir(dir).map_err(|e| Error::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect();
            files.sort();
            for f in files {
                let id = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                out.push((id.clone(), read_key_file(&id, &f)?));
            }
        }
        for (id, var) in &self.keys.env {
            let val = std::env::var(var).map_err(|_| Error::Key {
                key: id.clone(),
                message: format!("environment variable {var} is not set"),
            })?;
            out.push((id.clone(), decode_hex_secret(id, &val)?));
        }
        Ok(out)
    }

    /// A fingerprint of everything this configuration was read from: the config file and each
    /// key file (their contents and `stat`: device, inode, size, modification time), the key
    /// directory's listing, and the values of the key variables. Two equal stamps mean nothing
    /// was edited, rotated, added or removed in between (contents are compared, not only times,
    /// whose granularity is coarse), so an engine opened from these files may be reused. No
    /// parsing: a few small reads and one directory listing.
    pub fn sources_stamp(&self) -> SourcesStamp {
        use std::os::unix::fs::MetadataExt;
        let stat = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
        };
        let file = |p: &Path| (p.to_path_buf(), stat(p), std::fs::read(p).ok());
        let mut files = Vec::new();
        if let Some(p) = &self.path {
            files.push(file(p));
        }
        if let Some(dir) = &self.keys.dir {
            files.push((dir.clone(), stat(dir), None));
            if let Ok(rd) = std::fs::read_dir(dir) {
                let mut keys: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                keys.sort();
                for k in keys {
                    files.push(file(&k));
                }
            }
        }
        let env = self
            .keys
            .env
            .values()
            .map(|var| std::env::var(var).ok())
            .collect();
        SourcesStamp { files, env }
    }

    /// The link for a token.
    pub fn link_for(&self, token: &str) -> String {
        self.link_template.replacen("{token}", token, 1)
    }
}

/// Invite links carry a bearer token: `https://` only, unless `allow_http_links` opts into
/// `http://` for local development.
fn check_link_scheme(template: &str, allow_http: bool) -> Result<()> {
    let lower = template.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if lower.starts_with("http://") {
        if allow_http {
            return Ok(());
        }
        return Err(Error::config(
            "link_template",
            "is http://: invite links carry a token and must be https:// (for local development \
             only, set allow_http_links = true)",
        ));
    }
    Err(Error::config(
        "link_template",
        "must be an https:// URL containing {token}",
    ))
}

/// `"0600"` (the default), or the opt-in group modes `"0640"` and `"0660"`.
fn file_mode(setting: &str, v: Option<String>) -> Result<u32> {
    match v.as_deref() {
        None | Some("0600") => Ok(DEFAULT_DATABASE_FILE_MODE),
        Some("0640") => Ok(0o640),
        Some("0660") => Ok(0o660),
        Some(other) => Err(Error::config(
            setting,
            format!("{other:?} is not one of \"0600\" (default), \"0640\", \"0660\""),
        )),
    }
}

/// Validates the `[log]` section: a file, the system log, or both, and a level.
fn parse_log(raw: RawLog, resolve: impl Fn(&str) -> PathBuf) -> Result<LogConfig> {
    let level = match raw.level.as_deref() {
        None => LogLevel::Info,
        Some(l) => LogLevel::parse(l).ok_or_else(|| {
            Error::config(
                "log.level",
                format!("{l:?} is not one of \"error\", \"warn\", \"info\" (default), \"debug\""),
            )
        })?,
    };
    if raw.file.as_deref() == Some("") {
        return Err(Error::config(
            "log.file",
            "is empty; give a path or leave it out",
        ));
    }
    if raw.file.is_none() && raw.file_mode.is_some() {
        return Err(Error::config("log.file_mode", "applies only with log.file"));
    }
    let syslog = raw.syslog.unwrap_or(false);
    if !syslog {
        for (name, set) in [
            ("log.syslog_facility", raw.syslog_facility.is_some()),
            ("log.syslog_socket", raw.syslog_socket.is_some()),
        ] {
            if set {
                return Err(Error::config(name, "applies only with syslog = true"));
            }
        }
    }
    if raw.file.is_none() && !syslog {
        return Err(Error::config(
            "log",
            "the [log] section needs file = \"PATH\" or syslog = true (or both)",
        ));
    }
    let syslog = if syslog {
        let facility = match raw.syslog_facility.as_deref() {
            None => 1,
            Some(f) => SYSLOG_FACILITIES
                .iter()
                .find(|(name, _)| *name == f)
                .map(|(_, code)| *code)
                .ok_or_else(|| {
                    Error::config(
                        "log.syslog_facility",
                        format!(
                            "{f:?} is not one of {}",
                            SYSLOG_FACILITIES
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
        };
        if cfg!(not(unix)) {
            return Err(Error::config("log.syslog", "needs a Unix system"));
        }
        Some(SyslogConfig {
            facility,
            socket: raw
                .syslog_socket
                .as_deref()
                .map_or_else(|| PathBuf::from(SYSLOG_SOCKET), &resolve),
        })
    } else {
        None
    };
    Ok(LogConfig {
        level,
        file_mode: file_mode("log.file_mode", raw.file_mode)?,
        file: raw.file.as_deref().map(resolve),
        syslog,
    })
}

/// Validates the `[hooks]` section; without `dir` there are no hooks.
fn parse_hooks(raw: RawHooks, resolve: impl Fn(&str) -> PathBuf) -> Result<HooksConfig> {
    let dir = raw
        .dir
        .ok_or_else(|| Error::config("hooks.dir", "is required in the [hooks] section"))?;
    let mut h = HooksConfig::new(resolve(&dir));
    let millis = |name: &str, v: &str, min: u64, max: u64| -> Result<u64> {
        match parse_millis(v) {
            Some(ms) if (min..=max).contains(&ms) => Ok(ms),
            Some(_) => Err(Error::config(
                name,
                format!("must be between {min} ms and {max} ms"),
            )),
            None => Err(Error::config(
                name,
                format!("{v:?} is not a duration such as \"50ms\" or \"2s\""),
            )),
        }
    };
    let size = |name: &str, v: RawSize, min: usize, max: usize| -> Result<usize> {
        let n = match v {
            RawSize::Bytes(n) => usize::try_from(n).ok(),
            RawSize::Text(t) => parse_size(&t),
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(Error::config(
                name,
                format!("must be between {min} and {max} bytes"),
            )),
            None => Err(Error::config(
                name,
                "is not a size such as 8MiB, 512KiB or 4096",
            )),
        }
    };
    if let Some(d) = raw.deadline {
        h.deadline = std::time::Duration::from_millis(millis("hooks.deadline", &d, 1, 10_000)?);
    }
    if let Some(m) = raw.memory {
        h.memory = size("hooks.memory", m, 256 << 10, 1 << 30)?;
    }
    if let Some(m) = raw.max_return {
        h.max_return = size("hooks.max_return", m, 64, 1 << 20)?;
    }
    if let Some(o) = raw.on_error {
        h.on_error = o;
    }
    if let Some(r) = raw.reload_check {
        h.reload_check =
            std::time::Duration::from_millis(millis("hooks.reload_check", &r, 0, 3_600_000)?);
    }
    Ok(h)
}

/// Reads a key file (see [`decode_hex_secret`]), refused when the group or others have any
/// access to it.
pub fn read_key_file(id: &str, path: &Path) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::Key {
                key: id.into(),
                message: format!(
                    "{} has mode {mode:03o}; key files must be readable by their owner only (chmod 600)",
                    path.display()
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let bytes = std::fs::read(path).map_err(io)?;
    decode_hex_secret(id, &String::from_utf8_lossy(&bytes))
}

/// The secret in a key file or key variable (`docs/token-format.md` §5): hex digits `0-9 a-f A-F`
/// (either case), an even number of them and at least 64, with nothing else but optional spaces,
/// tabs, CR, LF and form feeds around them (so a trailing newline is fine). No `0x` prefix, no
/// sign, no whitespace inside.
pub fn decode_hex_secret(id: &str, text: &str) -> Result<Vec<u8>> {
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let bad = |why: &str| Error::Key {
        key: id.into(),
        message: format!(
            "{why}: a secret is an even number of hex digits (0-9, a-f, A-F), at least {}, \
             with nothing else but surrounding whitespace",
            MIN_SECRET_LEN * 2
        ),
    };
    if let Some(c) = t.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(bad(&format!("{c:?} is not a hex digit")));
    }
    if !t.len().is_multiple_of(2) || t.len() < MIN_SECRET_LEN * 2 {
        return Err(bad(&format!("{} hex digits", t.len())));
    }
    // Every byte is an ASCII hex digit, so each pair parses.
    Ok(t.as_bytes()
        .chunks(2)
        .map(|p| (hex_value(p[0]) << 4) | hex_value(p[1]))
        .collect())
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Hex-encodes a secret for a key file.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `<dir>/<id>.key` with a fresh 256-bit secret, mode 600, refusing to overwrite.
pub fn create_key_file(dir: &Path, id: &str) -> Result<PathBuf> {
    if !valid_key_id(id) {
        return Err(Error::Key {
            key: id.into(),
            message: "a key id is 1-32 characters of A-Z, a-z, 0-9, _ and -".into(),
        });
    }
    let io = |p: &Path, e: std::io::Error| Error::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let path = dir.join(format!("{id}.key"));
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)
        .map_err(|e| Error::Internal(format!("OS random source: {e}")))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(|e| io(&path, e))?;
    use std::io::Write;
    f.write_all(format!("{}\n", encode_hex(&secret)).as_bytes())
        .map_err(|e| io(&path, e))?;
    f.sync_all().map_err(|e| io(&path, e))?;
    Ok(path)
}

/// The commented config file `cohort init` writes, with a SQLite file `cohort.db`.
pub fn template(current_key: &str) -> String {
    template_for(current_key, "cohort.db", None)
}

/// The commented config file `cohort init` writes, with `database` set to `database` (a SQLite
/// path or a server URL) and, for a server, the password read from `password_env`.
pub fn template_for(current_key: &str, database: &str, password_env: Option<&str>) -> String {
    let database = toml::Value::String(database.to_string());
    let password_env = match password_env {
        Some(v) => format!(
            "database_password_env = {}\n",
            toml::Value::String(v.to_string())
        ),
        None => "# database_password_env = \"COHORT_DB_PASSWORD\"\n".to_string(),
    };
    format!(
        r#"# Cohort configuration. Relative paths are resolved against this file's directory.

# Where the data lives: a SQLite file (the default, for a panel on one machine), or a MariaDB/
# MySQL or PostgreSQL server shared by several web nodes:
#   database = "mysql://cohort@db.example.net:3306/cohort"
#   database = "postgres://cohort@db.example.net:5432/cohort"
# TLS is required for a server that is not on this machine (verified against the web's roots,
# or ssl-ca=/path/ca.pem / sslrootcert=/path/ca.pem); ?ssl-mode=disable / ?sslmode=disable
# opts out (weaker). The password is read from the environment variable named below.
database = {database}
{password_env}
# Link sent in invitation emails; {{token}} is replaced by the signed token. HTTPS only:
# `allow_http_links = true` (opt-in, weaker) accepts http:// for local development.
link_template = "{DEFAULT_LINK_TEMPLATE}"

# How long an invite stays valid ("7d", "48h", "90m", "30s").
invite_ttl = "7d"

# The accepting login's email must equal the invited email. false = any login may accept.
bind_email = true

# Most pending invites one account may have at once.
max_pending_invites = {DEFAULT_MAX_PENDING}

# Most invites (new or resent) one account, and one inviter over all accounts, may send in 24 hours.
max_invites_per_day = {DEFAULT_MAX_INVITES_PER_DAY}
max_invites_per_inviter_per_day = {DEFAULT_MAX_INVITES_PER_INVITER_PER_DAY}

# "full" (default, safe on power loss) or "normal" (faster; may lose the last commits on power loss).
synchronous = "full"

# How long a write waits for another connection's write lock, in milliseconds (reads never wait).
busy_timeout_ms = {DEFAULT_BUSY_TIMEOUT_MS}

# Mode of a database file Cohort creates (its -wal and -shm files get the same). "0600": the
# owner only. Opt-in, weaker: "0640" (group may read) or "0660" (group may write: a panel whose
# PHP-FPM workers and cron jobs run as different users of one group).
# database_file_mode = "0600"

# Tolerated clock difference for a token issued "in the future".
clock_skew = "60s"

[keys]
# Id of the key that signs new links. Every key below verifies links; removing one kills its links.
current = "{current_key}"
# Directory of <id>.key files (hex secrets, chmod 600).
dir = "keys"
# Keys held in environment variables: id = "VARIABLE".
# env = {{ old = "COHORT_KEY_OLD" }}

# Extra permission keys for this panel: key = "label".
[permissions]
# reports = "View Reports"

# Lua hook scripts that enforce local policy (see docs/hooks.md). Without this section no hook runs.
# [hooks]
# dir = "hooks"            # *.lua files, loaded in name order
# deadline = "50ms"        # wall-clock budget of all handlers of one event together
# memory = "8MiB"          # memory budget of the hook VM
# max_return = 4096        # largest value (bytes) a handler may return
# on_error = "deny"        # a failing hook denies; "allow" lets the operation go on
# reload_check = "1s"      # how often changed scripts are noticed ("0s": on every event)

# Where the records of hooks go: lines scripts log (cohort.log, print), failing after-handlers,
# scripts that do not load. A file, the system log, or both (see docs/hooks.md, "Logging").
# [log]
# file = "log/hooks.log"   # appended, one line per record; reopened when logrotate renames it
# file_mode = "0600"       # mode of a log file Cohort creates ("0640"/"0660": group access)
# syslog = true            # also to the system log (/dev/log)
# syslog_facility = "user" # user, daemon, auth, syslog, authpriv, local0 ... local7
# level = "info"           # the least severe level written: error, warn, info, debug
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/cohort"))
    }

    #[test]
    fn template_parses_with_defaults() {
        let c = parse(&template("k1")).unwrap();
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("/etc/cohort/cohort.db"))
        );
        assert_eq!(c.invite_ttl, 7 * 86_400);
        assert!(c.bind_email);
        assert_eq!(c.synchronous, Synchronous::Full);
        assert_eq!(c.keys.current, "k1");
        assert_eq!(c.keys.dir, Some(PathBuf::from("/etc/cohort/keys")));
    }

    #[test]
    fn errors_name_the_setting() {
        let base = "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n";
        let e = parse(&format!("bind_emails = true\n{base}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bind_emails"), "{e}");
        let e = parse(&format!("bind_email = \"yes\"\n{base}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bind_email"), "{e}");
        let e = parse(&format!("invite_ttl = \"7 days\"\n{base}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("invite_ttl"), "{e}");
        let e = parse(&format!("link_template = \"https://x/\"\n{base}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("link_template"), "{e}");
        let e = parse(&format!("synchronous = \"off\"\n{base}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("synchronous"), "{e}");
        let e = parse("database = \"x.db\"\n").unwrap_err().to_string();
        assert!(e.contains("keys"), "{e}");
        let e = parse(&format!("{base}color = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("color"), "{e}");
    }

    #[test]
    fn invite_links_are_https_unless_http_is_opted_into() {
        let base = "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n";
        let http = "link_template = \"http://127.0.0.1:8080/accept.php?token={token}\"\n";
        let e = parse(&format!("{http}{base}")).unwrap_err().to_string();
        assert!(
            e.contains("link_template") && e.contains("allow_http_links"),
            "{e}"
        );
        let c = parse(&format!("{http}allow_http_links = true\n{base}")).unwrap();
        assert!(c.allow_http_links);
        assert_eq!(c.link_for("T"), "http://127.0.0.1:8080/accept.php?token=T");
        for bad in ["ftp://x/{token}", "/accept?t={token}", "{token}"] {
            let e = parse(&format!("link_template = \"{bad}\"\n{base}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("https://"), "{bad}: {e}");
        }
        let c = parse(&format!("link_template = \"HTTPS://x/{{token}}\"\n{base}")).unwrap();
        assert!(!c.allow_http_links);
        assert!(!parse(&template("k1")).unwrap().allow_http_links);
    }

    #[test]
    fn key_files_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = create_key_file(dir.path(), "k1").unwrap();
        assert_eq!(read_key_file("k1", &p).unwrap().len(), 32);
        assert!(
            create_key_file(dir.path(), "k1").is_err(),
            "never overwrites a key"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
            let e = read_key_file("k1", &p).unwrap_err().to_string();
            assert!(e.contains("640"), "{e}");
        }
    }

    #[test]
    fn hex_secrets_take_either_case_and_surrounding_whitespace_only() {
        let hex = "00112233445566778899aabbccddeeff".repeat(2);
        let want = decode_hex_secret("k", &hex).unwrap();
        assert_eq!(want.len(), 32);
        assert_eq!(want[..3], [0x00, 0x11, 0x22]);
        for ok in [
            format!("{hex}\n"),
            format!("{hex}\r\n"),
            format!(" \t{hex} \n\n"),
            hex.to_uppercase(),
        ] {
            assert_eq!(decode_hex_secret("k", &ok).unwrap(), want, "{ok:?}");
        }
        for bad in [
            // `from_str_radix` alone would read "+0" as the byte 0x00.
            format!("+0{}", &hex[2..]),
            format!("0x{hex}"),
            format!("{}\n{}", &hex[..32], &hex[32..]),
            format!("{hex}\u{a0}"),
            format!("{hex}\0"),
            format!("{hex}\u{b}"),
            format!("{hex}0"),
            hex[..62].to_string(),
            String::new(),
        ] {
            assert!(decode_hex_secret("k", &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_keys() {
        let mut c =
            parse("[keys]\ncurrent = \"e1\"\nenv = { e1 = \"COHORT_TEST_KEY_E1\" }\n").unwrap();
        assert!(c.load_keyring().is_err(), "unset variable");
        std::env::set_var("COHORT_TEST_KEY_E1", "ab".repeat(32));
        let ring = c.load_keyring().unwrap();
        assert_eq!(ring.current(), Some("e1"));
        std::env::set_var("COHORT_TEST_KEY_E1", "zz".repeat(32));
        assert!(c.load_keyring().is_err(), "not hex");
        c.keys.current = "other".into();
        std::env::set_var("COHORT_TEST_KEY_E1", "ab".repeat(32));
        assert!(c.load_keyring().is_err(), "current key missing");
    }
}
