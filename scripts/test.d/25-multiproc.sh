#!/usr/bin/env bash
# Many processes on one database, as PHP-FPM workers, cron and the CLI share it in production:
#   1. tests/c/stress_engine.c compiled with gcc against cohort.h and the release libcohort.so;
#   2. tests/multiproc/stress.py: long-lived C engines checking permissions in a loop and
#      writing, next to short-lived `cohort` CLI writers, at least 10 processes at once and over
#      1,000 process starts. Fails on any process killed by a signal (SIGBUS, ...), any hung
#      process, any acknowledged write missing afterwards, `PRAGMA integrity_check` other than
#      ok, or any stale answer from an engine. Two PHP engines (tests/multiproc/stress_engine.php,
#      Engine::check with its answers kept in PHP) run beside the C ones.
# Needs the release build (`cargo build --workspace --release`, which scripts/test.sh runs first).
# Installs gcc and php-cli when missing. STRESS_ARGS: extra arguments for stress.py (see its --help).
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh
TMP="$(mktemp -d "${COHORT_TEST_TMP:-/tmp}/multiproc.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
COHORT="$LIBDIR/cohort"
for f in "$COHORT" "$LIBDIR/libcohort.so"; do
    if [ ! -e "$f" ]; then
        echo "FAIL missing $f: run cargo build --workspace --release first"
        exit 1
    fi
done

passed=0
failed=0

ensure_pkg gcc gcc || exit 1
ensure_pkg python3 python3 || exit 1
ensure_pkg php php-cli || exit 1
build_engine() {
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -I ffi/include tests/c/stress_engine.c \
        -L "$LIBDIR" -lcohort -Wl,-rpath,"$LIBDIR" -o "$TMP/stress_engine"
}
check "stress engine builds against cohort.h" build_engine
if [ "$failed" -eq 0 ]; then
    # shellcheck disable=SC2086
    check "processes sharing one database: no death, no lost write, no stale answer" \
        env COHORT_LIBRARY="$LIBDIR/libcohort.so" \
        python3 tests/multiproc/stress.py --cohort "$COHORT" --engine "$TMP/stress_engine" \
            --php-engine tests/multiproc/stress_engine.php --tmp "$TMP" ${STRESS_ARGS:-}
fi

echo "25-multiproc: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
