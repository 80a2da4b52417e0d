#!/usr/bin/env bash
# The reference client area (panel/) in a real browser: panel/tests/browser_test.py drives
# headless Debian Chromium with selenium against scripts/panel.sh (nginx + PHP-FPM with Cohort
# preloaded) on a free 127.0.0.1 port, with an aiosmtpd sink on 127.0.0.1 catching the
# invitation mails, through the whole story (invite, mail, register, login, mismatch, resend,
# cancel, expiry, permissions, remove access, contacts, CSRF, escaping, audit, logs).
# Installs chromium and chromium-driver (Debian) when missing, and selenium and aiosmtpd (PyPI)
# into a virtualenv kept at $COHORT_PANEL_VENV (default ~/.cache/cohort/panel-test-venv);
# scripts/panel.sh installs nginx and php-fpm itself.
# Knobs: PANEL_SCREENSHOTS=DIR also writes the screenshots there (docs/panel to refresh the
# docs); PANEL_TEST_KEEP=1 keeps the run's temp dir.
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh

fail() { echo "50-panel: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

ensure_pkg chromium chromium || fail "cannot install chromium"
ensure_pkg chromedriver chromium-driver || fail "cannot install chromium-driver"
ensure_pkg python3 python3 || fail "cannot install python3"

VENV="${COHORT_PANEL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cohort/panel-test-venv}"
if ! "$VENV/bin/python" -c 'import selenium, aiosmtpd' 2>/dev/null; then
    echo "setting up $VENV (selenium, aiosmtpd)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 keeps venv in a package of its own.
        if [ "$(id -u)" = 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
                || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
                     && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
        fi
        rm -rf "$VENV"
        python3 -m venv "$VENV" || fail "python3 -m venv failed"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check selenium aiosmtpd \
        || fail "pip install selenium aiosmtpd failed"
fi

LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
if [ ! -f "$LIBDIR/libcohort.so" ] || [ ! -x "$LIBDIR/cohort" ]; then
    cargo build --release --locked -p cohort-ffi -p cohort-cli || fail "cargo build failed"
fi

# Selenium must not look for a driver on the network: the Debian one is named explicitly.
export SE_OFFLINE=true
timeout -k 10 900 "$VENV/bin/python" panel/tests/browser_test.py
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "the browser test did not finish within 900 s"
fi
exit "$rc"
