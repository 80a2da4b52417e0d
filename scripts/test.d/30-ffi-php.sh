#!/usr/bin/env bash
# The C ABI and the PHP binding:
#   1. cohort.h and cohort_php.h regenerated with the pinned cbindgen must equal the committed ones;
#   2. libcohort.so / libcohort.a as shipped (target/release), and a variant with the test-panic
#      export in a target directory of its own (target/test-panic), which only the panic tests load;
#   3. tests/c/abi_test.c compiled with gcc against cohort.h, run under valgrind (no error, no
#      leak), and linked statically once;
#   4. the PHP tests in scripts/php/tests with php-cli (FFI), also with FFI off and preloaded
#      (a logger callback included);
#   5. the PHP benchmark in --quick mode, so that it keeps working (figures: docs/benchmarks.md).
# Installs cbindgen, gcc, valgrind, php-cli and php-sqlite3 when missing.
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh
TMP="$(mktemp -d "${COHORT_TEST_TMP:-/tmp}/ffi-php.XXXXXX")"
export COHORT_TEST_TMP="$TMP"
# The test-panic export panics on purpose; keep its report to one line.
export RUST_BACKTRACE=0

passed=0
failed=0

# ---------- 1. headers ----------
CBINDGEN_VERSION="$(sed -n 's/^# cbindgen-version: //p' cbindgen.toml)"
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "installing cbindgen $CBINDGEN_VERSION"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi
headers_match() {
    cbindgen --config cbindgen.toml --crate cohort-ffi --output "$TMP/cohort.h" ffi \
        2>"$TMP/cbindgen.log" || { cat "$TMP/cbindgen.log"; return 1; }
    python3 scripts/php/gen-header.py "$TMP/cohort.h" "$TMP/cohort_php.h" || return 1
    local ok=0
    for h in cohort.h cohort_php.h; do
        if ! diff -u "ffi/include/$h" "$TMP/$h"; then
            echo "ffi/include/$h is out of date; regenerate both headers with:"
            echo "  cbindgen --config cbindgen.toml --crate cohort-ffi --output ffi/include/cohort.h ffi"
            echo "  python3 scripts/php/gen-header.py"
            ok=1
        fi
    done
    return $ok
}
check "headers regenerate unchanged (cbindgen $CBINDGEN_VERSION)" headers_match

# ---------- 2. the library ----------
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if ! cargo build -p cohort-ffi --release --locked; then
    echo "FAIL building libcohort"
    exit 1
fi
if ! cargo build -p cohort-ffi --release --locked --features test-panic --target-dir "$TARGET/test-panic"; then
    echo "FAIL building libcohort with the test-panic export"
    exit 1
fi
LIBDIR="$TARGET/release"
LIB="$LIBDIR/libcohort.so"
PANIC_LIBDIR="$TARGET/test-panic/release"
export COHORT_LIBRARY="$LIB"
check "the shipped libcohort.so exports no test-only function" \
    bash -c "! nm -D --defined-only '$LIB' | grep -q cohort_test_panic"

# A fresh Cohort directory: DIR/cohort.toml, DIR/keys/k1.key (mode 600).
new_config() {
    local dir="$1"
    mkdir -p "$dir/keys"
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/keys/k1.key")
    printf '[keys]\ncurrent = "k1"\ndir = "keys"\n' > "$dir/cohort.toml"
}

# ---------- 3. C under valgrind ----------
ensure_pkg gcc gcc
ensure_pkg valgrind valgrind
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -DCOHORT_TEST_PANIC -I ffi/include)
c_under_valgrind() {
    gcc "${CFLAGS[@]}" tests/c/abi_test.c -L "$PANIC_LIBDIR" -lcohort -Wl,-rpath,"$PANIC_LIBDIR" \
        -o "$TMP/abi_test" || return 1
    new_config "$TMP/c"
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect "$TMP/abi_test" "$TMP/c/cohort.toml"
}
check "C program against cohort.h under valgrind: no errors, no leaks" c_under_valgrind
c_static() {
    gcc "${CFLAGS[@]}" tests/c/abi_test.c "$PANIC_LIBDIR/libcohort.a" -lstdc++ -lpthread -ldl -lm \
        -o "$TMP/abi_test_static" || return 1
    new_config "$TMP/c-static"
    "$TMP/abi_test_static" "$TMP/c-static/cohort.toml"
}
check "C program linked with libcohort.a" c_static
c_bench() {
    gcc "${CFLAGS[@]}" -O2 tests/c/bench.c -L "$LIBDIR" -lcohort -Wl,-rpath,"$LIBDIR" \
        -o "$TMP/bench" || return 1
    new_config "$TMP/c-bench"
    "$TMP/bench" "$TMP/c-bench/cohort.toml"
}
check "C benchmark builds and runs" c_bench

# ---------- 4. PHP ----------
ensure_pkg php php-cli
if ! php -m | grep -qi '^pdo_sqlite$'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-sqlite3 >/dev/null \
        || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-sqlite3 >/dev/null; }
fi
check "php has FFI" bash -c "php -m | grep -qi '^ffi$'"
php_lint() {
    local f
    for f in $(find scripts/php -name '*.php'); do
        php -l "$f" >/dev/null || { echo "syntax error in $f"; return 1; }
    done
}
check "PHP files parse" php_lint
for t in flow memory header package library_path logger doc_snippet shared server check_memo; do
    check "php $t test" php "scripts/php/tests/${t}_test.php"
done
# The misuse test also provokes a panic, through the test-panic variant of the library.
check "php misuse test" env COHORT_LIBRARY="$PANIC_LIBDIR/libcohort.so" php scripts/php/tests/misuse_test.php
check "php without the FFI extension (php -n)" php -n scripts/php/tests/no_ffi_test.php
check "php with ffi.enable=0" php -d ffi.enable=0 scripts/php/tests/no_ffi_test.php
# PHP-FPM's way, where ffi.enable=preload: the scope comes from ffi.preload (any user) ...
php scripts/php/preload-header.php "$LIB" > "$TMP/cohort-preload.h"
check "php preloaded with ffi.preload + opcache.preload" \
    php -d opcache.enable_cli=1 -d opcache.preload="$ROOT/scripts/php/preload.php" \
        -d opcache.preload_user="$(id -un)" -d ffi.enable=preload -d ffi.preload="$TMP/cohort-preload.h" \
        scripts/php/tests/preload_test.php
# ... or from FFI::load() in the opcache.preload script, when not running as root.
if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null && runuser -u nobody -- test -r "$ROOT/scripts/php/preload.php" \
        && runuser -u nobody -- test -r "$LIB"; then
        NOBODY_TMP="$(mktemp -d /tmp/cohort-nobody.XXXXXX)"
        chmod 777 "$NOBODY_TMP"
        check "php preloaded with opcache.preload + FFI::load (as nobody)" \
            runuser -u nobody -- env COHORT_TEST_TMP="$NOBODY_TMP" TMPDIR="$NOBODY_TMP" \
                COHORT_LIBRARY="$LIB" RUST_BACKTRACE=0 \
                php -d opcache.enable_cli=1 -d opcache.preload="$ROOT/scripts/php/preload.php" \
                -d ffi.enable=preload scripts/php/tests/preload_test.php
        rm -rf "$NOBODY_TMP"
    else
        echo "note: the work tree is not readable by nobody; opcache.preload + FFI::load not run"
    fi
else
    check "php preloaded with opcache.preload + FFI::load" \
        env TMPDIR="$TMP" php -d opcache.enable_cli=1 -d opcache.preload="$ROOT/scripts/php/preload.php" \
            -d ffi.enable=preload scripts/php/tests/preload_test.php
fi

# ---------- 5. the benchmark still runs ----------
check "php bench.php --quick" php scripts/php/bench.php --quick

echo "30-ffi-php: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
