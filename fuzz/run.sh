#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 20) with the stable toolchain, as ordinary
# libFuzzer binaries: no sanitizer and no coverage instrumentation (those need nightly and
# cargo-fuzz, see docs/fuzzing.md), so this is a smoke run that keeps the targets building and
# running. They share the main workspace's target directory, which reuses its compiled
# dependencies. Seeds come from the test vectors. A crash leaves its input in fuzz/artifacts/.
#   fuzz/run.sh [SECONDS]
#   fuzz/run.sh --seed DIR     only write the seeds to DIR/<target>/ (for cargo fuzz corpora)
set -euo pipefail
FUZZ="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$FUZZ")"

seed() { # seed DIR: one file per seed under DIR/<target>/
    python3 - "$ROOT/tests/vectors/tokens.json" "$1" <<'PY'
import json, os, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
def seed(target, name, data):
    os.makedirs(os.path.join(sys.argv[2], target), exist_ok=True)
    with open(os.path.join(sys.argv[2], target, name), "wb") as f:
        f.write(data)
for i, x in enumerate(v["vectors"]):
    seed("token_verify", f"v{i}", b"\0" + x["token"].encode("utf-8"))  # mode 0: the raw string
    seed("json_input", f"v{i}", json.dumps({"token": x["token"], "permissions": ["tickets"]}).encode())
seed("json_input", "fields", b'{"email": "Dev@Acme.example", "permissions": "all", "ttl": "7d"}')
seed("invite_ops", "story", bytes([0, 0, 1, 0, 3, 0, 3, 3, 2, 0, 5, 28, 0, 1, 6, 2, 4, 0]))
PY
}
if [ "${1:-}" = "--seed" ]; then
    seed "$2"
    exit 0
fi
EACH="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$FUZZ"
# Resolve to the main workspace's versions (fuzz/Cargo.lock is not committed), so the build
# reuses what `cargo build --release` compiled and only adds libFuzzer.
cp "$ROOT/Cargo.lock" Cargo.lock
cargo build --release --bins --quiet

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
seed "$WORK"

mkdir -p "$FUZZ/artifacts"
for target in token_verify json_input invite_ops; do
    log="$WORK/$target.log"
    if ! "$CARGO_TARGET_DIR/release/$target" -max_total_time="$EACH" -max_len=1024 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$FUZZ/artifacts/$target-" "$WORK/$target" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz $target: CRASH (input saved under fuzz/artifacts/)"
        exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz $target: ${runs:-?} runs in ${EACH} s, no crash"
done
