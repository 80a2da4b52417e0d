#!/usr/bin/env python3
"""Many processes on one SQLite database: none may die, lose an acknowledged write or see a
stale permission.

Run by scripts/test.d/25-multiproc.sh after `cargo build --release`; by hand:

    gcc -std=c11 -O2 -I ffi/include tests/c/stress_engine.c -L target/release -lcohort \\
        -Wl,-rpath,$PWD/target/release -o /tmp/stress_engine
    python3 tests/multiproc/stress.py --cohort target/release/cohort --engine /tmp/stress_engine

What runs at once, released together by a start barrier:
  - ENGINES long-lived C engines (tests/c/stress_engine.c): each keeps one engine open, checks the
    member's permissions in a loop through cohort_permission_check and upserts a new login every
    few iterations; an engine killed by a signal is recorded and replaced;
  - with --php-engine, PHP_ENGINES long-lived PHP engines (tests/multiproc/stress_engine.php):
    the same loop through Cohort\Engine::check, whose answers are kept in PHP while the
    library's permission generation stays, so that each commit of another process must reach
    them too;
  - LANES short-lived CLI writer lanes, back to back: `cohort user add laneL-i@stress.example`,
    and every fourth time `cohort login` of one of the lane's logins;
  - one permission lane: `cohort perms 1042 member@acme.example --perm KEYS[k]`, round after
    round, announcing each round in a side file (DIR/round, "STARTED DONE", replaced by rename)
    so that the engines can tell which answer is the only correct one (see stress_engine.c).
The CLI lanes share a fixed budget of process starts (--starts); nothing depends on wall time
except the timeouts that keep a broken run from hanging.

Pass: no process killed by a signal, no hung process, every acknowledged write (CLI exit 0,
COHORT_STATUS_OK from C) in the database afterwards, `PRAGMA integrity_check` = ok, no stale
answer, no engine error, and enough process starts and verified checks for the run to mean
something. Exit status 0 on pass, 1 on failure, 2 on a broken setup.
"""

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ACCOUNT = "1042"
OWNER = "owner@acme.example"
MEMBER = "member@acme.example"


def signame(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return "signal %d" % n


def death_signal(rc):
    """The signal that killed a process with this return code, or None."""
    if rc is None:
        return None
    if rc < 0:
        return -rc
    if rc >= 128:
        return rc - 128
    return None


class SetupError(Exception):
    pass


class Stress:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.dir = os.path.join(work, "cohort")
        self.config = os.path.join(self.dir, "cohort.toml")
        self.db = os.path.join(self.dir, "cohort.db")
        self.round_file = os.path.join(work, "round")
        self.go_file = os.path.join(work, "go")
        self.stop_file = os.path.join(work, "stop")
        self.lock = threading.Lock()
        self.budget = args.starts
        self.abort = threading.Event()  # stop everything (timeout, signal, internal error)
        self.go = threading.Event()
        self.live = set()  # Popen objects still running
        self.max_live = 0
        self.cli_starts = 0
        self.engine_starts = 0
        self.setup_starts = 0
        self.deaths = []  # (who, what, signal)
        self.hung = []  # (who, what)
        self.errors = []  # unexpected failures of the harness or of an engine
        self.refused = []  # (who, what, rc, stderr) CLI writes that exited 1
        self.acked_users = set()
        self.acked_logins = set()
        self.acked_perms = 0
        self.perm_final = None  # (round, key) when the last permission write was acknowledged
        self.engine_acks = set()
        self.checks = self.verified = self.stale = 0
        self.php_verified = 0
        self.all_engines = args.engines + (args.php_engines if args.php_engine else 0)
        self.engine_write_errors = self.engine_check_errors = 0
        self.stale_lines = []
        self.keys = []

    # ---------- processes ----------

    def _register(self, p):
        with self.lock:
            self.live.add(p)
            self.max_live = max(self.max_live, len(self.live))

    def _unregister(self, p):
        with self.lock:
            self.live.discard(p)

    def kill_all(self):
        with self.lock:
            procs = list(self.live)
        for p in procs:
            try:
                p.kill()
            except OSError:
                pass

    def cli(self, who, *argv, setup=False):
        """Runs the CLI; returns (rc, stdout, stderr), rc None when it hung and was killed."""
        cmd = [self.args.cohort, "--config", self.config, *argv]
        what = " ".join(argv)
        with self.lock:
            if setup:
                self.setup_starts += 1
            else:
                self.cli_starts += 1
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self._register(p)
        try:
            out, err = p.communicate(timeout=self.args.cmd_timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            with self.lock:
                self.hung.append((who, what))
            return None, b"", b""
        finally:
            self._unregister(p)
        sig = death_signal(p.returncode)
        if sig is not None:
            with self.lock:
                if sig == signal.SIGKILL and self.abort.is_set():
                    self.hung.append((who, what + " (killed at abort)"))
                else:
                    self.deaths.append((who, what, sig))
        return p.returncode, out, err

    def take(self):
        """One process start from the budget of the CLI lanes."""
        with self.lock:
            if self.abort.is_set() or self.budget <= 0:
                return False
            self.budget -= 1
            return True

    # ---------- setup ----------

    def setup(self):
        os.makedirs(self.work, exist_ok=True)
        rc = subprocess.run([self.args.cohort, "init", self.dir], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            timeout=self.args.cmd_timeout)
        self.setup_starts += 1
        if rc.returncode != 0:
            raise SetupError("cohort init failed: %s" % rc.stderr.decode(errors="replace"))

        def must(*argv):
            rc, out, err = self.cli("setup", *argv, setup=True)
            if rc != 0:
                raise SetupError("cohort %s: exit %s: %s" % (" ".join(argv), rc,
                                                            err.decode(errors="replace")))
            return out

        catalogue = json.loads(must("--json", "permissions"))
        # The 13 WHMCS keys (not `users`, which carries rules of its own).
        self.keys = [k["key"] for k in catalogue if k["key"] != "users"]
        if len(self.keys) < 3:
            raise SetupError("need at least 3 permission keys, got %r" % self.keys)
        must("account", "add", ACCOUNT, "--name", "Acme", "--owner", OWNER)
        invite = json.loads(must("--json", "invite", ACCOUNT, MEMBER, "--perm", self.key(0)))
        must("accept", invite["link"], "--as", MEMBER, "--register", "--name", "Member")
        for k in (0, 1):
            rc, _, _ = self.cli("setup", "check", ACCOUNT, MEMBER, self.key(k), setup=True)
            if rc != (0 if k == 0 else 1):
                raise SetupError("member does not hold exactly %s after setup" % self.key(0))
        self.write_round(0, 0)

    def key(self, k):
        return self.keys[k % len(self.keys)]

    def write_round(self, started, done):
        tmp = self.round_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (started, done))
        os.replace(tmp, self.round_file)

    # ---------- lanes ----------

    def perms_lane(self):
        self.go.wait()
        done = 0
        uncertain = False  # an attempt after the last acknowledged one failed
        while self.take():
            nxt = done + 1
            self.write_round(nxt, done)
            rc, _, err = self.cli("perms", "perms", ACCOUNT, MEMBER, "--perm", self.key(nxt))
            if rc == 0:
                self.write_round(nxt, nxt)
                done = nxt
                uncertain = False
                with self.lock:
                    self.acked_perms += 1
                # Hold the round so that the engines can verify answers against it.
                time.sleep(self.args.hold_ms / 1000.0)
            else:
                uncertain = True
                self._failed("perms", "perms %s" % self.key(nxt), rc, err)
        with self.lock:
            self.perm_final = None if uncertain else (done, self.key(done))

    def user_lane(self, lane):
        self.go.wait()
        i = 0
        last = None
        while self.take():
            i += 1
            if i % 4 == 0 and last is not None:
                rc, _, err = self.cli("lane%d" % lane, "login", last)
                if rc == 0:
                    with self.lock:
                        self.acked_logins.add(last)
                else:
                    self._failed("lane%d" % lane, "login " + last, rc, err)
            else:
                email = "lane%d-%d@stress.example" % (lane, i)
                rc, _, err = self.cli("lane%d" % lane, "user", "add", email)
                if rc == 0:
                    last = email
                    with self.lock:
                        self.acked_users.add(email)
                else:
                    self._failed("lane%d" % lane, "user add " + email, rc, err)

    def _failed(self, who, what, rc, err):
        if rc is None or death_signal(rc) is not None:
            return  # already recorded as hung or dead
        msg = err.decode(errors="replace").strip()
        with self.lock:
            if rc == 1:
                self.refused.append((who, what, rc, msg))
            else:
                self.errors.append("%s: cohort %s: exit %d: %s" % (who, what, rc, msg))

    # ---------- engines ----------

    def start_engine(self, slot, gen):
        out = open(os.path.join(self.work, "engine%d.%d.out" % (slot, gen)), "w+")
        err = open(os.path.join(self.work, "engine%d.%d.err" % (slot, gen)), "w+")
        engine = ([self.args.engine] if slot < self.args.engines
                  else [self.args.php, self.args.php_engine])
        cmd = engine + [self.config, self.round_file, self.go_file, self.stop_file,
                        ",".join(self.keys), str(self.args.write_every), str(self.args.pause_us),
                        str(self.args.engine_max_seconds)]
        with self.lock:
            self.engine_starts += 1
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self._register(p)
        return p, out, err

    def engine_slot(self, slot, first):
        p, out, err = first
        gen = 0
        while True:
            try:
                p.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                if self.abort.is_set():
                    p.kill()
                    p.wait()
                elif os.path.exists(self.stop_file):
                    try:
                        p.wait(timeout=self.args.cmd_timeout)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
                        with self.lock:
                            self.hung.append(("engine%d" % slot, "engine did not stop"))
                else:
                    continue
            self._unregister(p)
            self.collect_engine(slot, gen, p.returncode, out, err)
            # A dead engine is replaced while the writers still run (its replacement opens the
            # database in the middle of the traffic, which is one more thing to survive).
            if (death_signal(p.returncode) is None or self.abort.is_set()
                    or os.path.exists(self.stop_file) or gen >= self.args.max_restarts):
                return
            gen += 1
            p, out, err = self.start_engine(slot, gen)

    def collect_engine(self, slot, gen, rc, out, err):
        who = "engine%d.%d" % (slot, gen)
        out.seek(0)
        lines = out.read().splitlines()
        err.seek(0)
        err_text = err.read().strip()
        out.close()
        err.close()
        result = None
        progress = None
        stale = []
        acks = set()
        errors = []
        for line in lines:
            if line.startswith("ack "):
                acks.add(line[4:].strip())
            elif line.startswith("stale "):
                stale.append(line)
            elif line.startswith("result "):
                result = line
            elif line.startswith("progress "):
                progress = line
            elif line.startswith("error "):
                errors.append(line)
        figures = {}
        for part in (result or progress or "").split()[1:]:
            k, _, v = part.partition("=")
            figures[k] = int(v)
        sig = death_signal(rc)
        with self.lock:
            self.engine_acks |= acks
            self.checks += figures.get("checks", 0)
            self.verified += figures.get("verified", 0)
            if slot >= self.args.engines:
                self.php_verified += figures.get("verified", 0)
            self.stale += max(figures.get("stale", 0), len(stale))
            self.stale_lines += ["%s: %s" % (who, s) for s in stale[:5]]
            self.engine_write_errors += figures.get("write_errors", 0)
            self.engine_check_errors += figures.get("check_errors", 0)
            if sig == signal.SIGKILL and self.abort.is_set():
                self.hung.append((who, "engine (killed at abort)"))
            elif sig is not None:
                self.deaths.append((who, "engine after %s" % (progress or "start"), sig))
            elif rc != 0:
                self.errors.append("%s: exit %s: %s %s" % (who, rc, " | ".join(errors[:3]),
                                                          err_text[-300:]))
            elif result is None:
                self.errors.append("%s: no result line" % who)

    # ---------- the run ----------

    def run(self):
        t0 = time.monotonic()
        self.setup()
        slots = []
        for slot in range(self.all_engines):
            slots.append(self.start_engine(slot, 0))
        # Start barrier, part 1: every engine open (or already dead) before anything writes.
        deadline = time.monotonic() + self.args.cmd_timeout
        for slot, (p, out, _) in enumerate(slots):
            path = out.name
            while time.monotonic() < deadline and p.poll() is None:
                with open(path) as f:
                    if f.readline().startswith("ready"):
                        break
                time.sleep(0.01)
        engines = [threading.Thread(target=self.engine_slot, args=(s, slots[s]), daemon=True)
                   for s in range(self.all_engines)]
        writers = [threading.Thread(target=self.perms_lane, daemon=True)]
        writers += [threading.Thread(target=self.user_lane, args=(lane,), daemon=True)
                    for lane in range(self.args.lanes)]
        for t in engines + writers:
            t.start()
        # Part 2: the engines leave their wait on the go file as the lanes leave theirs.
        open(self.go_file, "w").close()
        self.go.set()
        for t in writers:
            t.join()
        open(self.stop_file, "w").close()
        for t in engines:
            t.join()
        self.kill_all()
        self.runtime = time.monotonic() - t0
        self.verify()

    def verify(self):
        self.integrity = None
        self.missing = []
        try:
            conn = sqlite3.connect("file:%s?mode=rw" % self.db, uri=True, timeout=30)
            try:
                rows = conn.execute("PRAGMA integrity_check").fetchall()
                self.integrity = "; ".join(str(r[0]) for r in rows[:5])
                users = dict(conn.execute("SELECT email, last_login FROM users").fetchall())
                perm = conn.execute(
                    "SELECT m.perm_all, m.perms FROM memberships m JOIN users u"
                    " ON u.id = m.user_id WHERE m.account_id = ? AND u.email = ?",
                    (ACCOUNT, MEMBER)).fetchone()
            finally:
                conn.close()
        except sqlite3.Error as e:
            self.integrity = "error: %s" % e
            return
        for email in sorted(self.acked_users):
            if email not in users:
                self.missing.append("cli user add %s" % email)
        for email in sorted(self.acked_logins):
            if users.get(email) is None:
                self.missing.append("cli login %s (no last_login)" % email)
        for email in sorted(self.engine_acks):
            if email not in users:
                self.missing.append("engine upsert %s" % email)
        if self.perm_final is not None:
            done, key = self.perm_final
            if perm is None or perm[0] != 0 or perm[1] != key:
                self.missing.append("cli perms round %d (%s): member has %r" % (done, key, perm))

    def report(self):
        a = self.args
        starts = self.cli_starts + self.engine_starts
        acked = (len(self.acked_users) + len(self.acked_logins) + self.acked_perms
                 + len(self.engine_acks))
        print("multiproc stress: %d engines (%d C, %d PHP), %d user lanes, 1 permission lane" %
              (self.all_engines, a.engines, self.all_engines - a.engines, a.lanes))
        print("  process starts:      %d (cli %d, engines %d; setup %d more), at most %d at once"
              % (starts, self.cli_starts, self.engine_starts, self.setup_starts, self.max_live))
        print("  deaths by signal:    %d" % len(self.deaths))
        by_sig = {}
        for who, _, sig in self.deaths:
            by_sig.setdefault(signame(sig), []).append(who)
        for name, whos in sorted(by_sig.items()):
            kinds = {}
            for w in whos:
                kinds[w.split(".")[0].rstrip("0123456789")] = kinds.get(
                    w.split(".")[0].rstrip("0123456789"), 0) + 1
            print("    %s: %d (%s)" % (name, len(whos),
                                       ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
        for who, what, sig in self.deaths[:8]:
            print("    %s: %s: %s" % (who, what, signame(sig)))
        print("  hung (killed):       %d" % len(self.hung))
        for who, what in self.hung[:5]:
            print("    %s: %s" % (who, what))
        print("  acknowledged writes: %d (cli user add %d, cli login %d, cli perms %d, "
              "engine upserts %d)" % (acked, len(self.acked_users), len(self.acked_logins),
                                      self.acked_perms, len(self.engine_acks)))
        print("  missing afterwards:  %d" % len(self.missing))
        for m in self.missing[:10]:
            print("    " + m)
        print("  refused writes:      %d cli (exit 1), %d engine (error status)" %
              (len(self.refused), self.engine_write_errors))
        for who, what, _, msg in self.refused[:5]:
            print("    %s: cohort %s: %s" % (who, what, msg))
        print("  checks:              %d, verified %d (PHP engines %d), stale answers %d, "
              "check errors %d" % (self.checks, self.verified, self.php_verified, self.stale,
                                   self.engine_check_errors))
        for s in self.stale_lines[:10]:
            print("    " + s)
        print("  engine/harness errors: %d" % len(self.errors))
        for e in self.errors[:10]:
            print("    " + e)
        print("  integrity_check:     %s" % self.integrity)
        print("  runtime:             %.1f s" % self.runtime)

        failures = []
        if self.deaths:
            failures.append("%d processes killed by a signal" % len(self.deaths))
        if self.hung:
            failures.append("%d processes hung" % len(self.hung))
        if self.missing:
            failures.append("%d acknowledged writes missing" % len(self.missing))
        if self.integrity != "ok":
            failures.append("integrity_check: %s" % self.integrity)
        if self.stale:
            failures.append("%d stale answers" % self.stale)
        if self.errors:
            failures.append("%d engine or harness errors" % len(self.errors))
        if self.abort.is_set():
            failures.append("aborted: %s" % getattr(self, "abort_reason", "?"))
        if starts < a.min_starts:
            failures.append("only %d process starts (want %d)" % (starts, a.min_starts))
        if self.verified < a.min_verified:
            failures.append("only %d verified checks (want %d): the stale test meant nothing"
                            % (self.verified, a.min_verified))
        if self.all_engines > a.engines and self.php_verified < a.min_verified:
            failures.append("only %d verified checks by the PHP engines (want %d)"
                            % (self.php_verified, a.min_verified))
        if failures:
            print("FAIL: " + "; ".join(failures))
            return 1
        print("PASS")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cohort", required=True, help="the cohort CLI binary")
    ap.add_argument("--engine", required=True, help="the compiled tests/c/stress_engine.c")
    ap.add_argument("--tmp", default=os.environ.get("COHORT_TEST_TMP", tempfile.gettempdir()),
                    help="parent of the run's temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--engines", type=int, default=4, help="long-lived C engines")
    ap.add_argument("--php-engine", help="tests/multiproc/stress_engine.php: also run PHP engines "
                    "(Engine::check, its answers kept in PHP)")
    ap.add_argument("--php-engines", type=int, default=2, help="long-lived PHP engines, with "
                    "--php-engine")
    ap.add_argument("--php", default="php", help="the PHP binary, with --php-engine")
    ap.add_argument("--lanes", type=int, default=5, help="CLI `user add` / `login` lanes")
    ap.add_argument("--starts", type=int, default=3000,
                    help="CLI process starts, shared by all lanes")
    ap.add_argument("--min-starts", type=int, default=1000)
    ap.add_argument("--min-verified", type=int, default=100)
    ap.add_argument("--hold-ms", type=float, default=2.0,
                    help="pause of the permission lane after each acknowledged round")
    ap.add_argument("--write-every", type=int, default=200,
                    help="an engine upserts a login every this many iterations")
    ap.add_argument("--pause-us", type=int, default=100, help="engine pause per iteration")
    ap.add_argument("--max-restarts", type=int, default=100, help="per engine slot")
    ap.add_argument("--cmd-timeout", type=float, default=60.0,
                    help="seconds before one process counts as hung")
    ap.add_argument("--deadline", type=float, default=900.0,
                    help="seconds before the whole run is aborted as hung")
    args = ap.parse_args()
    args.engine_max_seconds = args.deadline
    for path in (args.cohort, args.engine):
        if not os.access(path, os.X_OK):
            print("not an executable: %s" % path, file=sys.stderr)
            return 2

    os.makedirs(args.tmp, exist_ok=True)
    work = tempfile.mkdtemp(prefix="multiproc.", dir=args.tmp)
    stress = Stress(args, work)

    def on_signal(signum, _frame):
        stress.abort_reason = "got %s" % signame(signum)
        stress.abort.set()
        stress.kill_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)

    def watchdog():
        if not stress.abort.wait(args.deadline):
            stress.abort_reason = "still running after %.0f s" % args.deadline
            stress.abort.set()
            open(stress.stop_file, "a").close()
            stress.kill_all()

    threading.Thread(target=watchdog, daemon=True).start()
    status = 1
    try:
        stress.run()
        status = stress.report()
    except SetupError as e:
        print("setup failed: %s" % e)
        status = 2
    except KeyboardInterrupt:
        print("interrupted")
        status = 1
    finally:
        stress.abort.set()
        stress.kill_all()
        # Wait for what was killed, so that nothing outlives the test.
        with stress.lock:
            procs = list(stress.live)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
