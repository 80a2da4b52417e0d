#!/usr/bin/env bash
# scripts/panel.sh [--port 8080] [--dir DIR] [--smtp HOST:PORT]
#
# Serves the reference client area (panel/) on http://127.0.0.1:PORT/ in the foreground, the
# way production runs it: nginx in front of PHP-FPM, Cohort preloaded as docs/php.md, set-up A,
# shows (ffi.enable = preload, ffi.preload, opcache.preload; as root also opcache.preload_user,
# with the master root and the workers www-data). Ctrl-C (or TERM) stops everything it started.
#
#   --port PORT       where nginx listens on 127.0.0.1 (default 8080)
#   --dir DIR         the data directory, kept across starts (default: a fresh temporary
#                     directory, removed on stop): DIR/cohort.toml of `cohort init` (its
#                     link_template points at this panel's accept page), DIR/panel.db (the
#                     panel's logins), DIR/sessions, DIR/mail, DIR/log, DIR/run, and an optional
#                     DIR/panel.ini (mail_from = "...", invite_ttls = "7d,1d,1h")
#   --smtp HOST:PORT  send invitation mails to this SMTP server; without it they are written to
#                     DIR/mail/*.eml
#
# The first start of a DIR seeds two demo logins (printed at start). Installs php-fpm, php-cli,
# php-sqlite3 and nginx when missing (as root, with a policy-rc.d that keeps their services from
# starting), and builds libcohort and the cohort CLI when they are missing.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT=8080
DIR=""
SMTP=""

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --dir) DIR="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
        --dir=*) DIR="${1#*=}"; shift ;;
        --smtp) SMTP="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
        --smtp=*) SMTP="${1#*=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "panel.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    echo "panel.sh: --port needs a port number, not '$PORT'" >&2; exit 2
fi
if [ -n "$SMTP" ] && ! [[ "$SMTP" =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]+$ ]]; then
    echo "panel.sh: --smtp needs HOST:PORT, not '$SMTP'" >&2; exit 2
fi

say() { echo "panel: $*"; }
die() { echo "panel: $*" >&2; exit 1; }
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

# ---------- what it needs ----------
find_fpm() {
    local f
    for f in php-fpm $(compgen -c php-fpm | sort -rV) /usr/sbin/php-fpm[0-9]*; do
        if command -v "$f" >/dev/null 2>&1; then command -v "$f"; return 0; fi
    done
    return 1
}
need=()
find_fpm >/dev/null || need+=(php-fpm)
command -v php >/dev/null 2>&1 || need+=(php-cli)
{ command -v php >/dev/null 2>&1 && php -m 2>/dev/null | grep -x pdo_sqlite >/dev/null; } || need+=(php-sqlite3)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ "${#need[@]}" -gt 0 ]; then
    [ "$IS_ROOT" = 1 ] || die "missing ${need[*]}: install the Debian packages (sudo apt-get install ${need[*]})"
    say "installing ${need[*]}"
    # Debian starts a package's service on install; a policy-rc.d exiting 101 forbids it.
    saved_policy=""
    if [ -e /usr/sbin/policy-rc.d ]; then
        saved_policy="$(mktemp)" && cp -p /usr/sbin/policy-rc.d "$saved_policy"
    fi
    printf '#!/bin/sh\n# scripts/panel.sh: no service starts while it installs packages\nexit 101\n' \
        > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    rc=$?
    if [ -n "$saved_policy" ]; then mv "$saved_policy" /usr/sbin/policy-rc.d; else rm -f /usr/sbin/policy-rc.d; fi
    [ "$rc" -eq 0 ] || die "installing ${need[*]} failed"
fi
FPM="$(find_fpm)" || die "php-fpm not found"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
LIB="$LIBDIR/libcohort.so"
COHORT="$LIBDIR/cohort"
if [ ! -f "$LIB" ] || [ ! -x "$COHORT" ]; then
    say "building libcohort and the cohort CLI (cargo build --release)"
    (cd "$ROOT" && cargo build --release -p cohort-ffi -p cohort-cli) || die "cargo build failed"
fi

# ---------- who runs what ----------
# As root: nginx and the FPM master run as root, their workers as www-data, which owns DIR.
# Otherwise everything runs as the current user.
if [ "$IS_ROOT" = 1 ]; then
    RUN_USER=www-data
    id -u "$RUN_USER" >/dev/null 2>&1 || RUN_USER=nobody
    RUN_GROUP="$(id -gn "$RUN_USER")"
else
    RUN_USER="$(id -un)"
    RUN_GROUP="$(id -gn)"
fi
as_owner() {          # runs a command as the owner of DIR
    if [ "$RUN_USER" = "$(id -un)" ]; then "$@"; else setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --init-groups -- "$@"; fi
}

# ---------- the data directory ----------
TEMP_DIR=0
if [ -z "$DIR" ]; then
    DIR="$(mktemp -d /tmp/cohort-panel.XXXXXX)" || die "mktemp failed"
    TEMP_DIR=1
fi
mkdir -p "$DIR" || die "cannot create $DIR"
DIR="$(cd "$DIR" && pwd)"
if [ "$IS_ROOT" = 1 ] && ! as_owner test -x "$(dirname "$DIR")"; then
    die "$DIR is in a directory $RUN_USER cannot enter (the workers run as $RUN_USER): choose another --dir"
fi
RUN="$DIR/run"
LOG="$DIR/log"
mkdir -p "$DIR/mail" "$DIR/sessions" "$RUN/nginx" "$LOG" || die "cannot create the directories in $DIR"

# The panel's PHP, the library and the CLI must be readable by the workers' user: serve a copy
# when the checkout is not.
APP="$ROOT"
if [ "$IS_ROOT" = 1 ] && ! as_owner test -r "$ROOT/panel/public/index.php" -a -r "$ROOT/scripts/php/src/Engine.php" \
        -a -r "$LIB" -a -x "$COHORT"; then
    say "$ROOT is not readable by $RUN_USER: serving a copy from $RUN/app"
    rm -rf "$RUN/app" && mkdir -p "$RUN/app/scripts" "$RUN/app/lib" "$RUN/app/ffi/include" || die "cannot copy the panel"
    cp -r "$ROOT/panel" "$RUN/app/panel" && cp -r "$ROOT/scripts/php" "$RUN/app/scripts/php" \
        && cp "$ROOT/ffi/include/cohort_php.h" "$RUN/app/ffi/include/" \
        && cp "$LIB" "$COHORT" "$RUN/app/lib/" || die "cannot copy the panel"
    chmod -R a+rX "$RUN/app"
    APP="$RUN/app"
    LIB="$RUN/app/lib/libcohort.so"
    COHORT="$RUN/app/lib/cohort"
fi

LINK="http://127.0.0.1:$PORT/accept?token={token}"
if [ ! -f "$DIR/cohort.toml" ]; then
    "$COHORT" init "$DIR" >/dev/null || die "cohort init $DIR failed"
fi
# The invitation links point at this panel (the port may differ from the last start). It serves
# plain HTTP on 127.0.0.1, so Cohort must be told that http:// links are meant (allow_http_links:
# local development only; a real panel's links are https://).
sed -i -e "s|^link_template = .*|link_template = \"$LINK\"|" -e '/^allow_http_links = /d' \
    -e '/^link_template = /a allow_http_links = true' "$DIR/cohort.toml" || die "cannot set link_template"
grep -qF "link_template = \"$LINK\"" "$DIR/cohort.toml" || die "$DIR/cohort.toml has no link_template line"
if [ "$IS_ROOT" = 1 ]; then
    # DIR belongs to the workers' user (Cohort's database and key, the panel's database,
    # sessions, mail); run/ and log/ stay root's (nginx and the masters write them).
    chown "$RUN_USER:$RUN_GROUP" "$DIR" "$DIR/mail" "$DIR/sessions"
    chown -R "$RUN_USER:$RUN_GROUP" "$DIR"/cohort.* "$DIR/keys" "$DIR"/panel.* 2>/dev/null
    chown root:root "$RUN" "$LOG"
fi
chmod 700 "$DIR/sessions" "$DIR/mail"
seeded="$(as_owner env COHORT_LIBRARY="$LIB" php "$APP/panel/bin/setup.php" "$DIR")" || die "panel setup failed"
[ "$IS_ROOT" = 1 ] && chown -R "$RUN_USER:$RUN_GROUP" "$DIR"/panel.* 2>/dev/null

# ---------- PHP-FPM (set-up A of docs/php.md) ----------
php "$APP/scripts/php/preload-header.php" "$LIB" > "$RUN/cohort.h" || die "cannot write the preload header"
{
    # -n: nothing but this file is read, so load the extensions Debian ships as shared ones.
    "$FPM" -n -m | grep -x 'FFI' >/dev/null || echo "extension = ffi"
    "$FPM" -n -m | grep -x 'Zend OPcache' >/dev/null || echo "zend_extension = opcache"
    "$FPM" -n -m | grep -x 'PDO' >/dev/null || echo "extension = pdo"
    "$FPM" -n -m | grep -x 'pdo_sqlite' >/dev/null || echo "extension = pdo_sqlite"
    echo "ffi.enable = preload"
    echo "ffi.preload = $RUN/cohort.h"
    echo "opcache.enable = 1"
    echo "opcache.preload = $APP/scripts/php/preload.php"
    [ "$IS_ROOT" = 1 ] && echo "opcache.preload_user = $RUN_USER"
    echo "expose_php = 0"
    echo "display_errors = 0"
    echo "log_errors = 1"
    echo "error_log = $LOG/php-error.log"
    # Stack traces in the log never show arguments (a token is an argument on the accept page).
    echo "zend.exception_ignore_args = 1"
    echo "session.use_strict_mode = 1"
    echo "session.cookie_httponly = 1"
    echo "session.cookie_samesite = Lax"
} > "$RUN/php.ini"
touch "$LOG/php-error.log"
[ "$IS_ROOT" = 1 ] && chown "$RUN_USER" "$LOG/php-error.log"
SOCK="$RUN/php-fpm.sock"
{
    echo "[global]"
    echo "pid = $RUN/php-fpm.pid"
    echo "error_log = $LOG/php-fpm.log"
    echo "daemonize = no"
    echo "[panel]"
    if [ "$IS_ROOT" = 1 ]; then
        echo "user = $RUN_USER"
        echo "group = $RUN_GROUP"
        echo "listen.owner = $RUN_USER"
        echo "listen.group = $RUN_GROUP"
    fi
    echo "listen = $SOCK"
    echo "listen.mode = 0660"
    echo "pm = dynamic"
    echo "pm.max_children = 6"
    echo "pm.start_servers = 2"
    echo "pm.min_spare_servers = 1"
    echo "pm.max_spare_servers = 3"
    echo "request_terminate_timeout = 60s"
    # %r is the path without the query string: the accept page's token never reaches this log.
    echo "access.log = $LOG/php-fpm-access.log"
    echo 'access.format = "%t %m %r %s %{mili}d ms"'
    echo "catch_workers_output = no"
    echo "clear_env = yes"
    echo "env[PANEL_DIR] = $DIR"
    echo "env[COHORT_CONFIG] = $DIR/cohort.toml"
    [ -n "$SMTP" ] && echo "env[PANEL_SMTP] = $SMTP"
} > "$RUN/php-fpm.conf"

# ---------- nginx ----------
# Neither log ever holds a query string: the access log writes the path ($uri), never
# $request or $request_uri, and the accept page logs errors only at "crit" (nginx's error
# lines quote the request line, token and all).
{
    [ "$IS_ROOT" = 1 ] && echo "user $RUN_USER $RUN_GROUP;"
    cat <<EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    server_tokens off;
    client_body_temp_path $RUN/nginx/body;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    proxy_temp_path $RUN/nginx/proxy;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    log_format panel '\$remote_addr [\$time_local] "\$request_method \$uri \$server_protocol" \$status \$body_bytes_sent';
    access_log $LOG/nginx-access.log panel;
    client_max_body_size 64k;
    server {
        listen 127.0.0.1:$PORT;
        server_name 127.0.0.1 localhost;
        root $APP/panel/public;
        location /static/ {
            add_header X-Content-Type-Options nosniff always;
            expires 1h;
        }
        location = /accept {
            error_log $LOG/nginx-error.log crit;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root/index.php;
            fastcgi_param SCRIPT_NAME /index.php;
            fastcgi_pass unix:$SOCK;
        }
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root/index.php;
            fastcgi_param SCRIPT_NAME /index.php;
            fastcgi_pass unix:$SOCK;
        }
    }
}
EOF
} > "$RUN/nginx.conf"

# ---------- start, wait, stop ----------
FPM_PID=""
NGINX_PID=""
stop_pid() {          # stop_pid PID SIGNAL: signal, wait up to 10 s, then KILL
    local pid="$1" sig="$2" i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill "-$sig" "$pid" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
STOPPING=0
cleanup() {
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    stop_pid "$NGINX_PID" QUIT
    stop_pid "$FPM_PID" TERM
    if [ "$TEMP_DIR" = 1 ]; then rm -rf "$DIR"; fi
    say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$SOCK"
# COHORT_LIBRARY in the master's environment: the preload runs in the master, before any pool.
env COHORT_LIBRARY="$LIB" "$FPM" -n -c "$RUN/php.ini" -y "$RUN/php-fpm.conf" --nodaemonize \
    >> "$LOG/php-fpm.out" 2>&1 &
FPM_PID=$!
for _ in $(seq 100); do
    [ -S "$SOCK" ] && break
    kill -0 "$FPM_PID" 2>/dev/null || break
    sleep 0.1
done
if [ ! -S "$SOCK" ]; then
    tail -n 20 "$LOG/php-fpm.out" "$LOG/php-fpm.log" "$LOG/php-error.log" 2>/dev/null >&2
    die "php-fpm did not start (logs in $LOG)"
fi
"$NGINX" -e "$LOG/nginx-error.log" -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;' \
    >> "$LOG/nginx.out" 2>&1 &
NGINX_PID=$!
up=0
for _ in $(seq 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
if [ "$up" != 1 ]; then
    tail -n 20 "$LOG/nginx.out" "$LOG/nginx-error.log" 2>/dev/null >&2
    die "nginx did not start on 127.0.0.1:$PORT (logs in $LOG)"
fi

cat <<EOF
panel: serving http://127.0.0.1:$PORT/  (nginx pid $NGINX_PID, php-fpm pid $FPM_PID; Ctrl-C stops)
panel: data in $DIR$( [ "$TEMP_DIR" = 1 ] && echo " (temporary: removed on stop; --dir keeps it)")
panel: mail $( [ -n "$SMTP" ] && echo "to SMTP $SMTP" || echo "written to $DIR/mail/*.eml")
panel: demo logins$( [ "$seeded" = seeded ] && echo " (created now)"):
panel:   olivia@acme-hosting.example / olivia-demo-pass   owner of 1042 "Acme Hosting Ltd"
panel:   ben@partner-agency.example  / ben-demo-pass      owner of 1043 "Partner Agency"
panel: the cohort CLI on this data: $( [ "$IS_ROOT" = 1 ] && echo "setpriv --reuid=$RUN_USER --regid=$RUN_GROUP --init-groups -- ")$COHORT --config $DIR/cohort.toml users 1042
EOF

# In the foreground until stopped, or until either server dies.
wait -n "$FPM_PID" "$NGINX_PID"
rc=$?
if [ "$STOPPING" = 0 ]; then
    kill -0 "$FPM_PID" 2>/dev/null || say "php-fpm exited ($rc); see $LOG"
    kill -0 "$NGINX_PID" 2>/dev/null || say "nginx exited ($rc); see $LOG"
    exit 1
fi
