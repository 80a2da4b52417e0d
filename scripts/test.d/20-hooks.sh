#!/usr/bin/env bash
# Hook scripts from the command line, as a hosting admin uses them:
#   1. `cohort hooks check` passes on the shipped policies in hooks/ and fails (exit 1, file
#      and line in the output) on a broken script;
#   2. `cohort hooks test` on the example events in hooks/events/ gives the expected decision,
#      reason and exit code, and reports time, memory and interrupts;
#   3. a script that loops forever is stopped at the deadline, and the command still answers;
#   4. with the shipped 60-activity-log.lua and a [log] file configured, operations from the
#      command line leave their lines in the file (and on stderr with RUST_LOG); a broken invite
#      policy stops invites but not logins.
# The Rust tests (core/tests/hooks_*.rs) cover the runtime itself.
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh
TMP="$(mktemp -d "${COHORT_TEST_TMP:-/tmp}/hooks.XXXXXX")"
COHORT="${CARGO_TARGET_DIR:-$ROOT/target}/release/cohort"
if [ ! -x "$COHORT" ]; then
    cargo build --release --locked -p cohort-cli || exit 1
fi
# No config: the commands must not need one.
unset COHORT_CONFIG
cd "$TMP" || exit 1
C="$COHORT"
H="$ROOT/hooks"
NOW=2026-11-29T10:00:00Z

passed=0
failed=0

# expect EXIT PATTERN CMD...: CMD exits with EXIT and its output matches PATTERN.
expect() {
    local want="$1" pattern="$2"; shift 2
    local out code
    out="$("$@" 2>&1)"; code=$?
    if [ "$code" != "$want" ] || ! grep -Eq -- "$pattern" <<<"$out"; then
        echo "  exit $code (wanted $want); output:"; sed 's/^/    /' <<<"$out"
        return 1
    fi
}

check "check passes on the shipped policies" \
    expect 0 "ok +60-activity-log.lua" "$C" hooks check "$H"
mkdir broken
printf 'cohort.on("before_invite", function(ev)\n  if then\nend)\n' > broken/10-broken.lua
check "check reports a broken script with file and line" \
    expect 1 "10-broken.lua:2:" "$C" hooks check broken
check "check --json" \
    expect 1 '"errors": 1' "$C" --json hooks check broken
check "check says what a broken script denies" \
    expect 1 "while it fails, denies: before_invite$" "$C" hooks check broken

check "outside address denied by 10-allowed-domains.lua" \
    expect 1 "reason: +invites are limited to company addresses" \
    "$C" hooks test before_invite --event "$H/events/before_invite.json" --hooks "$H" --now "$NOW"
check "accept without 2FA denied by 20-require-2fa-to-accept.lua" \
    expect 1 "script: +20-require-2fa-to-accept.lua" \
    "$C" hooks test before_accept --event "$H/events/before_accept.json" --hooks "$H" --now "$NOW"
check "protected user kept by 50-protected-users.lua" \
    expect 1 "protected user" \
    "$C" hooks test before_revoke --event "$H/events/before_revoke.json" --hooks "$H" --now "$NOW"
sed 's/contractor@freelance.example/dev@acme.example/g' "$H/events/before_invite.json" > inside.json
check "inside address allowed, with time, memory and interrupts" \
    expect 0 "interrupts: +[0-9]+" \
    "$C" hooks test before_invite --event inside.json --hooks "$H" --now "$NOW"
mkdir narrow
cp "$H/40-no-all-for-outsiders.lua" narrow/
check "outsider narrowed by 40-no-all-for-outsiders.lua" \
    expect 0 "permissions: +invoices, tickets" \
    "$C" hooks test before_invite --event "$H/events/before_invite.json" --hooks narrow --now "$NOW"

mkdir loop
printf 'cohort.on("before_login", function(ev)\n  while true do end\nend)\n' > loop/10-loop.lua
echo '{"email": "a@acme.example"}' > login.json
check "an endless loop is stopped at the deadline" \
    expect 1 "10-loop.lua:2: deadline of 50 ms exceeded" \
    timeout 10 "$C" hooks test before_login --event login.json --hooks loop
check "an unknown event is a usage error" \
    expect 2 "before_logn" "$C" hooks test before_logn --event login.json --hooks loop

# ---------- 4. the activity log from the command line ----------
"$C" init site >/dev/null || exit 1
mkdir site/hooks
cp "$H/60-activity-log.lua" site/hooks/
printf '\n[hooks]\ndir = "hooks"\n\n[log]\nfile = "hooks.log"\n' >> site/cohort.toml
export COHORT_CONFIG="$TMP/site/cohort.toml"
"$C" account add 1042 --name "Acme Ltd" --owner owner@acme.example >/dev/null || exit 1
"$C" invite 1042 dev@acme.example --all >/dev/null || exit 1
log_has() {
    grep -Eq -- "$1" site/hooks.log || { echo "  site/hooks.log:"; sed 's/^/    /' site/hooks.log; return 1; }
}
check "an invite from the CLI leaves its line in the [log] file" \
    log_has '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z info 60-activity-log.lua:[0-9]+ after_invite invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all$'
check "the log file is created mode 600" \
    bash -c '[ "$(stat -c %a site/hooks.log)" = 600 ]'
mv site/hooks.log site/hooks.log.1
"$C" login owner@acme.example >/dev/null || exit 1
check "after logrotate renames the file, the next line goes to a new one" \
    bash -c 'grep -q " after_login login " site/hooks.log && ! grep -q after_login site/hooks.log.1'
check "RUST_LOG=info prints the records on stderr" \
    expect 0 "cohort: \[info\] 60-activity-log.lua:[0-9]+ after_login: login account=-" \
    env RUST_LOG=info "$C" login owner@acme.example
printf 'cohort.on("before_invite", function(ev)\n  if then\nend)\n' > site/hooks/10-broken.lua
check "a broken invite policy does not block logins" \
    expect 0 "logged in" "$C" login owner@acme.example
check "... but it denies invites" \
    expect 1 "10-broken.lua:2:" "$C" invite 1042 dev2@acme.example --all
check "... and says so in the log" \
    log_has ' error 10-broken.lua:2 - .*it denies before_invite until fixed'
unset COHORT_CONFIG

cd "$ROOT" && rm -rf "$TMP"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
