#!/usr/bin/env bash
# Cohort under PHP-FPM, the way panels run it in production: one FPM pool of 8 workers
# (pm = static) shares one SQLite database, each request opening its engine from the preloaded
# FFI scope (docs/php.md, "PHP-FPM: preloading").
#   A. ffi.enable = preload, ffi.preload = the header from preload-header.php, opcache.preload =
#      scripts/php/preload.php; as root: master root, opcache.preload_user and workers www-data.
#   B. opcache.preload + FFI::load (Cohort\Library::preload()), no ffi.preload, with the master
#      running unprivileged (as nobody when this runs as root).
# The php.ini lines of both set-ups are read from docs/php.md (its "; Set-up A" and "; Set-up B"
# ini blocks), so the doc shows what ran. Then three set-ups the doc says fail (A with
# ffi.preload only, B under a root master without and with opcache.preload_user) must fail as
# it says. Each working set-up serves scripts/php/tests/fpm_app.php (invite, inspect, accept by registering,
# check) to 8 concurrent FastCGI clients (cgi-fcgi, 127.0.0.1 only), then asserts: every request
# answered 200 "ok", no worker died (FPM's log: "exited on signal", "exited with code N", no
# respawn), every acknowledged invite is accepted and its email a member of 1042 (read after FPM
# stopped, with `cohort users` and SQLite), and the database passes integrity_check.
# Installs php-fpm (with a policy-rc.d that keeps its service from starting), php-cli,
# libfcgi-bin (cgi-fcgi) and python3 when missing.
# Knobs: COHORT_FPM_REQUESTS (2000), COHORT_FPM_REQUESTS_B (1000), COHORT_FPM_CLIENTS (8),
# COHORT_FPM_DEADLINE (seconds for the load of one set-up, 600), COHORT_FPM_SETUPS ("A B"),
# COHORT_FPM_KEEP (non-empty: keep the temp dir with the logs and responses).
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh
LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
LIB="$LIBDIR/libcohort.so"
COHORT="$LIBDIR/cohort"
REQUESTS="${COHORT_FPM_REQUESTS:-2000}"
REQUESTS_B="${COHORT_FPM_REQUESTS_B:-1000}"
CLIENTS="${COHORT_FPM_CLIENTS:-8}"
DEADLINE="${COHORT_FPM_DEADLINE:-600}"
SETUPS="${COHORT_FPM_SETUPS:-A B}"
WORKERS=8
APP="$ROOT/scripts/php/tests/fpm_app.php"
export RUST_BACKTRACE=0

BASE="${COHORT_TEST_TMP:-/tmp}"
TMP="$(mktemp -d "$BASE/php-fpm.XXXXXX")" || exit 1
chmod 755 "$TMP"

MASTERS=()            # pids of FPM masters still to stop
POLICY_SAVED=""       # "none" or a copy of the policy-rc.d that was there, while ours is in place
BASE_MODE=""          # original mode of $BASE when we had to make it traversable

stop_fpm() {          # stop_fpm PID: TERM, wait up to 10 s, then KILL (and its leftover workers)
    local pid="$1" kids i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kids="$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ')"
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "php-fpm master $pid did not stop on TERM: KILL"
        kill -KILL "$pid" 2>/dev/null
        for i in $kids; do kill -KILL "$i" 2>/dev/null; done
    fi
    wait "$pid" 2>/dev/null
    return 0
}
restore_policy() {
    case "$POLICY_SAVED" in
        "") ;;
        none) rm -f /usr/sbin/policy-rc.d ;;
        *) cp -p "$POLICY_SAVED" /usr/sbin/policy-rc.d ;;
    esac
    POLICY_SAVED=""
}
cleanup() {
    local pid
    for pid in "${MASTERS[@]}"; do stop_fpm "$pid"; done
    restore_policy
    if [ -n "$BASE_MODE" ]; then chmod "$BASE_MODE" "$BASE"; fi
    if [ -n "${COHORT_FPM_KEEP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
finish() {
    echo "35-php-fpm: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# ---------- what the step needs ----------
if [ ! -f "$LIB" ] || [ ! -x "$COHORT" ]; then
    cargo build --release --locked -p cohort-ffi -p cohort-cli || exit 1
fi
find_fpm() {
    local f
    for f in php-fpm $(compgen -c php-fpm | sort -rV) /usr/sbin/php-fpm[0-9]*; do
        if command -v "$f" >/dev/null 2>&1; then command -v "$f"; return 0; fi
    done
    return 1
}
FPM="$(find_fpm)"
if [ -z "$FPM" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "php-fpm is missing; install the Debian package php-fpm" >&2
        exit 1
    fi
    # Debian starts the php-fpm service on install; a policy-rc.d exiting 101 forbids it.
    if [ -e /usr/sbin/policy-rc.d ]; then
        cp -p /usr/sbin/policy-rc.d "$TMP/policy-rc.d.saved" && POLICY_SAVED="$TMP/policy-rc.d.saved"
    else
        POLICY_SAVED=none
    fi
    printf '#!/bin/sh\n# scripts/test.d/35-php-fpm.sh: no service starts while it installs php-fpm\nexit 101\n' \
        > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    ensure_pkg php-fpm php-fpm
    rc=$?
    restore_policy
    [ "$rc" -eq 0 ] || { echo "installing php-fpm failed" >&2; exit 1; }
    FPM="$(find_fpm)" || { echo "php-fpm installed, but no php-fpm binary found" >&2; exit 1; }
fi
ensure_pkg php php-cli || exit 1
ensure_pkg cgi-fcgi libfcgi-bin || exit 1
ensure_pkg python3 python3 || exit 1
CGI_FCGI="$(command -v cgi-fcgi)"
TIMEOUT="$(command -v timeout)"
echo "using $FPM ($("$FPM" -n -v | head -1))"

# With -n nothing but our php.ini is read: load ffi and opcache as Debian ships them (shared),
# unless this PHP has them built in.
INI_EXT=""
"$FPM" -n -m | grep -x 'FFI' >/dev/null || INI_EXT+=$'extension=ffi\n'
"$FPM" -n -m | grep -x 'Zend OPcache' >/dev/null || INI_EXT+=$'zend_extension=opcache\n'

# Who runs the pool. As root: master root, workers and the preload user www-data (A); master
# nobody (B). Otherwise everything runs as the current user.
if [ "$(id -u)" = 0 ]; then
    WORKER_USER=www-data
    id -u "$WORKER_USER" >/dev/null 2>&1 || WORKER_USER=nobody
    B_USER=nobody
else
    WORKER_USER="$(id -un)"
    B_USER="$WORKER_USER"
fi
as_user() {           # as_user USER CMD...: runs CMD as USER
    local user="$1"; shift
    if [ "$user" = "$(id -un)" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}
# The workers must reach the temp dir; mktemp made $BASE private.
if [ "$(id -u)" = 0 ] && ! as_user nobody test -x "$TMP"; then
    if [ -O "$BASE" ]; then
        BASE_MODE="$(stat -c %a "$BASE")"
        chmod o+x "$BASE"
    fi
    as_user nobody test -x "$TMP" || { echo "$TMP is not reachable by unprivileged users" >&2; exit 1; }
fi
# The preload script and the served page are read by unprivileged users: when the checkout
# is not readable by them, serve a copy of scripts/php.
PHPDIR="$ROOT/scripts/php"
if [ "$(id -u)" = 0 ] && ! { as_user nobody test -r "$PHPDIR/preload.php" \
        && as_user nobody test -r "$PHPDIR/src/Engine.php" && as_user nobody test -r "$APP"; }; then
    echo "note: $PHPDIR is not readable by unprivileged users: serving a copy"
    cp -r "$PHPDIR" "$TMP/php"
    chmod -R a+rX "$TMP/php"
    PHPDIR="$TMP/php"
fi
APP="$PHPDIR/tests/fpm_app.php"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One client: requests K, K+CLIENTS, ... up to N, each response in $RESP/I, stopping at the
# deadline (the requests it did not send count as failed).
client() {
    local k="$1" n="$2" port="$3" resp="$4" run="$5" stop_at="$6" i email
    for ((i = k; i <= n; i += CLIENTS)); do
        [ "$SECONDS" -lt "$stop_at" ] || break
        email="fpm${run}-${i}@load.example"
        # cgi-fcgi sends its whole environment as FastCGI parameters: only the CGI ones, as a
        # web server would (getenv() in a worker sees parameters before the pool's env[]).
        env -i SCRIPT_FILENAME="$APP" SCRIPT_NAME=/fpm_app.php REQUEST_URI="/fpm_app.php?email=$email" \
            REQUEST_METHOD=GET QUERY_STRING="email=${email/@/%40}" SERVER_PROTOCOL=HTTP/1.1 \
            GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 SERVER_NAME=localhost \
            "$TIMEOUT" 30 "$CGI_FCGI" -bind -connect "127.0.0.1:$port" > "$resp/$i" 2>&1
        echo "$?" > "$resp/$i.rc"
    done
}

# doc_ini A|B DIR USER: the php.ini lines of a set-up exactly as docs/php.md shows them (its
# "```ini" block that starts with "; Set-up A"), with the doc's example paths replaced by this
# run's: the preload script, the ffi.preload header (DIR/cohort.h) and the preload user.
doc_ini() {
    local name="$1" dir="$2" user="$3" lines
    lines="$(awk -v want="; Set-up $name " '
        /^```ini$/ { inblock = 1; first = 1; next }
        /^```$/ { if (keep) exit; inblock = 0; next }
        inblock && first { first = 0; keep = (index($0, want) == 1); next }
        inblock && keep { print }' "$ROOT/docs/php.md")"
    if ! grep -qx 'ffi.enable = preload' <<< "$lines"; then
        echo "docs/php.md has no ini block of set-up $name (a line '; Set-up $name ...' opening it)" >&2
        return 1
    fi
    sed -e "s|/path/to/cohort/scripts/php|$PHPDIR|g" -e "s|/etc/php/8.2/fpm/cohort.h|$dir/cohort.h|g" \
        -e "s|^opcache.preload_user = .*|opcache.preload_user = $user|" <<< "$lines"
}

# start_master NAME DIR MASTER_USER POOL_USER PORT: writes DIR/php-fpm.conf, starts php-fpm on
# DIR/php.ini (COHORT_LIBRARY and TMPDIR in the master's environment, as docs/php.md says),
# waits until it is ready; sets MASTER_PID (and adds it to MASTERS). Returns 1 if it did not start.
start_master() {
    local name="$1" dir="$2" master_user="$3" pool_user="$4" port="$5" master k
    {
        echo "[global]"
        echo "pid = $dir/fpm.pid"
        echo "error_log = $dir/fpm-error.log"
        echo "log_level = notice"
        echo "daemonize = no"
        echo "[cohort]"
        if [ "$(id -u)" = 0 ] && [ "$master_user" = root ]; then
            echo "user = $pool_user"
            echo "group = $(id -gn "$pool_user")"
        fi
        echo "listen = 127.0.0.1:$port"
        echo "listen.allowed_clients = 127.0.0.1"
        echo "pm = static"
        echo "pm.max_children = $WORKERS"
        echo "request_terminate_timeout = 60s"
        echo "access.log = $dir/fpm-access.log"
        echo 'access.format = "%t %s %{mili}d ms pid=%p %m %r%Q%q"'
        echo "catch_workers_output = yes"
        echo "env[COHORT_CONFIG] = $dir/cohort/cohort.toml"
    } > "$dir/php-fpm.conf"
    if [ "$(id -u)" = 0 ]; then
        touch "$dir/php-error.log"
        chown "$pool_user" "$dir/php-error.log"
    fi
    # setpriv execs, so $! is the master itself; with runuser it is runuser, and the master's pid
    # comes from FPM's pid file.
    local launch=()
    if [ "$master_user" != "$(id -un)" ]; then
        if command -v setpriv >/dev/null; then
            launch=(setpriv --reuid="$(id -u "$master_user")" --regid="$(id -g "$master_user")"
                    --init-groups --reset-env)
        else
            launch=(runuser -u "$master_user" --)
        fi
    fi
    "${launch[@]}" env COHORT_LIBRARY="$LIB" TMPDIR="$dir/tmp" \
        "$FPM" -n -c "$dir/php.ini" -y "$dir/php-fpm.conf" --nodaemonize \
        > "$dir/fpm.out" 2>&1 &
    master=$!
    MASTERS+=("$master")
    for k in $(seq 150); do
        kill -0 "$master" 2>/dev/null || break
        if grep -q 'ready to handle connections' "$dir/fpm-error.log" 2>/dev/null; then
            if [ -s "$dir/fpm.pid" ] && [ "$(cat "$dir/fpm.pid")" != "$master" ]; then
                master="$(cat "$dir/fpm.pid")"
                MASTERS+=("$master")
            fi
            MASTER_PID="$master"
            return 0
        fi
        sleep 0.2
    done
    echo "php-fpm did not start:" >&2
    cat "$dir/fpm.out" "$dir/fpm-error.log" "$dir/php-error.log" 2>/dev/null | tail -20 >&2
    stop_fpm "$master"
    return 1
}

# run_setup NAME: one pool, one load, its checks.
run_setup() {
    local name="$1" dir="$TMP/$1" n master_user preload_user="" port
    local start elapsed stop_at k pids=() master
    if [ "$name" = A ]; then
        n="$REQUESTS"; master_user="$(id -un)"
        [ "$(id -u)" = 0 ] && preload_user="$WORKER_USER"
    else
        n="$REQUESTS_B"; master_user="$B_USER"
    fi
    echo
    echo "--- set-up $name: master $master_user, $WORKERS workers, $n requests from $CLIENTS clients"
    mkdir -p "$dir/resp" "$dir/tmp"
    # The Cohort directory, made as an admin would: cohort init, then the account.
    if ! "$COHORT" init "$dir/cohort" > "$dir/init.log" 2>&1; then
        cat "$dir/init.log"; return 1
    fi
    # 2,000 invites from one owner in minutes: lift the daily caps.
    sed -i -e 's/^max_invites_per_day = .*/max_invites_per_day = 1000000/' \
        -e 's/^max_invites_per_inviter_per_day = .*/max_invites_per_inviter_per_day = 1000000/' \
        "$dir/cohort/cohort.toml"
    local cfg="$dir/cohort/cohort.toml"
    "$COHORT" --config "$cfg" account add 1042 --name Acme --owner owner@acme.example \
        > "$dir/account.log" 2>&1 || { cat "$dir/account.log"; return 1; }
    # The PHP user writes the database and its directory (-wal, -shm).
    local pool_user="$WORKER_USER"
    [ "$name" = B ] && pool_user="$B_USER"
    if [ "$(id -u)" = 0 ]; then
        chown -R "$pool_user:$(id -gn "$pool_user")" "$dir/cohort"
        chown "$master_user:$(id -gn "$master_user")" "$dir" "$dir/tmp"
    fi

    if [ "$name" = A ]; then
        php "$PHPDIR/preload-header.php" "$LIB" > "$dir/cohort.h" || return 1
    fi
    local lines
    lines="$(doc_ini "$name" "$dir" "${preload_user:-$(id -un)}")" || return 1
    echo "php.ini lines of set-up $name, from docs/php.md:"
    sed 's/^/    /' <<< "$lines"
    {
        printf '%s' "$INI_EXT"
        echo "$lines"
        echo "display_errors = 0"
        echo "log_errors = 1"
        echo "error_log = $dir/php-error.log"
    } > "$dir/php.ini"
    port="$(free_port)" || return 1
    start_master "$name" "$dir" "$master_user" "$pool_user" "$port" || return 1
    master="$MASTER_PID"
    sleep 0.5   # let the 8 workers come up

    # The load: CLIENTS loops at once, all through FastCGI.
    start=$SECONDS
    stop_at=$((SECONDS + DEADLINE))
    for ((k = 1; k <= CLIENTS; k++)); do
        client "$k" "$n" "$port" "$dir/resp" "${name,,}$$" "$stop_at" &
        pids+=($!)
    done
    wait "${pids[@]}"
    elapsed=$((SECONDS - start))
    [ "$elapsed" -ge "$DEADLINE" ] && echo "the load hit the ${DEADLINE} s deadline"
    sleep 0.5
    local m master_alive=1
    kill -0 "$master" 2>/dev/null || { master_alive=0; echo "the php-fpm master died during the load"; }
    for m in "${MASTERS[@]}"; do stop_fpm "$m"; done
    MASTERS=()

    # Afterwards, with FPM stopped: what the database holds.
    "$COHORT" --config "$cfg" --json users 1042 > "$dir/users.json" 2> "$dir/users.err" \
        || { cat "$dir/users.err"; }
    python3 - "$name" "$n" "$elapsed" "$dir" "${name,,}$$" "$master_alive" <<'PY'
import json, os, re, sqlite3, sys

name, n, elapsed, d, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
master_alive = sys.argv[6] == "1"
resp = os.path.join(d, "resp")
acked = {}            # email -> invite id
failures = []
pids = set()
kept = 0
sent = 0
for i in range(1, n + 1):
    path = os.path.join(resp, str(i))
    if not os.path.exists(path):
        failures.append((i, "not sent (deadline)"))
        continue
    sent += 1
    raw = open(path, "rb").read().decode("utf-8", "replace")
    rc = open(path + ".rc").read().strip() if os.path.exists(path + ".rc") else "?"
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    m = re.search(r"^Status: (\d+)", head, re.M)
    status = int(m.group(1)) if m else (200 if "Content-type:" in head or "Content-Type:" in head else 0)
    email = "fpm%s-%d@load.example" % (run, i)
    ok = re.match(r"ok (\d+) (\S+) pid=(\d+) engine=(\w+)\n?$", body)
    if rc == "0" and status == 200 and ok and ok.group(2) == email:
        acked[ok.group(2)] = int(ok.group(1))
        pids.add(ok.group(3))
        kept += ok.group(4) == "kept"
    else:
        failures.append((i, "cgi-fcgi exit %s, status %s: %s" % (rc, status, (body or head).strip()[:200] or "(no answer)")))

log = open(os.path.join(d, "fpm-error.log"), errors="replace").read() if os.path.exists(os.path.join(d, "fpm-error.log")) else ""
deaths = [l for l in log.splitlines()
          if re.search(r"exited on signal|exited with code [1-9]|SIGBUS|SIGSEGV|core dumped", l)]
respawns = [l for l in log.splitlines() if re.search(r"child \d+ started", l)]
phplog_path = os.path.join(d, "php-error.log")
phplog = open(phplog_path, errors="replace").read() if os.path.exists(phplog_path) else ""
fatals = [l for l in phplog.splitlines() if "PHP Fatal error" in l]

members = set()
users_ok = True
try:
    for row in json.load(open(os.path.join(d, "users.json"))):
        if row.get("account_id") == "1042":
            members.add(row["email"])
except Exception as e:
    users_ok = False
    print("cohort users 1042 --json: unreadable (%s)" % e)
missing = sorted(e for e in acked if e not in members)
ids = list(acked.values())
dup_ids = len(ids) - len(set(ids))

# The invite rows themselves, and the file's integrity (SQLite reading SQLite's file).
bad_rows = []
integrity = "?"
try:
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "cohort", "cohort.db"), uri=True, timeout=10)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    rows = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, email, status FROM invites")}
    for email, iid in acked.items():
        if rows.get(iid) != (email, "accepted"):
            bad_rows.append((iid, email, rows.get(iid)))
    db.close()
except Exception as e:
    integrity = "error: %s" % e

kinds = {}
for i, why in failures:
    kinds.setdefault(re.sub(r"fpm\w+-\d+@|\b\d{4,}\b", "…", why), []).append(i)
for why, reqs in sorted(kinds.items(), key=lambda kv: -len(kv[1]))[:8]:
    print("  %d failed (first: request %d): %s" % (len(reqs), reqs[0], why))
for l in deaths[:10]:
    print("  fpm: " + l)
for l in fatals[:5]:
    print("  php: " + l)
for e in missing[:10]:
    print("  missing member: %s (invite %d)" % (e, acked[e]))
for r in bad_rows[:10]:
    print("  invite row not accepted: %r" % (r,))
ms = []
access = os.path.join(d, "fpm-access.log")
if os.path.exists(access):
    ms = sorted(float(m.group(1)) for m in re.finditer(r" ([\d.]+) ms ", open(access, errors="replace").read()))
lat = ("latency p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (ms[len(ms) // 2], ms[int(len(ms) * 0.99)], ms[-1])) if ms else "latency ?"
rate = (len(acked) / elapsed) if elapsed else float(len(acked))
print("set-up %s: requests %d, sent %d, ok %d, failures %d, worker deaths %d, respawns %d, "
      "acknowledged invites %d, missing %d, bad invite rows %d, duplicate ids %d, "
      "worker pids answering %d, engines kept across requests %d, php fatals %d, "
      "integrity %s, runtime %d s (%.0f req/s), %s"
      % (name, n, sent, len(acked), len(failures), len(deaths), len(respawns), len(acked),
         len(missing), len(bad_rows), dup_ids, len(pids), kept, len(fatals), integrity,
         elapsed, rate, lat))
good = (not failures and not deaths and not respawns and not missing and not bad_rows
        and not dup_ids and not fatals and users_ok and integrity == "ok" and len(acked) == n
        and master_alive)
with open(os.path.join(d, "verdict"), "w") as f:
    f.write("%d %d %d %d\n" % (len(failures), len(deaths) + len(respawns), len(missing) + len(bad_rows), 0 if good else 1))
sys.exit(0 if good else 1)
PY
}

# misconfigured NAME EXPECT LINES: an FPM master (as this user; workers $WORKER_USER) on the
# given php.ini lines, which docs/php.md says do not work; one request must fail with a
# LibraryException whose message holds EXPECT. EXPECT "no start": the master must refuse to
# start, with a log line naming opcache.preload_user.
misconfigured() {
    local name="$1" expect="$2" lines="$3" dir="$TMP/$1" port out
    mkdir -p "$dir/tmp"
    "$COHORT" init "$dir/cohort" > "$dir/init.log" 2>&1 || { cat "$dir/init.log"; return 1; }
    [ "$(id -u)" = 0 ] && chown -R "$WORKER_USER:$(id -gn "$WORKER_USER")" "$dir/cohort"
    php "$PHPDIR/preload-header.php" "$LIB" > "$dir/cohort.h" || return 1
    { printf '%s' "$INI_EXT"; echo "$lines"; echo "error_log = $dir/php-error.log"; } > "$dir/php.ini"
    port="$(free_port)" || return 1
    if [ "$expect" = "no start" ]; then
        if start_master "$name" "$dir" "$(id -un)" "$WORKER_USER" "$port" 2>/dev/null; then
            echo "php-fpm started, though docs/php.md says it refuses to"
            stop_fpm "$MASTER_PID"
            return 1
        fi
        grep -q 'opcache.preload_user' "$dir/fpm.out" "$dir/fpm-error.log" 2>/dev/null
        return
    fi
    start_master "$name" "$dir" "$(id -un)" "$WORKER_USER" "$port" || return 1
    out="$(env -i SCRIPT_FILENAME="$APP" SCRIPT_NAME=/fpm_app.php REQUEST_URI="/fpm_app.php" \
        REQUEST_METHOD=GET QUERY_STRING="email=misconfigured%40load.example" SERVER_PROTOCOL=HTTP/1.1 \
        GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 SERVER_NAME=localhost \
        "$TIMEOUT" 30 "$CGI_FCGI" -bind -connect "127.0.0.1:$port" 2>&1)"
    stop_fpm "$MASTER_PID"
    echo "  $name: $(grep -o 'error Cohort.*' <<< "$out" | cut -c1-240)"
    grep -q "LibraryException" <<< "$out" && grep -qF "$expect" <<< "$out"
}

verdict() {           # verdict SETUP FIELD: 1 = failures, 2 = deaths, 3 = missing, 4 = overall
    [ -f "$TMP/$1/verdict" ] || return 1
    [ "$(cut -d' ' -f"$2" "$TMP/$1/verdict")" = 0 ]
}
for s in $SETUPS; do
    case "$s" in
        A) title="A (ffi.preload + opcache.preload, master $(id -un), workers $WORKER_USER)" ;;
        B) title="B (opcache.preload + FFI::load, master $B_USER)" ;;
        *) echo "unknown set-up $s"; failed=$((failed + 1)); continue ;;
    esac
    run_setup "$s"
    check "set-up $title: every request answered 200 ok" verdict "$s" 1
    check "set-up $title: no worker died" verdict "$s" 2
    check "set-up $title: every acknowledged invite accepted, its email a member" verdict "$s" 3
    check "set-up $title: all checks (integrity, counts)" verdict "$s" 4
done

# What docs/php.md says fails, failing as it says, with the message Cohort\Library gives.
echo
echo "--- set-ups that docs/php.md says do not work"
A_LINES="$(doc_ini A "$TMP/a-ffi-only" "$WORKER_USER")"
check "set-up A without its opcache lines (ffi.preload alone): requests say the classes were not preloaded" \
    misconfigured a-ffi-only "not compiled by opcache.preload" "$(grep '^ffi\.' <<< "$A_LINES")"
if [ "$(id -u)" = 0 ]; then
    B_LINES="$(doc_ini B "$TMP/b-root" "$WORKER_USER")"
    check "set-up B under a root master without opcache.preload_user: FPM refuses to start" \
        misconfigured b-root-no-user "no start" "$B_LINES"
    check "set-up B under a root master with opcache.preload_user: requests say FFI::load() was refused" \
        misconfigured b-root-user "refuses FFI::load()" "$B_LINES
opcache.preload_user = $WORKER_USER"
fi
finish
