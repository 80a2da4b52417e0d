//! Every way an invite link can be wrong is refused with its own reason, and writes nothing.

mod common;

use cohort_core::config::create_key_file;
use cohort_core::{Config, Engine, ErrorCode, Keyring, ManualClock, Permissions, TokenReason};
use common::*;
use proptest::prelude::*;
use std::sync::Arc;

const DEV: &str = "dev@acme.example";

/// A fixture with one pending invite to [`DEV`], whose login exists.
fn with_invite() -> (Fixture, cohort_core::IssuedInvite) {
    let f = Fixture::new();
    f.engine.upsert_user(DEV, Some("Dev"), None).unwrap();
    let sent = f.invite(DEV, &Permissions::All);
    (f, sent)
}

/// Accepting (as the invited login), registering, declining and inspecting `token` are all
/// refused with `reason`, and none of them writes anything.
fn refused_everywhere(f: &Fixture, token: &str, reason: TokenReason) {
    let e = f.refused(reason.code(), |e| e.accept(token, DEV));
    assert_eq!(token_reason(&e), reason);
    assert!(e.to_string().contains(reason.as_str()), "{e}");
    f.refused(reason.code(), |e| e.accept_register(token, DEV, "Dev"));
    f.refused(reason.code(), |e| e.decline(token));
    let before = f.dump();
    let i = f.engine.inspect(token).unwrap();
    assert_eq!(f.dump(), before);
    assert!(!i.valid);
    assert_eq!(i.reason, Some(reason.as_str()));
}

/// Replaces the character at `i` with another base64url character.
fn flip(token: &str, i: usize) -> String {
    let mut b = token.as_bytes().to_vec();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

/// The genuine invite still works after all the refusals.
fn still_accepts(f: &Fixture, sent: &cohort_core::IssuedInvite) {
    let m = f.engine.accept(&sent.token, DEV).unwrap();
    assert_eq!(m.email.as_str(), DEV);
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 2);
}

#[test]
fn tampered_tokens_are_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    let payload_start = "cohort1.k1.".len();
    let mac_start = t.rfind('.').unwrap() + 1;
    // A change in the payload (the invite id, expiry, nonce or account) or in the MAC.
    for i in [
        payload_start,
        payload_start + 5,
        payload_start + 20,
        mac_start,
        mac_start + 10,
    ] {
        refused_everywhere(&f, &flip(t, i), TokenReason::BadSignature);
    }
    // The key id is under the MAC too: naming another configured key fails the signature.
    let dir = f.dir.path().join("keys");
    create_key_file(&dir, "k2").unwrap();
    let two = f.reopen();
    assert_eq!(
        token_reason(&two.accept(&t.replacen(".k1.", ".k2.", 1), DEV).unwrap_err()),
        TokenReason::BadSignature
    );
    still_accepts(&f, &sent);
}

#[test]
fn truncated_tokens_are_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    let mac_dot = t.rfind('.').unwrap();
    // Missing its MAC field, with an empty MAC, or with a MAC 30 bytes long.
    refused_everywhere(&f, &t[..mac_dot], TokenReason::Malformed);
    refused_everywhere(&f, &t[..mac_dot + 1], TokenReason::Malformed);
    refused_everywhere(&f, &t[..t.len() - 3], TokenReason::Malformed);
    // A MAC two characters short has a length base64 cannot produce.
    refused_everywhere(&f, &t[..t.len() - 2], TokenReason::NonCanonical);
    // Cut anywhere: always refused, whatever the reason.
    for n in 1..t.len() {
        let cut = &t[..n];
        let e = f.engine.accept(cut, DEV).unwrap_err();
        assert!(matches!(e, cohort_core::Error::Token { .. }), "{cut}: {e}");
    }
    still_accepts(&f, &sent);
}

#[test]
fn extended_tokens_are_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    refused_everywhere(&f, &format!("{t}AAAA"), TokenReason::Malformed);
    refused_everywhere(&f, &format!("{t}.AAAA"), TokenReason::Malformed);
    refused_everywhere(&f, &format!("{t}A"), TokenReason::Malformed);
    refused_everywhere(&f, &format!("{t}AA"), TokenReason::NonCanonical);
    // Bytes appended to the payload (e.g. to stretch the account id) break the MAC.
    let payload_end = t.rfind('.').unwrap();
    let longer = format!("{}AAAA{}", &t[..payload_end], &t[payload_end..]);
    refused_everywhere(&f, &longer, TokenReason::BadSignature);
    let e = f.refused(ErrorCode::TokenTooLong, |e| {
        e.accept(&format!("{t}{}", "A".repeat(600)), DEV)
    });
    assert_eq!(token_reason(&e), TokenReason::TooLong);
    still_accepts(&f, &sent);
}

#[test]
fn non_canonical_tokens_are_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    // Padding, standard-alphabet characters, and a last character with stray low bits.
    refused_everywhere(&f, &format!("{t}="), TokenReason::NonCanonical);
    let mac_start = t.rfind('.').unwrap() + 1;
    let mut plus = t.as_bytes().to_vec();
    plus[mac_start + 2] = b'+';
    refused_everywhere(
        &f,
        &String::from_utf8(plus).unwrap(),
        TokenReason::NonCanonical,
    );
    // The MAC is 32 bytes in 43 characters: the last one carries 4 bits and 2 zero bits.
    let last = *t.as_bytes().last().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.iter().position(|c| *c == last).unwrap();
    let stray = alphabet[idx ^ 1];
    let odd = format!("{}{}", &t[..t.len() - 1], stray as char);
    refused_everywhere(&f, &odd, TokenReason::NonCanonical);
    // Surrounding whitespace is not part of the token, but whitespace inside is.
    let inner = format!("{}\n{}", &t[..20], &t[20..]);
    refused_everywhere(&f, &inner, TokenReason::NonCanonical);
    still_accepts(&f, &sent);
}

#[test]
fn wrong_version_and_garbage_are_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    refused_everywhere(
        &f,
        &t.replacen("cohort1", "cohort2", 1),
        TokenReason::WrongVersion,
    );
    refused_everywhere(
        &f,
        &t.replacen("cohort1", "Cohort1", 1),
        TokenReason::WrongVersion,
    );
    refused_everywhere(&f, "", TokenReason::Empty);
    refused_everywhere(&f, "   ", TokenReason::Empty);
    refused_everywhere(&f, "hello", TokenReason::Malformed);
    refused_everywhere(&f, &format!("{t}é"), TokenReason::NonAscii);
    still_accepts(&f, &sent);
}

#[test]
fn tokens_from_an_unknown_key_are_refused() {
    let (f, sent) = with_invite();
    // A second keyring, with its own key id, signs the same claims.
    let claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    let mut other = Keyring::new();
    other.insert("k9", &[42u8; 32]).unwrap();
    let foreign = other.sign_with("k9", &claims).unwrap();
    refused_everywhere(&f, &foreign, TokenReason::UnknownKey);
    // Same key id, different secret: the signature does not match.
    let mut impostor = Keyring::new();
    impostor.insert("k1", &[42u8; 32]).unwrap();
    let forged = impostor.sign_with("k1", &claims).unwrap();
    refused_everywhere(&f, &forged, TokenReason::BadSignature);
    still_accepts(&f, &sent);
}

#[test]
fn expired_tokens_are_refused() {
    let (f, sent) = with_invite();
    f.clock.set(sent.invite.expires_at - 1);
    assert!(f.engine.inspect(&sent.token).unwrap().valid);
    f.clock.set(sent.invite.expires_at);
    refused_everywhere(&f, &sent.token, TokenReason::Expired);
    f.clock.advance(DAY);
    f.engine.expire_due().unwrap();
    refused_everywhere(&f, &sent.token, TokenReason::Expired);
}

#[test]
fn a_token_expiry_cannot_outlive_the_row() {
    // A forged-in-place token (same key) that claims a later expiry than the row still expires
    // with the row, and one claiming an earlier expiry expires with the token.
    let (f, sent) = with_invite();
    let mut claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    claims.expires_at += 30 * DAY;
    let late = f.engine.keyring().sign_with("k1", &claims).unwrap();
    f.clock.set(sent.invite.expires_at);
    refused_everywhere(&f, &late, TokenReason::Expired);
}

#[test]
fn tokens_issued_in_the_future_are_refused() {
    let (f, sent) = with_invite();
    // The issuing clock ran ahead: within the allowed skew the link works, beyond it it does not.
    f.clock.set(T0 - 61);
    refused_everywhere(&f, &sent.token, TokenReason::NotYetValid);
    f.clock.set(T0 - 60);
    assert!(f.engine.inspect(&sent.token).unwrap().valid);
    still_accepts(&f, &sent);
}

#[test]
fn used_cancelled_declined_and_superseded_tokens_are_refused() {
    let (f, sent) = with_invite();
    f.engine.accept(&sent.token, DEV).unwrap();
    refused_everywhere(&f, &sent.token, TokenReason::AlreadyUsed);

    let c = f.invite("c@acme.example", &Permissions::All);
    f.engine.cancel(OWNER, c.invite.id).unwrap();
    let e = f.refused(ErrorCode::TokenCancelled, |e| {
        e.accept_register(&c.token, "c@acme.example", "C")
    });
    assert_eq!(token_reason(&e), TokenReason::Cancelled);

    let d = f.invite("d@acme.example", &Permissions::All);
    f.engine.decline(&d.token).unwrap();
    let e = f.refused(ErrorCode::TokenDeclined, |e| {
        e.accept_register(&d.token, "d@acme.example", "D")
    });
    assert_eq!(token_reason(&e), TokenReason::Declined);

    let s = f.invite("s@acme.example", &Permissions::All);
    let s2 = f.engine.resend(OWNER, s.invite.id, None).unwrap();
    let e = f.refused(ErrorCode::TokenSuperseded, |e| {
        e.accept_register(&s.token, "s@acme.example", "S")
    });
    assert_eq!(token_reason(&e), TokenReason::Superseded);
    // Resending again supersedes the second link as well.
    let s3 = f.engine.resend(OWNER, s.invite.id, None).unwrap();
    f.refused(ErrorCode::TokenSuperseded, |e| {
        e.accept_register(&s2.token, "s@acme.example", "S")
    });
    f.engine
        .accept_register(&s3.token, "s@acme.example", "S")
        .unwrap();
}

#[test]
fn tokens_for_another_account_are_refused() {
    let (f, sent) = with_invite();
    f.engine
        .upsert_account("2001", "Beta", "beta@beta.example")
        .unwrap();
    // Forged with the real key: the invite id of account 1042's invite, but account 2001.
    let mut claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    claims.account_id = "2001".into();
    let forged = f.engine.keyring().sign_with("k1", &claims).unwrap();
    refused_everywhere(&f, &forged, TokenReason::WrongAccount);
    let i = f.engine.inspect(&forged).unwrap();
    assert_eq!(i.invite_id, None, "nothing of the invite is revealed");
    assert_eq!(i.email, None);
    assert_eq!(f.engine.members("2001").unwrap().len(), 1);
    still_accepts(&f, &sent);
}

#[test]
fn tokens_for_a_missing_invite_are_refused() {
    let (f, sent) = with_invite();
    let mut claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    claims.invite_id = 777;
    let forged = f.engine.keyring().sign_with("k1", &claims).unwrap();
    refused_everywhere(&f, &forged, TokenReason::UnknownInvite);
    claims.invite_id = u64::MAX;
    let forged = f.engine.keyring().sign_with("k1", &claims).unwrap();
    refused_everywhere(&f, &forged, TokenReason::UnknownInvite);
    still_accepts(&f, &sent);
}

/// What an offline verifier (`cohort_token_verify`, `cohort verify-link`) says of `token`.
fn offline_reason(f: &Fixture, token: &str) -> Option<TokenReason> {
    let skew = f.engine.config().clock_skew;
    match f.engine.keyring().verify(token, f.engine.now(), skew) {
        Ok(_) => None,
        Err(e) => Some(token_reason(&e)),
    }
}

#[test]
fn the_token_time_window_comes_before_the_database() {
    // docs/token-format.md: signature and time first (what an offline verifier can tell), then
    // the database's reasons. Each link below also has a database reason, which never wins.
    let (f, sent) = with_invite();
    f.engine
        .upsert_account("2001", "Beta", "beta@beta.example")
        .unwrap();
    // Superseded: sent again an hour later, so the row now outlives the first link.
    f.clock.advance(3_600);
    let s = f.invite("s@acme.example", &Permissions::All);
    f.clock.advance(3_600);
    let s2 = f.engine.resend(OWNER, s.invite.id, None).unwrap();
    assert!(s2.invite.expires_at > s.invite.expires_at);
    // Cancelled.
    let c = f.invite("c@acme.example", &Permissions::All);
    f.engine.cancel(OWNER, c.invite.id).unwrap();
    // Another account's, forged with the real key from a genuine link.
    let mut claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    claims.account_id = "2001".into();
    let foreign = f.engine.keyring().sign_with("k1", &claims).unwrap();
    // Before they expire, the database speaks.
    refused_everywhere(&f, &s.token, TokenReason::Superseded);
    refused_everywhere(&f, &c.token, TokenReason::Cancelled);
    refused_everywhere(&f, &foreign, TokenReason::WrongAccount);

    // At each link's own expiry, every operation says `expired`, as offline verifiers do.
    for (token, expires_at) in [
        (&s.token, s.invite.expires_at),
        (&c.token, c.invite.expires_at),
        (&foreign, claims.expires_at),
    ] {
        f.clock.set(expires_at);
        refused_everywhere(&f, token, TokenReason::Expired);
        assert_eq!(offline_reason(&f, token), Some(TokenReason::Expired));
    }
    // The expired link of another account still shows nothing of the invite.
    let i = f.engine.inspect(&foreign).unwrap();
    assert_eq!((i.invite_id, i.email, i.account_name), (None, None, None));
    // An expired link of this account shows the invite, to say who can resend it.
    f.clock.set(s.invite.expires_at);
    let i = f.engine.inspect(&s.token).unwrap();
    assert_eq!(i.invite_id, Some(s.invite.id));
    assert_eq!(i.invited_by.map(|e| e.to_string()), Some(OWNER.to_string()));

    // Not yet valid (the issuer's clock ran ahead) beats cancelled, superseded and another account.
    f.clock.set(T0 - 61);
    for token in [&c.token, &sent.token, &foreign] {
        refused_everywhere(&f, token, TokenReason::NotYetValid);
        assert_eq!(offline_reason(&f, token), Some(TokenReason::NotYetValid));
    }
    // The first link to s was issued at T0 + 1 h: within the skew it reads superseded.
    f.clock.set(T0 + 3_600 - 60);
    refused_everywhere(&f, &s.token, TokenReason::Superseded);
    f.clock.set(T0 + 3_600 - 61);
    refused_everywhere(&f, &s.token, TokenReason::NotYetValid);
    // Back in the window, the genuine invite still works.
    f.clock.set(T0);
    still_accepts(&f, &sent);
}

#[test]
fn tokens_claiming_more_than_the_longest_lifetime_are_refused() {
    let (f, sent) = with_invite();
    let mut claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    // Exactly the longest lifetime verifies (the row still expires first).
    claims.expires_at = claims.issued_at + cohort_core::token::MAX_LIFETIME;
    let longest = f.engine.keyring().sign_with("k1", &claims).unwrap();
    assert_eq!(offline_reason(&f, &longest), None);
    // One second more, or the end of time, is malformed everywhere.
    for expires_at in [claims.expires_at + 1, i64::MAX] {
        claims.expires_at = expires_at;
        let forged = f.engine.keyring().sign_with("k1", &claims).unwrap();
        refused_everywhere(&f, &forged, TokenReason::Malformed);
        assert_eq!(offline_reason(&f, &forged), Some(TokenReason::Malformed));
    }
    still_accepts(&f, &sent);
}

#[test]
fn a_link_with_two_tokens_is_refused() {
    let (f, sent) = with_invite();
    let t = &sent.token;
    let twice = format!("https://panel.example.com/accept?token={t}&token={t}");
    refused_everywhere(&f, &twice, TokenReason::Malformed);
    let one = format!("https://panel.example.com/accept?utm=x&token={t}");
    assert!(f.engine.inspect(&one).unwrap().valid);
    still_accepts(&f, &sent);
}

#[test]
fn an_engine_refuses_a_skew_over_an_hour() {
    // A `Config` built in code skips the TOML checks; the engine still refuses what every
    // verifier refuses, so `cohort_token_verify` and `inspect` can never disagree over it.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config_in(dir.path());
    cfg.clock_skew = 3_601;
    let e = Engine::create_with_clock(cfg.clone(), Arc::new(ManualClock::new(T0))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Config, "{e}");
    cfg.clock_skew = 3_600;
    assert!(Engine::create_with_clock(cfg, Arc::new(ManualClock::new(T0))).is_ok());
}

#[test]
fn rotation_keeps_old_links_until_their_key_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let cfg = config_in(dir.path());
    let clock = ManualClock::new(T0);
    let open = |cfg: Config| Engine::create_with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let e1 = open(cfg.clone());
    e1.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    let old = e1
        .invite(OWNER, ACCOUNT, "a@acme.example", &Permissions::All, None)
        .unwrap();
    let kept = e1
        .invite(OWNER, ACCOUNT, "b@acme.example", &Permissions::All, None)
        .unwrap();
    drop(e1);

    // Rotate: k2 signs, k1 still verifies.
    create_key_file(&keys_dir, "k2").unwrap();
    let mut cfg2 = cfg.clone();
    cfg2.keys.current = "k2".into();
    let e2 = open(cfg2.clone());
    let new = e2
        .invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
        .unwrap();
    assert!(new.token.starts_with("cohort1.k2."));
    assert!(e2.inspect(&old.token).unwrap().valid);
    e2.accept_register(&kept.token, "b@acme.example", "B")
        .unwrap();
    drop(e2);

    // Remove k1: its links die with it, with their own reason; k2's links live on.
    std::fs::remove_file(keys_dir.join("k1.key")).unwrap();
    let e3 = open(cfg2);
    let before = e3.dump().unwrap();
    let err = e3
        .accept_register(&old.token, "a@acme.example", "A")
        .unwrap_err();
    assert_eq!(token_reason(&err), TokenReason::UnknownKey);
    assert_eq!(e3.dump().unwrap(), before);
    // Resending gives the invite a link under the current key.
    let fresh = e3.resend(OWNER, old.invite.id, None).unwrap();
    assert!(fresh.token.starts_with("cohort1.k2."));
    e3.accept_register(&fresh.token, "a@acme.example", "A")
        .unwrap();
    e3.accept_register(&new.token, "c@acme.example", "C")
        .unwrap();
    assert_eq!(e3.members(ACCOUNT).unwrap().len(), 4);
}

type Shared = std::sync::OnceLock<(Fixture, cohort_core::IssuedInvite)>;

/// One engine shared by every case of the single-byte property (each case is refused).
static MUTATED: Shared = Shared::new();
/// Another for the round-trip property (each case writes, so it must not share with the above).
static ROUND_TRIP: Shared = Shared::new();

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any single-byte change to an issued link's token is refused, and writes nothing.
    #[test]
    fn any_single_byte_change_is_refused(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (f, sent) = MUTATED.get_or_init(with_invite);
        let mut b = sent.token.clone().into_bytes();
        let i = pos.index(b.len());
        prop_assume!(b[i] != byte);
        b[i] = byte;
        let changed = String::from_utf8_lossy(&b).into_owned();
        let before = f.dump();
        let r = f.engine.accept(&changed, DEV);
        prop_assert!(r.is_err(), "accepted {} (from {})", changed, sent.token);
        prop_assert_eq!(f.dump(), before);
        prop_assert!(!f.engine.inspect(&changed).unwrap().valid);
    }

    /// Issued links round-trip: inspect reads back what was invited, for any ttl and key set.
    #[test]
    fn issued_links_round_trip(ttl in 1i64..(366 * DAY), mask in 1u16..(1 << 13)) {
        let (f, _) = ROUND_TRIP.get_or_init(|| {
        // Hundreds of invites in one test day: lift the pending cap and the daily send limits.
        let f = Fixture::with(|c| {
            c.max_pending_invites = 1_000_000;
            c.max_invites_per_day = 1_000_000;
            c.max_invites_per_inviter_per_day = 1_000_000;
        });
        let sent = f.invite(DEV, &Permissions::All);
        (f, sent)
    });
        let chosen: Vec<&str> = cohort_core::permissions::BUILTIN
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, (k, _))| *k)
            .collect();
        let perms = keys(&chosen);
        let email = format!("p{mask}-{ttl}@acme.example");
        let sent = f.engine.invite(OWNER, ACCOUNT, &email, &perms, Some(ttl)).unwrap();
        let claims = f.engine.keyring().verify(&sent.token, T0, 0).unwrap();
        prop_assert_eq!(claims.invite_id, sent.invite.id as u64);
        prop_assert_eq!(claims.expires_at, T0 + ttl);
        let i = f.engine.inspect(&sent.link).unwrap();
        prop_assert!(i.valid);
        prop_assert_eq!(i.permissions, Some(perms));
        prop_assert_eq!(i.expires_at, Some(T0 + ttl));
        prop_assert_eq!(i.email.map(|e| e.to_string()), Some(email));
        f.engine.cancel(OWNER, sent.invite.id).unwrap();
    }
}
