#!/usr/bin/env bash
# Benchmark: the queue-processor (release build) drains N zero-duration messages from a private local emulator.
# Prints messages/s, CPU time per message (user+sys of the worker process), peak RSS and AWS requests per message,
# beside the blueprint's Python worker measured on the same emulator, and its throughput as a share of the emulator's
# ceiling (examples/lean_consumer.rs: receive 10, delete the batch, nothing else).
#
# With --http-app examples/python-worker/app.py it also runs the worker in HTTP mode against that application and
# reports the CPU and latency HTTP mode adds per message.
#
#   bench/worker-drain.sh [N=500] [--runs R=3] [--json FILE] [--http-app APP.py]
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/lib.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
"$root/deploy/emulator.sh" start >/dev/null   # makes sure moto is installed in the venv
cargo build --release --quiet -p queue-processor --bin queue-processor --example lean_consumer \
  --manifest-path "$root/Cargo.toml"
exec "$venv/bin/python" "$root/bench/worker_drain.py" --worker "$CARGO_TARGET_DIR/release/queue-processor" \
  --ceiling "$CARGO_TARGET_DIR/release/examples/lean_consumer" --moto "$venv/bin/moto_server" "$@"
