# Shared helpers for the test scripts (sourced, not run).

# ensure_pkg CMD PKG...: installs Debian packages PKG when command CMD is missing.
# Runs `apt-get update` at most once per test run.
ensure_pkg() {
    local cmd="$1"; shift
    if command -v "$cmd" >/dev/null 2>&1; then return 0; fi
    if [ "$(id -u)" != 0 ]; then
        echo "missing $cmd; install the Debian packages: $*" >&2
        return 1
    fi
    local marker="${COHORT_TEST_TMP:-/tmp}/.apt-updated"
    if [ ! -e "$marker" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        touch "$marker"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# check NAME CMD...: runs CMD and prints "ok   NAME" or "FAIL NAME", counting into the step's
# `passed` and `failed` (which the step sets to 0 and reports at its end).
check() {
    local name="$1"; shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
    fi
}
