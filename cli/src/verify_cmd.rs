//! `cohort verify-link`: checks a link's signature and expiry offline, exactly as an integrator
//! holding the key would (docs/token-format.md), with the configured keys or given key files.
//! It opens no database, so it cannot tell whether the invite is still pending: `cohort inspect`
//! does that.

use crate::{load_config, usage, Failure, Outcome};
use clap::Args;
use cohort_core::clock::{format_rfc3339, parse_duration, parse_time};
use cohort_core::config::read_key_file;
use cohort_core::token::{Keyring, DEFAULT_SKEW, MAX_SKEW};
use cohort_core::{Clock, Error, SystemClock};
use std::path::PathBuf;

#[derive(Args)]
pub struct VerifyLinkArgs {
    /// The invite link, or the bare token.
    pub link: String,
    /// Verify with this key file (hex secret, owner-only permissions) instead of the config's
    /// keys; the file name without its extension is the key id. Repeatable.
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_files: Vec<PathBuf>,
    /// Verify as of this time (2026-11-29T10:00:00Z or Unix seconds) instead of the clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Tolerated clock skew for a token issued in the future, at most 1h (default: the config's,
    /// or 60s).
    #[arg(long, value_name = "DURATION")]
    pub skew: Option<String>,
}

/// Exit 0 when valid, 1 when not (with the reason), 2 on a usage, key or config error.
pub fn run(args: VerifyLinkArgs, config: Option<PathBuf>, json: bool) -> Outcome {
    let key_error = |e: Error| Failure {
        exit: 2,
        ..Failure::from(e)
    };
    let (ring, config_skew) = if args.key_files.is_empty() {
        let cfg = load_config(config)?;
        (cfg.load_keyring().map_err(key_error)?, cfg.clock_skew)
    } else {
        let mut ring = Keyring::new();
        for path in &args.key_files {
            let kid = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let secret = read_key_file(kid, path).map_err(key_error)?;
            ring.insert(kid, &secret).map_err(key_error)?;
        }
        (ring, DEFAULT_SKEW)
    };
    let now = match &args.now {
        None => SystemClock.now(),
        Some(t) => parse_time(t).ok_or_else(|| {
            usage(format!(
                "--now {t:?} is not a time (2026-11-29T10:00:00Z or Unix seconds)"
            ))
        })?,
    };
    let skew = match &args.skew {
        None => config_skew,
        Some(s) => match parse_duration(s) {
            None => return Err(usage(format!("--skew {s:?} is not a duration such as 60s"))),
            Some(d) if d > MAX_SKEW => {
                return Err(usage(format!(
                    "--skew {s:?} is more than the maximum of 1h (3600s): a verifier may trust \
                     the issuer's clock to be ahead by at most an hour"
                )))
            }
            Some(d) => d,
        },
    };
    match ring
        .verify_link(&args.link, now, skew)
        .map(|v| v.to_claims())
    {
        Ok(c) => {
            if json {
                crate::output::json(&serde_json::json!({ "valid": true, "claims": c }));
            } else {
                println!(
                    "valid: invite {} on account {} (key {})",
                    c.invite_id, c.account_id, c.key_id
                );
                println!("issued:  {}", format_rfc3339(c.issued_at));
                println!("expires: {}", format_rfc3339(c.expires_at));
                println!(
                    "Signature and expiry are good. Whether the invite is still pending (not used, \
                     cancelled or sent again) only the database knows: cohort inspect LINK."
                );
            }
            Ok(0)
        }
        Err(e @ Error::Token { reason, .. }) => {
            if json {
                crate::output::json(&serde_json::json!({
                    "valid": false,
                    "reason": reason.as_str(),
                    "message": e.to_string(),
                }));
            } else {
                println!("invalid: {}", reason.as_str());
                eprintln!("cohort: {e}");
            }
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
