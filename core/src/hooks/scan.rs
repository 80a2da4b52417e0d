//! Which before-events a script that does not load would have handled, read from its text.
//!
//! A script that fails to compile (or whose top level fails) registers nothing, yet it is a
//! policy that must not silently stop applying. Its text still says what it is about:
//! `cohort.on("before_invite", ...)`. The rule, which docs/hooks.md states for admins:
//!
//! - every before-event written out in full (`before_invite`) in the code or in a string is
//!   blocked;
//! - every before-event is blocked when `before` appears any other way: in an identifier of the
//!   code (`local before = ...`), or in a string without white space, which may be a piece of a
//!   name put together at run time (`"before_" .. action`, `("before_%s"):format(a)`);
//! - comments do not count, nor do strings holding white space (prose such as "turn on 2FA
//!   before accepting"): no script can run a string as code (`load` does not exist), so such a
//!   string can only be a message.
//!
//! The scan needs no parse that succeeds: it only tells comments and strings from code, and an
//! unterminated string or long comment ends the way that keeps more events blocked.

use super::{Event, Phase};

/// Bits ([`Event::bit`]) of every before-event.
pub(crate) fn all_before() -> u32 {
    Event::all()
        .filter(|e| e.phase == Phase::Before)
        .fold(0, |acc, e| acc | e.bit())
}

/// Bits of the before-events a script's text names (see the module doc).
pub(crate) fn before_events_named(text: &[u8]) -> u32 {
    let all = all_before();
    let n = text.len();
    let mut bits = 0;
    let mut i = 0;
    while i < n {
        let c = text[i];
        if c == b'-' && text.get(i + 1) == Some(&b'-') {
            if let Some(level) = long_bracket(text, i + 2) {
                if let Some(end) = find_close(text, i + 2 + level + 2, level) {
                    i = end;
                    continue;
                }
            }
            // A line comment; an unterminated long comment counts as one too, so that what
            // follows its first line is still read.
            i = text[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(n, |p| i + p);
            continue;
        }
        if matches!(c, b'"' | b'\'' | b'`') {
            let start = i + 1;
            let mut j = start;
            while j < n && text[j] != c && text[j] != b'\n' {
                j += if text[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(n);
            bits |= in_string(&text[start..end], all);
            i = end + 1;
            continue;
        }
        if c == b'[' {
            if let Some(level) = long_bracket(text, i) {
                let start = i + level + 2;
                let (content, next) = match find_close(text, start, level) {
                    Some(end) => (&text[start..end - level - 2], end),
                    None => (&text[start..], n),
                };
                bits |= in_string(content, all);
                i = next;
                continue;
            }
        }
        if is_ident(c) {
            let j = i + text[i..].iter().take_while(|&&b| is_ident(b)).count();
            if contains(&text[i..j], b"before") {
                return all;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    bits
}

/// What the content of a string literal names.
fn in_string(s: &[u8], all: u32) -> u32 {
    let prose = s.iter().any(u8::is_ascii_whitespace);
    let mut bits = 0;
    let mut from = 0;
    while let Some(p) = find(&s[from..], b"before") {
        let at = from + p;
        let start = at - s[..at].iter().rev().take_while(|&&b| is_ident(b)).count();
        let end = at + s[at..].iter().take_while(|&&b| is_ident(b)).count();
        let named = std::str::from_utf8(&s[start..end])
            .ok()
            .and_then(Event::parse)
            .filter(|e| e.phase == Phase::Before);
        match named {
            Some(e) => bits |= e.bit(),
            None if prose => {}
            None => return all,
        }
        from = end.max(at + 1);
    }
    bits
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[[`, `[=[`, `[==[`, ... at `i`: the number of `=`.
fn long_bracket(text: &[u8], i: usize) -> Option<usize> {
    if text.get(i) != Some(&b'[') {
        return None;
    }
    let level = text[i + 1..].iter().take_while(|&&b| b == b'=').count();
    (text.get(i + 1 + level) == Some(&b'[')).then_some(level)
}

/// The index just past the `]=...=]` of `level` that closes a long bracket opened before `from`.
fn find_close(text: &[u8], from: usize, level: usize) -> Option<usize> {
    let mut close = vec![b']'];
    close.extend(std::iter::repeat_n(b'=', level));
    close.push(b']');
    find(text.get(from..)?, &close).map(|p| from + p + close.len())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::Action;

    fn names(text: &str) -> Vec<&'static str> {
        let bits = before_events_named(text.as_bytes());
        if bits == all_before() {
            return vec!["all"];
        }
        Event::all()
            .filter(|e| bits & e.bit() != 0)
            .map(Event::name)
            .collect()
    }

    #[test]
    fn names_written_out_are_the_events_blocked() {
        assert_eq!(
            names("cohort.on(\"before_invite\", function(ev)\n  if then\nend)\n"),
            ["before_invite"]
        );
        assert_eq!(
            names("cohort.on('before_invite', f)\ncohort.on([[before_accept]], g)\ncohort.on(`before_login`, h)"),
            ["before_invite", "before_accept", "before_login"]
        );
        // After-events are never blocked: they cannot veto anything.
        assert_eq!(names("cohort.on('after_invite', f) )"), Vec::<&str>::new());
        assert_eq!(names(""), Vec::<&str>::new());
    }

    #[test]
    fn comments_and_prose_do_not_count() {
        let text = r#"
-- Runs before anything is written; before_login is left alone.
--[[ before_revoke
     before ]]
--[==[ ]] still a comment: before_transfer ]==]
cohort.on("before_accept", function(ev)
    return false, "turn on two-factor authentication before accepting"
end)
"#;
        assert_eq!(names(text), ["before_accept"]);
        // The shipped policies: each blocks what it handles, no more.
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks");
        let read = |n: &str| std::fs::read(shipped.join(n)).unwrap();
        let bits = |n: &str| before_events_named(&read(n));
        assert_eq!(
            bits("10-allowed-domains.lua"),
            Event::before(Action::Invite).bit()
        );
        assert_eq!(
            bits("20-require-2fa-to-accept.lua"),
            Event::before(Action::Accept).bit()
        );
        assert_eq!(bits("60-activity-log.lua"), 0);
    }

    #[test]
    fn names_put_together_at_run_time_block_every_before_event() {
        assert_eq!(
            names("for _, a in ipairs(A) do cohort.on('before_' .. a, f) end"),
            ["all"]
        );
        assert_eq!(names("cohort.on(('before_%s'):format(a), f)"), ["all"]);
        assert_eq!(
            names("local P = \"before\"\ncohort.on(P .. '_login', f)"),
            ["all"]
        );
        assert_eq!(names("local before = 'x'"), ["all"]);
        assert_eq!(
            names("cohort.on('before_invites', f)"),
            ["all"],
            "not an event name"
        );
    }

    #[test]
    fn unterminated_strings_and_comments_keep_what_follows() {
        assert_eq!(
            names("local s = 'oops\ncohort.on('before_login', f)"),
            ["before_login"]
        );
        assert_eq!(
            names("--[[ never closed\ncohort.on('before_revoke', f)"),
            ["before_revoke"]
        );
        assert_eq!(
            names("local s = [[ never closed before_cancel"),
            ["before_cancel"]
        );
    }
}
