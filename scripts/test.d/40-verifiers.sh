#!/usr/bin/env bash
# Integrators' side of invite links: the stdlib verifiers (Python, PHP) against every vector of
# tests/vectors/tokens.json and the RFC 4231 HMAC cases, their command lines (exit 0 / 1 / 2),
# and a short run of each fuzz target. The Rust verifier, the CLI and the proptest runs of the
# fuzz properties are part of `cargo test`.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=../lib.sh
. "$ROOT/scripts/lib.sh"
ensure_pkg php php-cli

VECTORS="$ROOT/tests/vectors/tokens.json"
PY="$ROOT/scripts/verify/verify_link.py"
PHP="$ROOT/scripts/verify/verify_link.php"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

python3 "$PY" --vectors "$VECTORS"
php "$PHP" --vectors "$VECTORS"

# The command lines, as an integrator runs them.
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$VECTORS" "$1"; }
K1="$(field 'v["keys"]["k1"]')"
VALID="$(field '[x for x in v["vectors"] if x["name"]=="valid_k1"][0]["token"]')"
EXPIRED="$(field '[x for x in v["vectors"] if x["name"]=="expired_exactly_now"][0]["token"]')"
NOW="$(field 'v["now_utc"]')"
printf '%s\n' "$K1" > "$TMP/k1.key"
mkdir "$TMP/upper" "$TMP/wrapped"
printf '%s\n' "$K1" | tr a-f A-F > "$TMP/upper/k1.key"
printf '%s\n%s\n' "${K1:0:32}" "${K1:32}" > "$TMP/wrapped/k1.key"
passed=0
failed=0
expect() { # expect EXIT STDOUT-PREFIX COMMAND...
    local want_exit="$1" want_out="$2" out rc=0
    shift 2
    out="$("$@" 2>/dev/null)" || rc=$?
    if [ "$rc" = "$want_exit" ] && [[ "$out" == "$want_out"* ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL (exit $rc, want $want_exit): $* -> $out"
    fi
}
for v in "python3 $PY" "php $PHP"; do
    # shellcheck disable=SC2086
    {
        expect 0 '{"key_id": "k1", "invite_id": 42,' $v --key "k1=$K1" --now "$NOW" \
            "https://panel.example.com/index.php?rp=/invite/$VALID"
        expect 0 '{"key_id": "k1"' $v --key-file "$TMP/k1.key" --now 1795946400 "$VALID"
        expect 1 'invalid: expired' $v --key "k1=$K1" --now "$NOW" "$EXPIRED"
        expect 1 'invalid: unknown_key' $v --key "k2=$K1" --now "$NOW" "$VALID"
        expect 1 'invalid: not_yet_valid' $v --key "k1=$K1" --now 2000-01-01T00:00:00Z "$VALID"
        expect 2 '' $v --now "$NOW" "$VALID"
        expect 2 '' $v --key "k1=abcd" "$VALID"
        expect 2 '' $v --key "k1=$K1" --now soon "$VALID"
        # The skew is at most an hour, in whole seconds.
        expect 0 '{"key_id": "k1"' $v --key "k1=$K1" --now "$NOW" --skew 3600 "$VALID"
        expect 2 '' $v --key "k1=$K1" --now "$NOW" --skew 3601 "$VALID"
        expect 2 '' $v --key "k1=$K1" --now "$NOW" --skew -1 "$VALID"
        expect 2 '' $v --key "k1=$K1" --now "$NOW" --skew soon "$VALID"
        # A key file in upper case with a trailing newline reads as the same key; one wrapped
        # over two lines does not.
        expect 0 '{"key_id": "k1"' $v --key-file "$TMP/upper/k1.key" --now "$NOW" "$VALID"
        expect 2 '' $v --key-file "$TMP/wrapped/k1.key" --now "$NOW" "$VALID"
        # A link with two token= parameters is refused.
        expect 1 'invalid: malformed' $v --key "k1=$K1" --now "$NOW" \
            "https://panel.example.com/accept?token=$VALID&token=$VALID"
    }
done
echo "verifier command lines: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

# Each fuzz target briefly (docs/fuzzing.md has the long runs).
bash "$ROOT/fuzz/run.sh" "${COHORT_FUZZ_SECONDS:-20}"
