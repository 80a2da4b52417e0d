#!/usr/bin/env bash
# Cohort's server stores against real servers: a MariaDB and a PostgreSQL started for this step
# by scripts/servers.sh (Debian's packages, installed as root when missing; each server in a
# directory of its own, on a free 127.0.0.1 port, stopped by its pid when the step ends, however
# it ends). The suites get
#     COHORT_TEST_MYSQL=mysql://root@127.0.0.1:PORT
#     COHORT_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT
# (superusers without a password; no database name, a suite creates its own).
# First smoke checks of the set-up itself (on each server a database is created, a table
# written and read back through the server's client, the database dropped); then Cohort on each
# server: the engine test suites (with the multi-process races and the kill -9 durability test),
# the README Quick start and the demo, and `db copy` between backends; finally, after
# servers_stop, the servers' pids must be gone and their ports closed.
# Knobs: those of scripts/servers.sh; COHORT_SERVERS_KEEP (non-empty: keep the step's directory,
# with the servers' logs).
set -uo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. scripts/lib.sh
# shellcheck source=../servers.sh
. scripts/servers.sh

passed=0
failed=0
finish() {
    echo "55-servers: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
fail() { failed=$((failed + 1)); echo "FAIL $*"; finish; }

dir="$(mktemp -d "${COHORT_TEST_TMP:-/tmp}/servers.XXXXXX")" && dir="$(cd "$dir" && pwd -P)" || exit 1
remove_dir() {
    if [ -n "${COHORT_SERVERS_KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
# Whatever happens from here on (a failed start, a failed check, an error, ^C), the servers
# are stopped when the step exits.
trap 'servers_stop "$dir"; remove_dir' EXIT
trap 'exit 130' INT TERM

servers_install || fail "installing MariaDB and PostgreSQL"
servers_start "$dir" || fail "starting MariaDB and PostgreSQL in $dir"

# ---------- clients, talking to the servers the way the suites do: TCP, the URLs' users, no password ----------
if [[ ! "$COHORT_TEST_MYSQL" =~ ^mysql://([a-z]+)@(127\.0\.0\.1):([0-9]+)$ ]]; then
    fail "COHORT_TEST_MYSQL=$COHORT_TEST_MYSQL is not mysql://USER@127.0.0.1:PORT"
fi
MY_USER="${BASH_REMATCH[1]}" MY_HOST="${BASH_REMATCH[2]}" MY_PORT="${BASH_REMATCH[3]}"
if [[ ! "$COHORT_TEST_POSTGRES" =~ ^postgres://[a-z]+@127\.0\.0\.1:([0-9]+)$ ]]; then
    fail "COHORT_TEST_POSTGRES=$COHORT_TEST_POSTGRES is not postgres://USER@127.0.0.1:PORT"
fi
PG_PORT="${BASH_REMATCH[1]}"
# The mariadb client has no URL syntax: the URL's parts. --no-defaults: no ~/.my.cnf; no -p and
# no MYSQL_PWD: no password.
my() {
    env -u MYSQL_PWD "$MARIADB" --no-defaults --connect-timeout=10 --protocol=tcp \
        -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -N -B "$@"
}
# psql takes the URL itself (plus /DATABASE); -w: fail rather than ask for a password, and no
# password file (PGPASSFILE names none).
pq() {
    local db="$1"; shift
    env -u PGPASSWORD PGPASSFILE="$dir/no-pgpass" PGCONNECT_TIMEOUT=10 \
        "$PSQL" -X -w -q -At -v ON_ERROR_STOP=1 \
        "$COHORT_TEST_POSTGRES/$db" "$@"
}
equals() {            # equals EXPECTED CMD...: CMD's output is EXPECTED
    local want="$1" got; shift
    got="$("$@" 2>&1)" || { echo "    $*: $got"; return 1; }
    [ "$got" = "$want" ] || { echo "    $*: got '$got', want '$want'"; return 1; }
}

# --- suites ---
echo
echo "--- smoke: MariaDB at $COHORT_TEST_MYSQL"
check "MariaDB: root over TCP without a password, the server of $dir" \
    equals "$dir/mariadb/mysqld.sock" my -e 'SELECT @@socket'
check "MariaDB: default durability (innodb_flush_log_at_trx_commit = 1, doublewrite on)" \
    equals $'1\t1' my -e 'SELECT @@innodb_flush_log_at_trx_commit, @@innodb_doublewrite'
check "MariaDB: create database cohort_smoke, a table, a row" \
    my -e "CREATE DATABASE cohort_smoke;
           CREATE TABLE cohort_smoke.t (id BIGINT AUTO_INCREMENT PRIMARY KEY,
               email VARCHAR(254) COLLATE utf8mb4_bin NOT NULL UNIQUE) ENGINE = InnoDB;
           INSERT INTO cohort_smoke.t (email) VALUES ('smoke@example.test');"
check "MariaDB: the row read back" \
    equals $'1\tsmoke@example.test' my -e 'SELECT id, email FROM cohort_smoke.t'
check "MariaDB: drop database cohort_smoke" my -e 'DROP DATABASE cohort_smoke'
check "MariaDB: cohort_smoke is gone" \
    equals 0 my -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'cohort_smoke'"

echo
echo "--- smoke: PostgreSQL at $COHORT_TEST_POSTGRES"
check "PostgreSQL: postgres over TCP without a password, the server of $dir" \
    equals "$(readlink -f "$dir/postgres")/data" pq postgres -c 'SHOW data_directory'
check "PostgreSQL: default durability (fsync, synchronous_commit, full_page_writes on)" \
    equals $'on\non\non' pq postgres -c 'SHOW fsync' -c 'SHOW synchronous_commit' -c 'SHOW full_page_writes'
check "PostgreSQL: create database cohort_smoke" pq postgres -c 'CREATE DATABASE cohort_smoke'
check "PostgreSQL: a table, a row" \
    pq cohort_smoke -c "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            email TEXT NOT NULL UNIQUE)" \
                    -c "INSERT INTO t (email) VALUES ('smoke@example.test')"
check "PostgreSQL: the row read back" \
    equals '1|smoke@example.test' pq cohort_smoke -c 'SELECT id, email FROM t'
check "PostgreSQL: drop database cohort_smoke" pq postgres -c 'DROP DATABASE cohort_smoke'
check "PostgreSQL: cohort_smoke is gone" \
    equals 0 pq postgres -c "SELECT COUNT(*) FROM pg_database WHERE datname = 'cohort_smoke'"

# ---------- Cohort on each server ----------
# The release test binaries scripts/test.sh built in its `cargo test` step, run again with
# COHORT_TEST_DATABASE naming a server: every test then gets a database of its own there
# (core/tests/common/db.rs). SQLite-only suites (storage, store_open) are left out.
COHORT="${CARGO_TARGET_DIR:-$ROOT/target}/release/cohort"
SUITES=(--test engine --test team --test tokens --test concurrency --test check_fresh
        --test durability --test prop_invite_ops --test hooks_decisions --test hooks_events
        --test hooks_policies --test hooks_logging --test hooks_containment --test hooks_config
        --test store_batches --test migrations)
suites_on() {         # suites_on URL: the engine suites, races and kill -9 tests on that server
    COHORT_TEST_DATABASE="$1" cargo test --release --locked -q -p cohort-core "${SUITES[@]}" \
        > "$dir/suites.log" 2>&1 || { tail -60 "$dir/suites.log"; return 1; }
    grep -E '^test result' "$dir/suites.log" | awk '{p += $4; f += $6} END {print "    " p " passed, " f " failed"}'
}
# The README's Quick start block, run as written except that `cohort init` gets --database.
quickstart_on() {     # quickstart_on URL
    local block="$dir/quickstart.sh" out="$dir/quickstart.out"
    awk '/^## Quick start with the CLI/{s=1; next} s && /^```sh$/{c=1; next} c && /^```$/{exit} c{print}' \
        README.md | sed "s|^cohort init \"\$dir\"|cohort init \"\$dir\" --database \"$1\"|" > "$block"
    grep -q -- "--database \"$1\"" "$block" || { echo "    the Quick start has no 'cohort init \"\$dir\"' line"; return 1; }
    (unset COHORT_CONFIG; TMPDIR="$dir" bash -e "$block") > "$out" 2>&1 || { cat "$out"; return 1; }
    grep -q '^allowed$' "$out" && grep -q 'exit 1: not allowed' "$out" \
        && grep -q 'dev@acme.example' "$out" || { cat "$out"; return 1; }
}
demo_on() {           # demo_on URL: the demo on a fresh database, then refused on the used one
    "$COHORT" demo --database "$1" > "$dir/demo.out" 2>&1 || { tail -20 "$dir/demo.out"; return 1; }
    grep -q '^Demo finished' "$dir/demo.out" || { tail -5 "$dir/demo.out"; return 1; }
    ! "$COHORT" demo --database "$1" > "$dir/demo2.out" 2>&1 \
        && grep -q 'already holds Cohort data' "$dir/demo2.out"
}
# docs/servers.md, "Setting up", as a reader copies it: the backend's SQL block run by the
# server's client as its superuser, then the sh block with its first line (url=...) changed to
# this server; the password is the one the SQL block sets, read through database_password_env.
servers_doc_on() {    # servers_doc_on mysql|postgres
    local which="$1" sql="$dir/doc.sql" block="$dir/doc.sh" out="$dir/doc.out" heading url
    if [ "$which" = mysql ]; then heading='On MariaDB/MySQL:'; url="mysql://cohort@127.0.0.1:$MY_PORT/cohort"
    else heading='On PostgreSQL:'; url="postgres://cohort@127.0.0.1:$PG_PORT/cohort"; fi
    awk -v h="$heading" 'index($0, h) {s=1; next} s && /^```sql$/{c=1; next} c && /^```$/{exit} c{print}' \
        docs/servers.md > "$sql"
    awk '/^## Setting up/{s=1; next} s && /^```sh$/{c=1; next} c && /^```$/{exit} c{print}' \
        docs/servers.md | sed "1s|^url=\"[^\"]*\"|url=\"$url\"|" > "$block"
    [ -s "$sql" ] && head -1 "$block" | grep -qF "url=\"$url\"" \
        || { echo "    docs/servers.md lacks the SQL block or the sh block starting url=\"…\""; return 1; }
    if [ "$which" = mysql ]; then my < "$sql" || return 1
    else
        # psql runs the statements one by one (CREATE DATABASE cannot run in a transaction).
        pq postgres -f "$sql" || return 1
    fi
    # The doc assumes `cohort` on PATH (as the README's Quick start puts it there).
    (unset COHORT_CONFIG; PATH="$(dirname "$COHORT"):$PATH" TMPDIR="$dir" bash -e "$block") > "$out" 2>&1 \
        || { cat "$out"; return 1; }
    grep -q '^allowed$' "$out" && grep -q "backend: $which" "$out" \
        && grep -q 'compared row for row' "$out" || { cat "$out"; return 1; }
}
for backend in mysql postgres; do
    if [ "$backend" = mysql ]; then base="$COHORT_TEST_MYSQL"; name=MariaDB; else base="$COHORT_TEST_POSTGRES"; name=PostgreSQL; fi
    echo
    echo "--- Cohort on $name ($base)"
    check "$name: engine suites, 8 processes racing each link, kill -9 writers" suites_on "$base"
    check "$name: the README Quick start with cohort init --database" quickstart_on "$base/quickstart"
    check "$name: cohort demo --database" demo_on "$base/demo"
    check "$name: docs/servers.md set-up (least-privilege login, password from the environment)" \
        servers_doc_on "$backend"
done
echo
echo "--- what only servers do"
check "unreachable, wrong password, TLS missing, foreign tables, byte-wise ids, dropped connections replaced" \
    cargo test --release --locked -q -p cohort-core --test servers
echo
echo "--- PHP"
check "PHP through FFI on both servers (scripts/php/tests/server_test.php)" \
    php scripts/php/tests/server_test.php
echo
echo "--- moving between backends"
check "cohort db copy: SQLite -> MariaDB -> SQLite and SQLite -> PostgreSQL -> SQLite, row for row" \
    cargo test --release --locked -q -p cohort-core --test db_copy
# --- end of suites ---

# ---------- stopping: by pid, completely ----------
echo
echo "--- stop"
MY_PID="$(cat "$dir/mariadb.pid")"
PG_PID="$(cat "$dir/postgres.pid")"
PG_HOME="$(readlink -f "$dir/postgres")"
port_closed() {       # nothing accepts a TCP connection on 127.0.0.1:PORT
    ! timeout 5 bash -c 'exec 3<> "/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}
check "servers_stop" servers_stop "$dir"
check "after servers_stop: mariadbd (pid $MY_PID) is gone" eval '! _servers_alive "$MY_PID"'
check "after servers_stop: postgres (pid $PG_PID) and its processes are gone" \
    eval '! _servers_alive "$PG_PID" && [ -z "$(ps -o pid= --ppid "$PG_PID")" ]'
check "after servers_stop: port $MY_PORT (MariaDB) is closed" port_closed "$MY_PORT"
check "after servers_stop: port $PG_PORT (PostgreSQL) is closed" port_closed "$PG_PORT"
check "after servers_stop: no pid files, no env file left in $dir" \
    eval '[ ! -e "$dir/mariadb.pid" ] && [ ! -e "$dir/postgres.pid" ] && [ ! -e "$dir/env" ]'
if [ "$PG_HOME" != "$dir/postgres" ]; then
    check "after servers_stop: the cluster kept outside the step's dir ($PG_HOME) is removed" \
        eval '[ ! -e "$PG_HOME" ]'
fi
check "servers_stop a second time: nothing to do, no error" servers_stop "$dir"
finish
