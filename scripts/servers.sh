#!/usr/bin/env bash
# Real MariaDB and PostgreSQL servers for the tests of Cohort's server stores, started by hand:
# no systemd and no service of the Debian packages, each server in a directory of its own under
# DIR, on a free 127.0.0.1 port, its superuser reachable over TCP without a password:
#     COHORT_TEST_MYSQL=mysql://root@127.0.0.1:PORT
#     COHORT_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT
# (no trailing slash, no database name: a test creates the databases it uses).
#
# Sourced (scripts/test.d/55-servers.sh): servers_install, servers_start DIR, servers_stop DIR.
# Run by a developer:
#     bash scripts/servers.sh start DIR    # installs what is missing (as root), starts both
#     . DIR/env                            # exports the two variables above
#     bash scripts/servers.sh stop DIR
#
# What DIR holds: mariadb/ (data, socket, logs), postgres/ (data, logs; a symlink when the
# cluster had to live elsewhere, see _servers_pg_home), mariadb.pid, postgres.pid,
# mariadb.port, postgres.port and env.
# These are throwaway servers: no passwords, PostgreSQL trusts every connection, and both listen
# on 127.0.0.1 only. Durability stays at the servers' defaults (InnoDB flushes its log at every
# commit, PostgreSQL keeps fsync and synchronous_commit on), so tests pay what production pays;
# only memory is lowered, for a 2-core machine that runs other tests at the same time.
# Knobs: COHORT_SERVERS_MARIADB_ARGS and COHORT_SERVERS_POSTGRES_ARGS (extra server options,
# split on spaces), COHORT_SERVERS_TRIES (ports tried per server, 5), COHORT_SERVERS_WAIT
# (seconds for a server to accept connections, 90), COHORT_SERVERS_STOP_WAIT (seconds for a
# server to stop after its signal, 30).

# ensure_pkg comes from lib.sh; source it when the caller did not.
if ! declare -F ensure_pkg >/dev/null; then
    # shellcheck source=lib.sh
    . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi

# ---------- small helpers ----------

_servers_now() {                # wall clock in seconds, with decimals
    local t="${EPOCHREALTIME:-}"
    if [ -n "$t" ]; then echo "${t/,/.}"; else date +%s.%N; fi
}
_servers_since() {              # _servers_since T0: seconds since T0, two decimals
    awk -v a="$1" -v b="$(_servers_now)" 'BEGIN { printf "%.2f", b - a }'
}
_servers_first() {              # the first of the commands or paths given that is executable
    local c p
    for c in "$@"; do
        if p="$(command -v "$c" 2>/dev/null)" && [ -x "$p" ]; then echo "$p"; return 0; fi
    done
    return 1
}
_servers_tail() {               # _servers_tail FILE [FROM_LINE]: the end of a server's log
    local f="$1" from="${2:-1}"
    [ -f "$f" ] || { echo "    ($f does not exist)"; return 0; }
    echo "    --- $f:"
    tail -n +"$from" "$f" | tail -n 40 | sed 's/^/    /'
}
_servers_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# A free port: the kernel picks one for a socket bound to port 0. It is free when we ask, not
# necessarily when the server binds it (another process may take it in between), which is why
# each start retries on "Address already in use" with a new port.
_servers_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}
# Alive and not a zombie: a server that exited stays a zombie until its parent reaps it (the
# step's shell, or PID 1, which on some machines never reaps), and kill -0 succeeds on zombies.
_servers_alive() {
    local pid="$1" stat
    [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [ "${stat:0:1}" != Z ]
}
# _servers_ours PID DATADIR: PID is alive and is the server of DATADIR (its command line names
# DATADIR, or its working directory is DATADIR: both servers chdir into their data directory).
# Guards against killing an unrelated process that got a recorded pid after a reboot.
_servers_ours() {
    local pid="$1" datadir="$2" real
    _servers_alive "$pid" || return 1
    if tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -e "$datadir" -e "--datadir=$datadir"; then
        return 0
    fi
    real="$(readlink -f "$datadir" 2>/dev/null)" || return 1
    [ -n "$real" ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$real" ]
}
_servers_as_postgres() {        # runs a PostgreSQL program as the postgres OS user when root
    # initdb and postgres refuse to run as root. cd /: the caller's directory (the checkout)
    # may not be readable by that user.
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# ---------- finding and installing the servers ----------

# Sets MARIADBD, MARIADB_INSTALL_DB and MARIADB (the client). Debian keeps mariadbd in /usr/sbin,
# which is not on every PATH; older packages name the binaries mysqld, mysql_install_db, mysql.
servers_find_mariadb() {
    MARIADBD="$(_servers_first mariadbd /usr/sbin/mariadbd mysqld /usr/sbin/mysqld)" || return 1
    MARIADB_INSTALL_DB="$(_servers_first mariadb-install-db /usr/bin/mariadb-install-db \
        mysql_install_db /usr/bin/mysql_install_db)" || return 1
    MARIADB="$(_servers_first mariadb /usr/bin/mariadb mysql /usr/bin/mysql)" || return 1
}
# Sets PG_BIN (the directory holding initdb and postgres of one version) and PSQL.
# Debian keeps them in /usr/lib/postgresql/VERSION/bin, off PATH (only psql, through its
# pg_wrapper, is in /usr/bin); an initdb on PATH (a developer's own build, or the symlinks some
# machines have in /usr/local/bin) wins, else the newest Debian version.
servers_find_postgres() {
    local c d dirs=()
    if c="$(command -v initdb 2>/dev/null)"; then dirs+=("$(dirname "$(readlink -f "$c")")"); fi
    while IFS= read -r d; do dirs+=("$d"); done \
        < <(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -rV)
    for d in "${dirs[@]}"; do
        if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
            PG_BIN="$d"
            PSQL="$(_servers_first "$d/psql" psql)" || return 1
            return 0
        fi
    done
    return 1
}

# Installs Debian's mariadb-server, mariadb-client and postgresql (and python3, which picks the
# ports) when they are missing, in one apt-get run through lib.sh's ensure_pkg.
servers_install() {
    local t0 pkgs=() probe="" saved="" rc
    t0="$(_servers_now)"
    if ! servers_find_mariadb; then pkgs+=(mariadb-server mariadb-client); probe="${probe:-mariadbd}"; fi
    if ! servers_find_postgres; then pkgs+=(postgresql); probe="${probe:-initdb}"; fi
    if ! command -v python3 >/dev/null 2>&1; then pkgs+=(python3); probe="${probe:-python3}"; fi
    if ! command -v openssl >/dev/null 2>&1; then pkgs+=(openssl); probe="${probe:-openssl}"; fi
    if [ "${#pkgs[@]}" -eq 0 ]; then
        echo "servers: install: nothing missing ($(_servers_since "$t0") s)"
    else
        if [ "$(id -u)" != 0 ]; then
            echo "servers: missing; install (as root) the Debian packages: ${pkgs[*]}" >&2
            return 1
        fi
        echo "servers: installing ${pkgs[*]}"
        # mariadb-server's postinst starts a server on port 3306 (and postgresql-common's its
        # 15/main cluster) unless a policy-rc.d forbids starting services: put one that exits
        # 101 in place for the install, and put back what was there before (nothing, or the
        # machine's own).
        if [ -e /usr/sbin/policy-rc.d ]; then
            saved="$(mktemp)" && cp -p /usr/sbin/policy-rc.d "$saved" || return 1
        fi
        printf '#!/bin/sh\n# scripts/servers.sh: no service starts while it installs packages\nexit 101\n' \
            > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        # ensure_pkg runs `apt-get install -y -qq ARGS` when the probe command is missing; the
        # option rides along with the packages (the recommends add nothing the tests use).
        ensure_pkg "$probe" --no-install-recommends "${pkgs[@]}" < /dev/null
        rc=$?
        if [ -n "$saved" ]; then mv -f "$saved" /usr/sbin/policy-rc.d; else rm -f /usr/sbin/policy-rc.d; fi
        [ "$rc" -eq 0 ] || { echo "servers: installing ${pkgs[*]} failed" >&2; return 1; }
        echo "servers: install: ${pkgs[*]} in $(_servers_since "$t0") s"
    fi
    servers_find_mariadb || { echo "servers: no mariadbd, mariadb-install-db or mariadb client found" >&2; return 1; }
    servers_find_postgres || { echo "servers: no initdb and postgres of one PostgreSQL found" >&2; return 1; }
    command -v python3 >/dev/null 2>&1 || { echo "servers: python3 is missing" >&2; return 1; }
    echo "servers: $("$MARIADBD" --version | sed 's/  */ /g'); $("$PG_BIN/postgres" --version)"
}

# ---------- MariaDB ----------

# Runs as root with --user=root (mariadbd refuses root without it) rather than as the mysql
# user: the data directory can then stay in DIR whatever its parents' modes (mktemp makes them
# 0700 root), and nothing depends on the mysql user, which only Debian's package creates. The
# server is bound to 127.0.0.1 and lives only as long as the test run.
# _servers_tls DIR: a throwaway CA and a certificate for 127.0.0.1 and localhost signed by it,
# in DIR/tls (ca.pem, server.pem, server.key), so that both servers also accept TLS and the
# tests can prove a verified TLS connection (COHORT_TEST_TLS_CA names the CA). Plain TCP keeps
# working: TLS is what a client asks for.
_servers_tls() {
    local tls="$1/tls"
    mkdir -p "$tls" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cohort test CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.pem" > "$tls/openssl.log" 2>&1 || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tls/server.key" -out "$tls/server.csr" >> "$tls/openssl.log" 2>&1 || return 1
    printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n' > "$tls/ext.cnf"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" \
        >> "$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; return 1; }
    chmod 600 "$tls/server.key" "$tls/ca.key"
}

_servers_start_mariadb() {
    local dir="$1" my="$1/mariadb" sock t0 try port pid from deadline ready out exited
    local tries="${COHORT_SERVERS_TRIES:-5}" wait="${COHORT_SERVERS_WAIT:-90}"
    local user=() extra=()
    [ "$(id -u)" = 0 ] && user=(--user=root)
    # shellcheck disable=SC2206  # the knob is a list of options split on spaces
    extra=(${COHORT_SERVERS_MARIADB_ARGS:-})
    # Memory only: the buffer pool (128M by default) and Aria's page cache (the system tables)
    # are small; a 32M redo log instead of 96M makes a smaller and faster-made data directory.
    # innodb_flush_log_at_trx_commit stays 1 and doublewrite on.
    local mem=(--innodb-buffer-pool-size=64M --innodb-log-file-size=32M
               --aria-pagecache-buffer-size=16M --key-buffer-size=8M)
    sock="$my/mysqld.sock"
    if [ "${#sock}" -gt 100 ]; then     # sun_path holds 108 bytes
        echo "servers: $sock is too long for a unix socket: use a shorter DIR" >&2
        return 1
    fi
    mkdir -p "$my" || return 1

    # --auth-root-authentication-method=normal: root@localhost gets a password (empty) instead
    # of unix_socket authentication, which would tie it to the OS user root.
    t0="$(_servers_now)"
    if ! "$MARIADB_INSTALL_DB" --no-defaults --datadir="$my/data" "${user[@]}" \
            --auth-root-authentication-method=normal --skip-test-db "${mem[@]}" \
            > "$my/install-db.log" 2>&1 < /dev/null; then
        echo "servers: mariadb-install-db failed:" >&2
        _servers_tail "$my/install-db.log" >&2
        return 1
    fi
    local t_init
    t_init="$(_servers_since "$t0")"

    for ((try = 1; try <= tries; try++)); do
        port="$(_servers_free_port)" || { echo "servers: no free port (python3)" >&2; return 1; }
        from=$(($(_servers_lines "$my/error.log") + 1))
        t0="$(_servers_now)"
        # --skip-name-resolve: no DNS lookup per connection; a TCP client from 127.0.0.1 then
        # matches only accounts @'127.0.0.1' or @'%', not @'localhost' (see below).
        "$MARIADBD" --no-defaults --datadir="$my/data" --port="$port" --bind-address=127.0.0.1 \
            --socket="$sock" --pid-file="$my/mariadbd.pid" --log-error="$my/error.log" \
            "${user[@]}" --skip-name-resolve "${mem[@]}" \
            --ssl-ca="$dir/tls/ca.pem" --ssl-cert="$dir/tls/server.pem" --ssl-key="$dir/tls/server.key" \
            "${extra[@]}" \
            < /dev/null >> "$my/stdout.log" 2>&1 &
        pid=$!
        echo "$pid" > "$dir/mariadb.pid"
        echo "$port" > "$dir/mariadb.port"
        ready=0
        deadline=$((SECONDS + wait))
        while [ "$SECONDS" -lt "$deadline" ]; do
            _servers_alive "$pid" || break
            if "$MARIADB" --no-defaults --socket="$sock" -uroot -N -B -e 'SELECT 1' > /dev/null 2>&1; then
                ready=1; break
            fi
            sleep 0.2
        done
        if [ "$ready" = 1 ]; then
            # Passwordless root over TCP. With --skip-name-resolve a client from 127.0.0.1
            # matches root@'127.0.0.1' only, never root@localhost (socket connections). 10.11's
            # install-db (method normal) happens to make root@'127.0.0.1' with an empty
            # password too; made sure of here rather than left to install-db's defaults, which
            # have changed across versions: it exists, has no password, has every privilege.
            if ! "$MARIADB" --no-defaults --socket="$sock" -uroot -e "
                    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
                    ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '';
                    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" \
                    > "$my/grant.log" 2>&1; then
                echo "servers: MariaDB: granting root@127.0.0.1 failed:" >&2
                _servers_tail "$my/grant.log" >&2
                return 1
            fi
            # Over TCP now, as the tests connect; @@socket proves it is our server that
            # answers on that port.
            out="$(timeout 20 "$MARIADB" --no-defaults --connect-timeout=10 --protocol=tcp \
                -h 127.0.0.1 -P "$port" -uroot -N -B -e 'SELECT @@socket' 2>&1)"
            if [ "$out" != "$sock" ]; then
                echo "servers: MariaDB answers on its socket but not as root over 127.0.0.1:$port: $out" >&2
                _servers_tail "$my/error.log" "$from" >&2
                return 1
            fi
            echo "servers: MariaDB init $t_init s, start $(_servers_since "$t0") s (127.0.0.1:$port, pid $pid)"
            return 0
        fi
        exited=0
        _servers_alive "$pid" || exited=1
        _servers_stop_pid "$pid" "$my/data" TERM
        rm -f "$dir/mariadb.pid" "$dir/mariadb.port"
        if tail -n +"$from" "$my/error.log" 2>/dev/null | grep -q -e 'Address already in use' -e 'Bind on TCP/IP port'; then
            echo "servers: MariaDB: port $port was taken meanwhile; trying another"
            continue
        fi
        if [ "$exited" = 1 ]; then
            echo "servers: mariadbd exited while starting:" >&2
        else
            echo "servers: MariaDB did not accept connections within ${wait} s:" >&2
        fi
        _servers_tail "$my/error.log" "$from" >&2
        _servers_tail "$my/stdout.log" >&2
        return 1
    done
    echo "servers: MariaDB: no port worked in $tries tries" >&2
    return 1
}

# ---------- PostgreSQL ----------

# _servers_pg_home DIR: where the cluster lives, printed. initdb and postgres run as the
# postgres OS user (they refuse root), which must be able to reach the directory. DIR itself
# when that user can (a developer's /tmp/x); otherwise, e.g. DIR inside a mktemp -d (0700
# root), a directory of its own made by mktemp in /tmp (world-traversable), with DIR/postgres a
# symlink to it and its path in DIR/postgres.external, so servers_stop removes it. Making DIR's
# parents traversable instead would change the modes of directories this script does not own.
_servers_pg_home() {
    local dir="$1" ext
    if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$dir" 2>/dev/null; then
        mkdir -p "$dir/postgres" || return 1
        [ "$(id -u)" = 0 ] && { chown postgres: "$dir/postgres" || return 1; }
        chmod 700 "$dir/postgres" || return 1
        echo "$dir/postgres"
        return 0
    fi
    ext="$(mktemp -d /tmp/cohort-postgres.XXXXXX)" || return 1
    echo "$ext" > "$dir/postgres.external"
    ln -s "$ext" "$dir/postgres" || return 1
    chown postgres: "$ext" && chmod 700 "$ext" || return 1
    runuser -u postgres -- test -w "$ext" 2>/dev/null \
        || { echo "servers: the postgres user cannot reach $ext" >&2; return 1; }
    echo "$ext"
}

_servers_start_postgres() {
    local dir="$1" pg t0 t_init try port pid from deadline ready out exited
    local tries="${COHORT_SERVERS_TRIES:-5}" wait="${COHORT_SERVERS_WAIT:-90}"
    local extra=()
    # shellcheck disable=SC2206  # the knob is a list of options split on spaces
    extra=(${COHORT_SERVERS_POSTGRES_ARGS:-})
    if [ "$(id -u)" = 0 ] && ! id -u postgres > /dev/null 2>&1; then
        echo "servers: no postgres OS user to run PostgreSQL as (Debian's postgresql package makes it)" >&2
        return 1
    fi
    pg="$(_servers_pg_home "$dir")" || return 1

    # --auth=trust: every connection is let in without a password (local and host lines of
    # pg_hba.conf); the server only listens on 127.0.0.1. --no-sync only skips initdb's own
    # final fsync of the new cluster (a throwaway), not the server's.
    t0="$(_servers_now)"
    if ! _servers_as_postgres "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 \
            --locale=C --no-sync > "$pg/initdb.log" 2>&1 < /dev/null; then
        echo "servers: initdb failed:" >&2
        _servers_tail "$pg/initdb.log" >&2
        return 1
    fi
    # TCP on 127.0.0.1 only, no unix socket (nothing uses one, and it avoids socket path limits
    # and the lock files other clusters keep in /tmp). Memory only: shared_buffers 32MB, not 128MB.
    {
        echo
        echo "# scripts/servers.sh"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = ''"
        echo "shared_buffers = 32MB"
        echo "ssl = on"
    } >> "$pg/data/postgresql.conf" || return 1
    # The server's certificate and key inside its data directory (the one place the postgres
    # user can read), key mode 600 as PostgreSQL demands.
    cp "$dir/tls/server.pem" "$pg/data/server.crt" && cp "$dir/tls/server.key" "$pg/data/server.key" \
        && chmod 600 "$pg/data/server.key" || return 1
    if [ "$(id -u)" = 0 ]; then chown postgres: "$pg/data/server.crt" "$pg/data/server.key" || return 1; fi
    t_init="$(_servers_since "$t0")"

    for ((try = 1; try <= tries; try++)); do
        port="$(_servers_free_port)" || { echo "servers: no free port (python3)" >&2; return 1; }
        from=$(($(_servers_lines "$pg/server.log") + 1))
        t0="$(_servers_now)"
        # postgres itself in the background, not pg_ctl: pg_ctl leaves the server an orphan,
        # whose zombie only PID 1 reaps (late, or never, on some machines: stopped servers
        # then still show in ps as <defunct>); as this shell's child, servers_stop's wait
        # reaps it. setpriv (not runuser, which stays as a parent) execs postgres, so $! is
        # the server's pid.
        if [ "$(id -u)" = 0 ]; then
            (cd / && exec setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --init-groups \
                "$PG_BIN/postgres" -D "$pg/data" -p "$port" "${extra[@]}" \
                < /dev/null >> "$pg/server.log" 2>&1) &
        else
            (cd / && exec "$PG_BIN/postgres" -D "$pg/data" -p "$port" "${extra[@]}" \
                < /dev/null >> "$pg/server.log" 2>&1) &
        fi
        pid=$!
        echo "$pid" > "$dir/postgres.pid"
        echo "$port" > "$dir/postgres.port"
        # First postmaster.pid (PostgreSQL 10+) says "ready": the server has its port (until then
        # whoever took the port meanwhile may answer on it, or accept and never answer, hence
        # the timeouts too). Then over TCP, as the tests connect; -w: never ask for a password,
        # and no password file (PGPASSFILE names none); data_directory proves it is our server.
        ready=0
        out=""
        deadline=$((SECONDS + wait))
        while [ "$SECONDS" -lt "$deadline" ]; do
            _servers_alive "$pid" || break
            if [ "$(sed -n 1p "$pg/data/postmaster.pid" 2>/dev/null)" != "$pid" ] \
                    || [ "$(sed -n '8{s/ *$//;p}' "$pg/data/postmaster.pid" 2>/dev/null)" != ready ]; then
                sleep 0.1
                continue
            fi
            out="$(timeout 10 env -u PGPASSWORD PGPASSFILE="$pg/no-pgpass" PGCONNECT_TIMEOUT=5 \
                "$PSQL" -X -w -At -h 127.0.0.1 \
                -p "$port" -U postgres -d postgres -c 'SHOW data_directory' 2> "$pg/psql.err")"
            if [ "$out" = "$pg/data" ]; then ready=1; break; fi
            sleep 0.2
        done
        if [ "$ready" = 1 ]; then
            echo "servers: PostgreSQL init $t_init s, start $(_servers_since "$t0") s (127.0.0.1:$port, pid $pid)"
            return 0
        fi
        exited=0
        _servers_alive "$pid" || exited=1
        _servers_stop_pid "$pid" "$pg/data" INT
        rm -f "$dir/postgres.pid" "$dir/postgres.port"
        if tail -n +"$from" "$pg/server.log" 2>/dev/null | grep -q 'Address already in use'; then
            echo "servers: PostgreSQL: port $port was taken meanwhile; trying another"
            continue
        fi
        if [ "$exited" = 1 ]; then
            echo "servers: postgres exited while starting:" >&2
        else
            echo "servers: PostgreSQL did not accept connections on 127.0.0.1:$port within ${wait} s${out:+ (it answered: $out)}" >&2
        fi
        _servers_tail "$pg/psql.err" >&2
        _servers_tail "$pg/server.log" "$from" >&2
        return 1
    done
    echo "servers: PostgreSQL: no port worked in $tries tries" >&2
    return 1
}

# ---------- start and stop ----------

# servers_start DIR: a fresh MariaDB and PostgreSQL (whatever an earlier run left in DIR is
# removed first), then COHORT_TEST_MYSQL and COHORT_TEST_POSTGRES exported and written to
# DIR/env. Returns 1 if either did not start (what did start is recorded, for servers_stop),
# 2 if servers of DIR are running already (left alone).
servers_start() {
    local dir="${1:?usage: servers_start DIR}" t0
    mkdir -p "$dir" && dir="$(cd "$dir" && pwd -P)" || return 1
    # mariadb-install-db (a shell script) splits its data directory on spaces.
    case "$dir" in *[[:space:]]*) echo "servers: DIR must not contain spaces: $dir" >&2; return 1 ;; esac
    servers_find_mariadb || { echo "servers: MariaDB is not installed (servers_install)" >&2; return 1; }
    servers_find_postgres || { echo "servers: PostgreSQL is not installed (servers_install)" >&2; return 1; }
    if _servers_running "$dir"; then
        echo "servers: servers of $dir are running: stop them first (servers_stop $dir)" >&2
        return 2
    fi
    _servers_clean "$dir"
    t0="$(_servers_now)"
    _servers_tls "$dir" || { echo "servers: cannot make the TLS certificates (openssl)" >&2; return 1; }
    _servers_start_mariadb "$dir" || return 1
    _servers_start_postgres "$dir" || return 1
    COHORT_TEST_MYSQL="mysql://root@127.0.0.1:$(cat "$dir/mariadb.port")"
    COHORT_TEST_POSTGRES="postgres://postgres@127.0.0.1:$(cat "$dir/postgres.port")"
    COHORT_TEST_TLS_CA="$dir/tls/ca.pem"
    export COHORT_TEST_MYSQL COHORT_TEST_POSTGRES COHORT_TEST_TLS_CA
    {
        echo "# servers of $dir (scripts/servers.sh); stop: bash scripts/servers.sh stop $dir"
        echo "export COHORT_TEST_MYSQL=$COHORT_TEST_MYSQL"
        echo "export COHORT_TEST_POSTGRES=$COHORT_TEST_POSTGRES"
        echo "export COHORT_TEST_TLS_CA=$COHORT_TEST_TLS_CA"
    } > "$dir/env.tmp" && mv -f "$dir/env.tmp" "$dir/env" || return 1
    echo "servers: both up in $(_servers_since "$t0") s: COHORT_TEST_MYSQL=$COHORT_TEST_MYSQL COHORT_TEST_POSTGRES=$COHORT_TEST_POSTGRES"
}

_servers_datadirs() {           # _servers_datadirs DIR: prints "name signal datadir" lines
    echo "mariadb TERM $1/mariadb/data"
    # PostgreSQL: SIGINT is its fast shutdown; SIGTERM (smart) would wait for every client,
    # e.g. a leaked connection of a test, to disconnect.
    echo "postgres INT $(readlink -f "$1/postgres" 2>/dev/null || echo "$1/postgres")/data"
}
_servers_pids() {               # _servers_pids NAME DIR DATADIR: the recorded and the server's own pid
    local name="$1" dir="$2" datadir="$3"
    cat "$dir/$name.pid" 2>/dev/null
    case "$name" in
        mariadb) cat "$dir/mariadb/mariadbd.pid" 2>/dev/null ;;
        postgres) head -1 "$datadir/postmaster.pid" 2>/dev/null ;;
    esac
}
_servers_running() {            # any server of DIR alive
    local name datadir sig pid
    while read -r name sig datadir; do
        for pid in $(_servers_pids "$name" "$1" "$datadir"); do
            _servers_ours "$pid" "$datadir" && return 0
        done
    done < <(_servers_datadirs "$1")
    return 1
}
_servers_clean() {              # what an earlier start left in DIR (its servers are stopped)
    local dir="$1" ext
    ext="$(cat "$dir/postgres.external" 2>/dev/null)" || true
    case "$ext" in /tmp/cohort-postgres.*) [[ "$ext" == *..* ]] || rm -rf "$ext" ;; esac
    rm -rf "$dir/mariadb" "$dir/postgres" "$dir/postgres.external" "$dir/env" "$dir/env.tmp" "$dir/tls" \
        "$dir/mariadb.pid" "$dir/mariadb.port" "$dir/postgres.pid" "$dir/postgres.port"
}

# _servers_stop_pid PID DATADIR SIGNAL: stops PID if it is the server of DATADIR: SIGNAL, a
# bounded wait, then (PostgreSQL) SIGQUIT, its immediate shutdown, and at last SIGKILL for it
# and its children. Waits for it to be gone, and reaps it when it is this shell's child.
_servers_stop_pid() {
    local pid="$1" datadir="$2" sig="$3" i kids
    local stop_wait="${COHORT_SERVERS_STOP_WAIT:-30}"
    _servers_ours "$pid" "$datadir" || { wait "$pid" 2>/dev/null; return 0; }
    kill -"$sig" "$pid" 2>/dev/null
    for ((i = 0; i < stop_wait * 10; i++)); do
        _servers_alive "$pid" || break
        sleep 0.1
    done
    if _servers_alive "$pid" && [ "$sig" = INT ]; then
        echo "servers: pid $pid ($datadir) did not stop on SIG$sig within ${stop_wait} s: QUIT" >&2
        kill -QUIT "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do _servers_alive "$pid" || break; sleep 0.1; done
    fi
    if _servers_alive "$pid"; then
        echo "servers: pid $pid ($datadir) did not stop: KILL" >&2
        kids="$(ps -o pid= --ppid "$pid" 2>/dev/null)"
        kill -KILL "$pid" 2>/dev/null
        for i in $kids; do kill -KILL "$i" 2>/dev/null; done
        for ((i = 0; i < 100; i++)); do _servers_alive "$pid" || break; sleep 0.1; done
    fi
    wait "$pid" 2>/dev/null || true
    ! _servers_alive "$pid"
}

# servers_stop DIR: stops the servers of DIR by their recorded pids (and the pids in the
# servers' own pid files, for a start interrupted before it recorded one); never by name, as
# other servers may run on the machine. Safe to call twice, and after a start that failed
# half-way. Removes DIR/env and the cluster kept outside DIR (its server log is copied into
# DIR first); the rest of DIR stays, for its logs.
servers_stop() {
    local dir="${1:?usage: servers_stop DIR}" name datadir sig pid rc=0 ext
    [ -d "$dir" ] || return 0
    dir="$(cd "$dir" && pwd -P)" || return 1
    while read -r name sig datadir; do
        for pid in $(_servers_pids "$name" "$dir" "$datadir" | sort -u); do
            if _servers_ours "$pid" "$datadir"; then
                _servers_stop_pid "$pid" "$datadir" "$sig" && echo "servers: stopped $name (pid $pid)" || rc=1
            fi
        done
        if [ "$rc" = 0 ]; then rm -f "$dir/$name.pid"; fi
    done < <(_servers_datadirs "$dir")
    rm -f "$dir/env"
    ext="$(cat "$dir/postgres.external" 2>/dev/null)" || true
    if [ "$rc" = 0 ] && [ -n "$ext" ]; then
        cp "$ext/server.log" "$dir/postgres-server.log" 2>/dev/null || true
        case "$ext" in /tmp/cohort-postgres.*) [[ "$ext" == *..* ]] || rm -rf "$ext" ;; esac
        rm -f "$dir/postgres" "$dir/postgres.external"
    fi
    return "$rc"
}

# ---------- run by a developer ----------

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    usage() {
        echo "usage: bash $0 start DIR | stop DIR | install" >&2
        exit 2
    }
    case "${1:-}" in
        start)
            [ $# -eq 2 ] || usage
            servers_install || exit 1
            rc=0
            servers_start "$2" || rc=$?
            if [ "$rc" = 2 ]; then exit 2; fi      # already running: leave them be
            if [ "$rc" != 0 ]; then
                servers_stop "$2" || true           # whatever started before the failure
                exit 1
            fi
            echo "servers: now run: . $(cd "$2" && pwd -P)/env"
            ;;
        stop) [ $# -eq 2 ] || usage; servers_stop "$2" ;;
        install) [ $# -eq 1 ] || usage; servers_install ;;
        *) usage ;;
    esac
fi
