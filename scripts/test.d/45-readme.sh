#!/usr/bin/env bash
# The README's Quick start, run exactly as written: the ```sh block under "## Quick start with the
# CLI" is extracted from README.md and run by bash with -e, from the top of the checkout, in a
# fresh environment without COHORT_CONFIG. Fails if any line fails or if the block is missing.
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
TMP="$(mktemp -d "${COHORT_TEST_TMP:-/tmp}/readme.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
block="$TMP/quickstart.sh"
awk '/^## Quick start with the CLI/{s=1; next} s && /^```sh$/{c=1; next} c && /^```$/{exit} c{print}' \
    README.md > "$block"
if [ ! -s "$block" ]; then
    echo "FAIL README.md has no sh block under '## Quick start with the CLI'"
    exit 1
fi
echo "running the README Quick start ($(wc -l < "$block") lines)"
if ! (unset COHORT_CONFIG; TMPDIR="$TMP" bash -e "$block") > "$TMP/out" 2>&1; then
    cat "$TMP/out"
    echo "FAIL the README Quick start does not run as written"
    exit 1
fi
cat "$TMP/out"
grep -q '^allowed$' "$TMP/out" || { echo "FAIL the Quick start's check did not print allowed"; exit 1; }
grep -q 'exit 1: not allowed' "$TMP/out" || { echo "FAIL the Quick start's second check was not refused"; exit 1; }
grep -q 'dev@acme.example' "$TMP/out" || { echo "FAIL the users table lacks the new member"; exit 1; }
echo "45-readme: 1 passed, 0 failed"
