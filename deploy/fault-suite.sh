#!/usr/bin/env bash
# The fault suite: every case of the "Fault suite" table of docs/testing.md, one at a time, against the local emulator;
# then the table of their measured figures, printed and written to --table (default target/fault-suite.md).
#
#   deploy/fault-suite.sh [--table FILE]
#
# Cases 1-5 (crates/faults) run real worker processes under load, scale-in SIGTERMs, SIGKILL, an emulator restart
# and injected 5xx/throttling; 9-10 stop and throttle the sampler; 11 deploys and 12 scales in fast under load;
# cases 6-8 are the tests that live beside the code they exercise (poison, bad settings, the updater's edge cases).
# Each records its figures; a failing case fails the suite.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
table=${CARGO_TARGET_DIR:-$root/target}/fault-suite.md
while [ $# -gt 0 ]; do
  case "$1" in
    --table) table=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown option '$1'" ;;
  esac
done

endpoint=$("$root/deploy/emulator.sh" start)
export BPI_EMULATOR_ENDPOINT=$endpoint
results=$(mktemp)
export BPI_FAULT_RESULTS=$results
trap 'rm -f "$results"' EXIT
# --workspace on every run: cargo then resolves features as `cargo test --workspace` does and reuses its build
# (a `-p` run resolves them for one package and recompiled the SDK crates, minutes each on a cold machine).
run() { echo "== fault-suite: $*" >&2; cargo test -q --workspace --manifest-path "$root/Cargo.toml" "$@"; }

run --test faults -- --ignored --test-threads=1
run --test worker -- poison_ends_in_the_dlq bad_settings_exit_2
run --test producer -- bad_settings_exit_2
run --test updater -- bad_settings_exit_2 no_data_keeps a_deleted_policy latency_below_mpd

mkdir -p "$(dirname "$table")"
python3 - "$results" >"$table" <<'PY'
import json, sys
what = {
    1: "zero-duration messages (20,000 by default) through 4 workers",
    2: "SIGTERM to workers mid-message at random moments (scale-in), replacements started",
    3: "SIGKILL to a worker mid-message",
    4: "emulator killed and restarted mid-run (workers, producer, updater)",
    5: "5xx and throttling on ~10% of requests for 60 s (fault proxy)",
    6: "poison corpus mixed with valid messages",
    7: "bad settings of each binary",
    8: "updater edge cases",
    9: "sampler stopped after 3 minutes with a backlog: the shipped alarms and policies evaluated (metric math)",
    10: "sampler through the fault proxy, 50% of requests throttled or failed: gaps and the alarms over them",
    11: "rolling deployment under a sustained backlog, one message longer than the drain grace (ECS's part played as documented)",
    12: "fast scale-in under a sustained load (core's capacity model and scale-in rule over 2 s readings; ECS's part played as documented), one message longer than the grace",
}
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["case"], []).append(r["figures"])
print("| case | what | measured (last run) |")
print("| --- | --- | --- |")
for case in sorted(what):
    figs = rows.get(case)
    if not figs:
        print(f"| {case} | {what[case]} | NOT RUN |")
        continue
    text = "; ".join(", ".join(f"{k} {v if isinstance(v, str) else json.dumps(v)}" for k, v in f.items()) for f in figs)
    print(f"| {case} | {what[case]} | {text} |")
PY
cat "$table"
if grep -q "NOT RUN" "$table"; then echo "fault-suite.sh: a case recorded nothing" >&2; exit 1; fi
echo "fault-suite.sh: all cases passed; table in $table" >&2
