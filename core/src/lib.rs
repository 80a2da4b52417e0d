//! Cohort core: users, memberships, permissions, signed invite tokens and an audit trail for
//! hosting billing panels, stored in SQLite.
//!
//! Every front end (the C ABI, the CLI) calls [`Engine`]; each method validates its input, runs
//! one transaction and records an audit entry.
//!
//! ```no_run
//! use cohort_core::{Engine, Permissions};
//! let engine = Engine::open_path("cohort.toml")?;
//! engine.upsert_account("1042", "Acme Ltd", "owner@acme.example")?;
//! let sent = engine.invite("owner@acme.example", "1042", "dev@acme.example", &Permissions::All, None)?;
//! println!("send to {}: {}", sent.email.to, sent.link);
//! # Ok::<(), cohort_core::Error>(())
//! ```

pub mod clock;
pub mod config;
pub mod dburl;
pub mod engine;
pub mod error;
pub mod hooks;
pub mod keyadmin;
pub mod model;
pub mod permissions;
pub mod store;
pub mod token;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use engine::Engine;
pub use error::{Error, ErrorCode, Result};
pub use model::*;
pub use permissions::Catalogue;
pub use token::{Keyring, TokenReason};

/// The library version (matches Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
