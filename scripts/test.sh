#!/usr/bin/env bash
# Runs every test of Cohort on a fresh machine: installs what the tests need when it is missing
# (as root, through apt-get), then runs format and lint checks, the Rust test suites, and every
# step in scripts/test.d/ in name order (C ABI under valgrind, PHP, verifiers, fuzzing, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export ROOT CARGO_TERM_COLOR=never
COHORT_TEST_TMP="$(mktemp -d)"
export COHORT_TEST_TMP
trap 'rm -rf "$COHORT_TEST_TMP"' EXIT
# shellcheck source=lib.sh
. scripts/lib.sh

passed=0
failed=0
failures=()
run_step() {
    local name="$1"; shift
    echo
    echo "==> $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "<== $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "<== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

run_step "cargo fmt --check" cargo fmt --all -- --check
run_step "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
run_step "cargo build --release" cargo build --workspace --release --locked
run_step "cargo test" cargo test --workspace --release --locked
for step in scripts/test.d/*.sh; do
    [ -e "$step" ] || continue
    run_step "$(basename "$step" .sh)" bash "$step"
done

echo
if [ "$failed" -gt 0 ]; then
    echo "failed steps: ${failures[*]}"
fi
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
