#!/usr/bin/env bash
# Turns the test load on or off: enables or disables the producer's schedule (one invocation a minute, disabled at
# deploy as in the blueprint).
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "Usage: deploy/load.sh on|off|status [--stack-name NAME]   [BPI_STACK_NAME=ecs-sqs-bpi]"; }
action=${1:-}
[ $# -gt 0 ] && shift
stack=${BPI_STACK_NAME:-ecs-sqs-bpi}
while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name) stack=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
rule=$(stack_resource "$stack" ProducerSchedule)
[ -n "$rule" ] || die "stack $stack not found (deploy it first)"
case "$action" in
  on) awscli events enable-rule --name "$rule"; say "load on: $rule sends a batch every minute" ;;
  off) awscli events disable-rule --name "$rule"; say "load off: $rule disabled" ;;
  status) awscli events describe-rule --name "$rule" --query State --output text ;;
  *) usage; exit 2 ;;
esac
