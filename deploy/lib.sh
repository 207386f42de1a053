# shellcheck shell=bash
# What every script here shares (sourced, not run): the repository root, the venv, die and say, the AWS CLI with
# the region and endpoint the SDK would use, the stack lookups.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export root
venv=${BPI_VENV:-$root/.venv}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
say() { echo "$(basename "$0"): $*" >&2; }

# ensure_cargo_lambda: installs cargo-lambda (pinned in deploy/lambda-requirements.txt) into the venv if missing and
# puts the venv on PATH.
ensure_cargo_lambda() {
  if [ ! -x "$venv/bin/cargo-lambda" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "cannot create a virtualenv at $venv"
    say "installing cargo-lambda into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/deploy/lambda-requirements.txt" \
      || die "pip install cargo-lambda failed"
  fi
  export PATH="$venv/bin:$PATH"
}

# Region and endpoint from the usual variables. The AWS CLI v1 reads AWS_DEFAULT_REGION but not AWS_REGION, and
# ignores AWS_ENDPOINT_URL, so both are passed on explicitly.
if [ -n "${AWS_REGION:-}" ] && [ -z "${AWS_DEFAULT_REGION:-}" ]; then
  export AWS_DEFAULT_REGION=$AWS_REGION
fi
if [ -n "${AWS_DEFAULT_REGION:-}" ] && [ -z "${AWS_REGION:-}" ]; then
  export AWS_REGION=$AWS_DEFAULT_REGION
fi

awscli() {
  local cli
  cli=$(command -v aws || true)
  [ -n "$cli" ] || cli=$venv/bin/aws
  [ -x "$cli" ] || die "the AWS CLI is needed (pip install awscli, or run deploy/emulator.sh start once to get it in $venv)"
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    "$cli" --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    "$cli" "$@"
  fi
}

# stack_resource STACK LOGICAL_ID: the physical id of a stack's resource (empty if there is none). The scripts read
# resources rather than outputs, from the resource list: the local emulator (moto) gives stacks made through change
# sets, which is what `cloudformation deploy` uses, no outputs at all, and answers DescribeStackResource with an
# HTTP 500 for some resource types.
stack_resource() {
  awscli cloudformation list-stack-resources --stack-name "$1" \
    --query "StackResourceSummaries[?LogicalResourceId=='$2'].PhysicalResourceId | [0]" --output text 2>/dev/null \
    | sed 's/^None$//'
}

# stack_parameter STACK KEY: a parameter value of a deployed stack.
stack_parameter() {
  awscli cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Parameters[?ParameterKey=='$2'].ParameterValue | [0]" --output text 2>/dev/null | sed 's/^None$//'
}

# wait_deleted STACK: waits (5 s polls, 60 minutes at most) until the stack is gone; fails on DELETE_FAILED. (The
# CLI's own waiter sleeps 30 s before its first look.)
wait_deleted() {
  local status
  for _ in $(seq 1 720); do
    status=$(awscli cloudformation describe-stacks --stack-name "$1" --query "Stacks[0].StackStatus" --output text 2>/dev/null) || return 0
    case "$status" in
      DELETE_COMPLETE) return 0 ;;
      DELETE_FAILED) die "deleting stack $1 failed: see its events (aws cloudformation describe-stack-events --stack-name $1)" ;;
    esac
    sleep 5
  done
  die "stack $1 was not deleted within 60 minutes"
}

stack_exists() {
  awscli cloudformation describe-stacks --stack-name "$1" >/dev/null 2>&1
}

# The `bpi` binary: BPI_BIN, or built from this checkout.
bpi_binary() {
  if [ -n "${BPI_BIN:-}" ]; then
    echo "$BPI_BIN"
    return
  fi
  local target=${CARGO_TARGET_DIR:-$root/target}
  cargo build --release --quiet -p bpi --manifest-path "$root/Cargo.toml" >&2 || die "cannot build bpi"
  echo "$target/release/bpi"
}

# scaling_env STACK: the environment `bpi scaling` reads, from the stack's outputs and the deploy settings.
scaling_env() {
  CLUSTER_NAME=$(stack_resource "$1" Cluster)
  [ -n "$CLUSTER_NAME" ] || CLUSTER_NAME=$(stack_parameter "$1" ExistingClusterName)
  CLUSTER_NAME=${CLUSTER_NAME##*/}
  SERVICE_NAME=$(stack_resource "$1" Service)
  SERVICE_NAME=${SERVICE_NAME##*/}
  QUEUE_NAME=$(stack_resource "$1" Queue)
  QUEUE_NAME=${QUEUE_NAME##*/}
  if [ -z "$CLUSTER_NAME" ] || [ -z "$SERVICE_NAME" ] || [ -z "$QUEUE_NAME" ]; then return 1; fi
  export CLUSTER_NAME SERVICE_NAME QUEUE_NAME
}
