#!/usr/bin/env bash
# The local AWS emulator (moto server) that the tests and the local run talk to.
#
#   deploy/emulator.sh start    install moto into a project-local venv if missing, start it on a free 127.0.0.1 port
#                               (or reuse the one already running) and print its endpoint
#   deploy/emulator.sh stop     stop it
#   deploy/emulator.sh status   print the endpoint of the running emulator, or exit 1
#   deploy/emulator.sh env      print the exports that point the AWS SDK and CLI at it
#
# Settings: BPI_VENV (default <repo>/.venv), BPI_EMULATOR_STATE (default <repo>/.emulator), BPI_EMULATOR_PORT
# (default: a free port). Only ever listens on 127.0.0.1.
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
state=${BPI_EMULATOR_STATE:-$root/.emulator}
requirements=$root/deploy/emulator-requirements.txt

ensure_venv() {
  if [ -x "$venv/bin/moto_server" ] && cmp -s "$requirements" "$venv/.requirements"; then
    return
  fi
  command -v python3 >/dev/null || die "python3 is required to run the emulator"
  echo "emulator.sh: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "could not create a virtualenv at $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2 \
    || die "pip install -r $requirements failed"
  cp "$requirements" "$venv/.requirements"
}

# Whether the emulator recorded in $state answers HTTP. Any status counts (a cheap `GET /`): not /moto-api/data.json,
# which dumps the whole state, grows slow with it, and fails outright once some stored resource cannot be serialised.
alive() {
  [ -f "$state/pid" ] && [ -f "$state/endpoint" ] || return 1
  kill -0 "$(cat "$state/pid")" 2>/dev/null || return 1
  "$venv/bin/python" - "$(cat "$state/endpoint")" <<'PY' 2>/dev/null
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/", timeout=5).read()
except urllib.error.HTTPError:
    pass
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  mkdir -p "$state"
  exec 9>"$state/lock"
  flock 9  # parallel test processes may all ask for the emulator at once: one starts it, the rest reuse it
  ensure_venv
  if alive; then
    cat "$state/endpoint"
    return
  fi
  local port=${BPI_EMULATOR_PORT:-$(free_port)}
  local endpoint="http://127.0.0.1:$port"
  # Detached from the caller's terminal and pipes, so a test runner that started it is not kept waiting.
  # fd 9 (the lock) is closed for the child: otherwise moto would hold the lock for as long as it runs.
  setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/moto.log" 2>&1 </dev/null 9>&- &
  echo $! >"$state/pid"
  echo "$endpoint" >"$state/endpoint"
  for _ in $(seq 1 100); do
    if alive; then
      echo "emulator.sh: moto server listening on $endpoint (log: $state/moto.log; stop: deploy/emulator.sh stop)" >&2
      echo "$endpoint"
      return
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || break
    sleep 0.2
  done
  tail -20 "$state/moto.log" >&2 || true
  die "moto server did not start on $endpoint"
}

stop() {
  [ -f "$state/pid" ] || { echo "emulator.sh: not running" >&2; return 0; }
  local pid; pid=$(cat "$state/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "emulator.sh: stopped moto server (pid $pid)" >&2
  fi
  rm -f "$state/pid" "$state/endpoint"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if alive; then cat "$state/endpoint"; else echo "emulator.sh: not running" >&2; exit 1; fi
    ;;
  env)
    alive || die "not running; start it with: deploy/emulator.sh start"
    cat <<ENV
export AWS_ENDPOINT_URL=$(cat "$state/endpoint")
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
ENV
    ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
