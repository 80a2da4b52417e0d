//! Random sequences of invite / resend / cancel / accept / decline / inspect / revoke / expire
//! checked against a model: the fuzz target `invite_ops` (`fuzz/src/ops_check.rs`), fed by
//! proptest so that it runs on every `cargo test`.

#[path = "../../fuzz/src/ops_check.rs"]
mod ops_check;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invite_ops_target(ops in proptest::collection::vec((0u8..8, any::<u8>()), 0..60)) {
        let data: Vec<u8> = ops.iter().flat_map(|(w, a)| [*w, *a]).collect();
        ops_check::check(&data);
    }
}

/// A fixed story through every rule the model checks, with the outcome of each step spelled
/// out, so that a regression shows without luck (and a model that drifted would too).
#[test]
fn invite_ops_story() {
    // (operation, argument, outcome); accept's argument is link * 3 + person (0 ann, 1 bob, 2 cy).
    let story: &[(u8, u8, &str)] = &[
        (0, 0, "invite ann: ok"),
        (0, 0, "invite ann: pending_invite_exists"),
        (1, 0, "resend invite 0: ok"),
        (3, 0, "accept link 0 as ann: token_superseded"),
        (7, 0, "inspect link 0: superseded"),
        (6, 0, "decline link 0: token_superseded"),
        (7, 1, "inspect link 1: valid"),
        (3, 4, "accept link 1 as bob: email_mismatch"),
        (3, 3, "accept link 1 as ann: ok"),
        (3, 3, "accept link 1 as ann: token_already_used"),
        (3, 0, "accept link 0 as ann: token_superseded"),
        (0, 0, "invite ann: already_member"),
        (1, 0, "resend invite 0: invite_not_open"),
        (4, 0, "revoke ann: ok"),
        (4, 0, "revoke ann: not_found"),
        (0, 1, "invite bob: ok"),
        (2, 1, "cancel invite 1: ok"),
        (3, 7, "accept link 2 as bob: token_cancelled"),
        (1, 1, "resend invite 1: invite_not_open"),
        (2, 1, "cancel invite 1: invite_not_open"),
        (0, 1, "invite bob: ok"),
        (0, 2, "invite cy: ok"),
        (5, 27, "advance 162 h, expire: 0"),
        (5, 1, "advance 6 h, expire: 2"),
        (3, 10, "accept link 3 as bob: token_expired"),
        (3, 14, "accept link 4 as cy: token_expired"),
        // Cancelled, and now past its own expiry: the token's time comes first.
        (3, 7, "accept link 2 as bob: token_expired"),
        (0, 2, "invite cy: pending_invite_exists"),
        (1, 3, "resend invite 3: ok"),
        // Superseded by the resend, but expired as a token: expired, as offline verifiers say.
        (3, 14, "accept link 4 as cy: token_expired"),
        (7, 4, "inspect link 4: expired"),
        (7, 5, "inspect link 5: valid"),
        (6, 5, "decline link 5: ok"),
        (3, 17, "accept link 5 as cy: token_declined"),
        (1, 3, "resend invite 3: invite_not_open"),
    ];
    let data: Vec<u8> = story.iter().flat_map(|(w, a, _)| [*w, *a]).collect();
    let log = ops_check::run(&data);
    let want: Vec<&str> = story.iter().map(|(_, _, o)| *o).collect();
    assert_eq!(log, want);
}
