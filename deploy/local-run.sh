#!/usr/bin/env bash
# The whole system on this machine, with no AWS account: starts the local AWS emulator (moto server on 127.0.0.1),
# builds what is missing, deploys with the same deploy.sh as for AWS, then runs `bpi local-run`: the producer and
# the updater on accelerated schedules, queue-processor workers started and stopped by the policy the updater
# wrote, a live status view, and at the end a summary and a chart. Ctrl-C stops everything and leaves no process.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/local-run.sh [options] [-- bpi local-run options]

Options (environment variable in brackets, default after =):
  --duration SECS     [BPI_LOCAL_DURATION_SECS=300] how long the system runs
  --stack-name NAME   [BPI_LOCAL_STACK=bpi-local] the stack deployed on the emulator
  --latency SECS      [BPI_LATENCY_SECS=20] the latency promise
  --min N / --max N   [BPI_MIN_CAPACITY=1 / BPI_MAX_CAPACITY=8] worker bounds
  --keep-emulator     leave the emulator running at the end (default: stop it if this script started it)
  --profile P         [BPI_LOCAL_PROFILE=release] cargo profile of the binaries: release, or dev (reuses the
                      test build: CI runs it so, after `cargo test --workspace`)
  -h, --help          this help

The load is the producer's own settings: MESSAGE_COUNT (default here 15 per invocation), DURATION_DISTRIBUTION,
MESSAGE_DURATION_SECS (default here 1), ... (see docs/configuration.md). `bpi local-run --help` lists
the rest (period, schedules, chart path); pass them after `--`.
USAGE
}

duration=${BPI_LOCAL_DURATION_SECS:-300}
stack=${BPI_LOCAL_STACK:-bpi-local}
latency=${BPI_LATENCY_SECS:-20}
min=${BPI_MIN_CAPACITY:-1}
max=${BPI_MAX_CAPACITY:-8}
profile=${BPI_LOCAL_PROFILE:-release}
keep_emulator=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --stack-name) stack=$2; shift 2 ;;
    --latency) latency=$2; shift 2 ;;
    --min) min=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --keep-emulator) keep_emulator=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case "$profile" in
  dev|release) ;;
  *) die "--profile must be release or dev, not '$profile'" ;;
esac
if ! [[ $duration =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ]; then
  die "--duration must be a whole number of seconds, at least 1"
fi

# 1. The emulator: reuse a running one, or start one and stop it again at the end.
started_emulator=0
if ! "$root/deploy/emulator.sh" status >/dev/null 2>&1; then
  started_emulator=1
fi
endpoint=$("$root/deploy/emulator.sh" start)
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  if [ "$started_emulator" = 1 ] && [ "$keep_emulator" = 0 ]; then
    "$root/deploy/emulator.sh" stop || true
  else
    say "the emulator stays up at $endpoint (deploy/emulator.sh stop); the stack $stack stays deployed on it"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export AWS_ENDPOINT_URL=$endpoint AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_DEFAULT_REGION=$AWS_REGION AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}

# 2. Builds: bpi, the worker, and the two Lambdas. The emulator stores Lambda zips but never runs them, so they are
#    zipped from host builds here (deploy.sh builds the real arm64 ones with cargo-lambda when it targets AWS).
target=${CARGO_TARGET_DIR:-$root/target}
case "$profile" in
  # The whole workspace, as `cargo test --workspace` resolves it, so a dev build reuses the test build's artifacts.
  dev) bin=$target/debug; build=(cargo build --workspace --bins) ;;
  release) bin=$target/release; build=(cargo build --release -p bpi -p queue-processor -p message-producer -p target-bpi-updater -p sampler) ;;
esac
say "building bpi, queue-processor and the Lambdas ($profile)"
"${build[@]}" --quiet --manifest-path "$root/Cargo.toml" || die "build failed"
# Named for what they hold: host binaries, never to be deployed to AWS (deploy.sh refuses non-arm64 zips there).
zips=$target/local-lambda-zips/host-$(uname -m)
for f in message-producer target-bpi-updater sampler; do
  mkdir -p "$zips/$f"
  python3 - "$bin/$f" "$zips/$f/bootstrap.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, open(sys.argv[1], "rb").read())
PY
done

# 3. Deploy, exactly as to AWS (the image is never pulled: the emulator runs no container).
say "deploying stack $stack to the emulator at $endpoint"
RUST_LOG=warn LAMBDA_ZIPS=$zips BPI_BIN=$bin/bpi "$root/deploy/deploy.sh" --stack-name "$stack" \
  --image "local/queue-processor:dev" --latency "$latency" --min "$min" --max "$max" --updater-rate 2 >/dev/null

# 4. Run.
scaling_env "$stack" || die "stack $stack is missing its queue, cluster or service"
queue_url=$(stack_resource "$stack" Queue)
export DESIRED_LATENCY_SECS=$latency MIN_CAPACITY=$min MAX_CAPACITY=$max
export MESSAGE_COUNT=${MESSAGE_COUNT:-15} MESSAGE_DURATION_SECS=${MESSAGE_DURATION_SECS:-1}
export LOG_FORMAT=${LOG_FORMAT:-text} RUST_LOG=${RUST_LOG:-warn}
status=0
"$bin/bpi" local-run --queue-url "$queue_url" --duration-secs "$duration" \
  --worker-bin "$bin/queue-processor" "$@" || status=$?
exit "$status"
