#!/usr/bin/env bash
# Deploys ecs-sqs-bpi: builds what is missing, uploads the artifacts, deploys the stacks, applies the scaling set-up.
# Idempotent: a second run with the same settings changes nothing; a changed setting updates in place.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Every option, declared once: its name, the form of its value, the environment variable that gives it, its default,
# the stack parameter it is passed as (- for none) and the binaries' setting it feeds (- for none), then its help.
# A setting's range and rules are core's (checked below with `bpi settings check`, the same code the binaries read
# with); a test checks every default here and in deploy/stack.yaml against core's declarations, both ways.
options=(
  "stack-name|NAME|BPI_STACK_NAME|ecs-sqs-bpi|-|-|also names the queue, service, functions"
  "latency|SECS|BPI_LATENCY_SECS|60|DesiredLatencySecs|DESIRED_LATENCY_SECS|acceptable latency"
  "min|N|BPI_MIN_CAPACITY|1|MinCapacity|MIN_CAPACITY|fewest tasks; 0 adds scale-from-zero"
  "max|N|BPI_MAX_CAPACITY|10|MaxCapacity|MAX_CAPACITY|most tasks, at least --min"
  "concurrency|N|BPI_TASK_CONCURRENCY|1|TaskConcurrency|TASK_CONCURRENCY|messages a task processes at once"
  "updater-rate|MINUTES|BPI_UPDATER_RATE_MINUTES|60|UpdaterRateMinutes|-|cadence of the target updater"
  "visibility-timeout|SECS|BPI_VISIBILITY_TIMEOUT_SECS|30|QueueVisibilityTimeoutSecs|-|queue visibility timeout"
  "max-receive-count|N|BPI_MAX_RECEIVE_COUNT|3|MaxReceiveCount|-|receives before a message goes to the DLQ"
  "queue-type|TYPE|BPI_QUEUE_TYPE|standard|QueueType|-|standard, or fifo: the queue and its DLQ are FIFO queues (NAME-queue.fifo), each message group processed in order (docs/worker.md, \"FIFO queues\"); changing it replaces the queue"
  "content-based-dedup|BOOL|BPI_CONTENT_BASED_DEDUP|false|ContentBasedDeduplication|-|with --queue-type fifo: SQS deduplicates by a hash of the body (true) instead of the sender's deduplication id (false)"
  "log-retention-days|N|BPI_LOG_RETENTION_DAYS|30|LogRetentionDays|-|days the log groups keep their logs"
  "task-start|SECS|BPI_TASK_START_SECS|180|TaskStartSecs|TASK_START_SECS|how long a task takes to start, as the capacity model assumes: a task asked for now serves the backlog in what is left of the promise after it (longer is safer for bursts, shorter is leaner)"
  "forecast-task-hours|H|BPI_FORECAST_MAX_TASK_HOURS|20|ForecastMaxTaskHours|FORECAST_MAX_TASK_HOURS|the forecaster schedules capacity ahead of bursts that recur at the same minute of the hour or day; each window holds at most H task-hours above --min (0 = off; docs/concepts.md, \"Bursts that recur\")"
  "scale-in-window|MINUTES|BPI_SCALE_IN_WINDOW_MINUTES|2|-|SCALE_IN_WINDOW_MINUTES|once every reading of this many minutes needed fewer tasks than desired, set the need at once (0 = leave scale-in to target tracking)"
  "idle-minutes|MINUTES|BPI_IDLE_SCALE_IN_MINUTES|3|-|IDLE_SCALE_IN_MINUTES|after this many minutes of an empty queue the service is set to --min at once (0 = never); set it above your producers' longest pause, or every batch after a longer one waits for tasks to start (docs/design.md, \"How long the idle policy waits\")"
  "cluster|NAME|BPI_EXISTING_CLUSTER||ExistingClusterName|-|use an existing cluster (its Container Insights setting is reported)"
  "subnets|ID,ID|BPI_SUBNET_IDS||SubnetIds|-|existing subnets (then --security-group is required); default: a new VPC with two public subnets and no inbound rules"
  "security-group|ID|BPI_SECURITY_GROUP_ID||SecurityGroupId|-|the tasks' security group, in the subnets' VPC"
  "image|URI|BPI_WORKER_IMAGE||-|-|worker image; default: the stack's repository tagged with the current commit, built and pushed with deploy/build-image.sh if missing"
  "app-image|URI|BPI_APP_IMAGE||AppImage|-|HTTP mode (docs/worker.md, \"Your own worker\"): your application's image, run beside the worker in each task; the worker POSTs each message to http://127.0.0.1:PORT/PATH (sqsd's headers)"
  "app-port|N|BPI_APP_PORT|8080|AppPort|APP_PORT|its port"
  "app-path|PATH|BPI_APP_PATH|/|AppPath|APP_PATH|the path messages are POSTed to"
  "app-health-path|PATH|BPI_APP_HEALTH_PATH||AppHealthPath|APP_HEALTH_PATH|a path answering 2xx when ready (default: its port accepts)"
  "app-health-check|CMD|BPI_APP_HEALTH_CHECK||AppHealthCheckCommand|-|a shell command run in its container as the ECS health check; the worker then starts once the application is HEALTHY"
  "exec-command|CMD|BPI_EXEC_COMMAND||ExecCommand|APP_COMMAND|exec mode: run CMD per message, body on stdin (a JSON array or words); --image must then be an image holding both CMD and the worker"
  "app-timeout|SECS|BPI_APP_TIMEOUT_SECS|900|AppTimeoutSecs|APP_TIMEOUT_SECS|longest one message's request or command may take"
)

# row OPTION: the option's row of the table (empty if there is none).
row() {
  local r
  for r in "${options[@]}"; do
    if [ "${r%%|*}" = "$1" ]; then echo "$r"; return; fi
  done
}

usage() {
  cat <<'USAGE'
Usage: deploy/deploy.sh [options]

Deploys the queue, the worker service, the Lambdas, schedules, dashboard and alarms (CloudFormation), then registers
the scalable target and applies the canonical scaling policy (bpi scaling apply). Region, credentials and profile
come from the usual AWS variables (AWS_REGION / AWS_DEFAULT_REGION, AWS_PROFILE, ...); AWS_ENDPOINT_URL points
everything at another endpoint (the local emulator). Each setting's range is in docs/configuration.md.

Options (environment variable in brackets, default after =):
USAGE
  local r name form variable default help
  for r in "${options[@]}"; do
    IFS='|' read -r name form variable default _ _ help <<<"$r"
    printf '  --%s %s  [%s=%s]\n' "$name" "$form" "$variable" "$default"
    fold -s -w 100 <<<"$help" | sed 's/^/      /'
  done
  cat <<'USAGE'
  -h, --help  this help

Also: LAMBDA_OUT (where deploy/build-lambdas.sh writes the zips), LAMBDA_ZIPS (a folder of FUNCTION/bootstrap.zip
to deploy instead of LAMBDA_OUT/arm64; on AWS each must be an arm64 binary), BPI_BIN (a prebuilt bpi binary).
USAGE
}

# The values: the environment's, else the table's defaults; then the command line's.
declare -A opt
for r in "${options[@]}"; do
  IFS='|' read -r name _ variable default _ _ _ <<<"$r"
  opt[$name]=${!variable:-$default}
done
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --*)
      name=${1#--}
      [ -n "$(row "$name")" ] || die "unknown option '$1' (see --help)"
      [ $# -ge 2 ] || die "$1 needs a value (see --help)"
      opt[$name]=$2
      shift 2
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
lambda_dir=${LAMBDA_OUT:-$root/target/lambda-zips}
zips_dir=${LAMBDA_ZIPS:-$lambda_dir/arm64}

# What only this script knows: the stack's own options and how the options combine.
for name in updater-rate visibility-timeout max-receive-count log-retention-days; do
  [[ ${opt[$name]} =~ ^[0-9]+$ ]] || die "--$name must be a whole number, got '${opt[$name]}'"
done
[ "${opt[updater-rate]}" -ge 1 ] || die "--updater-rate must be at least 1 minute"
[[ ${opt[queue-type]} =~ ^(standard|fifo)$ ]] || die "--queue-type must be standard or fifo, got '${opt[queue-type]}'"
[[ ${opt[content-based-dedup]} =~ ^(true|false)$ ]] || die "--content-based-dedup must be true or false, got '${opt[content-based-dedup]}'"
[[ ${opt[stack-name]} =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "--stack-name must be a lowercase letter then up to 30 lowercase letters, digits or - (it names the image repository)"
if [ -n "${opt[app-image]}" ] && [ -n "${opt[exec-command]}" ]; then
  die "give --app-image (HTTP mode) or --exec-command (exec mode), not both"
fi
if [ -n "${opt[exec-command]}" ] && [ -z "${opt[image]}" ]; then
  die "--exec-command runs in the worker's container: give --image, an image holding the command and the worker (docs/worker.md, \"Exec mode\")"
fi
if [ -n "${opt[subnets]}" ] && [ -z "${opt[security-group]}" ]; then
  die "--subnets needs --security-group (a group in the subnets' VPC)"
fi

# The settings the binaries read, checked by core as they will read them (ranges, and the rules between them, such
# as --max at least --min): a bad one stops here, before anything is built or deployed, naming its option.
bpi=$(bpi_binary)
setting_env=()
for r in "${options[@]}"; do
  IFS='|' read -r name _ _ _ _ setting _ <<<"$r"
  if [ "$setting" != - ] && [ -n "${opt[$name]}" ]; then setting_env+=("$setting=${opt[$name]}"); fi
done
# The application's options are checked in the mode they will run in (HTTP unless a command is given).
if [ -n "${opt[exec-command]}" ]; then setting_env+=(WORK_MODE=exec); else setting_env+=(WORK_MODE=http); fi
if ! problem=$(env -i "${setting_env[@]}" "$bpi" settings check 2>&1 >/dev/null); then
  variable=$(sed -n 's/.*setting \([A-Z_]*\).*/\1/p' <<<"$problem" | head -n 1)
  for r in "${options[@]}"; do
    IFS='|' read -r name _ _ _ _ setting _ <<<"$r"
    if [ "$setting" = "$variable" ]; then die "--$name: ${problem#bpi: }"; fi
  done
  die "${problem#bpi: }"
fi

# The region: the variables, else the profile's (as the CLI and the SDK read it).
if [ -z "${AWS_DEFAULT_REGION:-}" ]; then
  profile_region=$(awscli configure get region 2>/dev/null || true)
  [ -n "$profile_region" ] || die "no region: set AWS_REGION, or a region in the AWS profile (aws configure set region ...)"
  export AWS_DEFAULT_REGION=$profile_region AWS_REGION=$profile_region
fi

stack=${opt[stack-name]}
image=${opt[image]}

# 1. Build what is missing.
for f in message-producer target-bpi-updater sampler; do
  if [ ! -f "$zips_dir/$f/bootstrap.zip" ]; then
    [ -z "${LAMBDA_ZIPS:-}" ] || die "LAMBDA_ZIPS=$zips_dir has no $f/bootstrap.zip"
    say "building the Lambda zips (cargo-lambda, arm64)"
    LAMBDA_OUT=$lambda_dir "$root/deploy/build-lambdas.sh" arm64 >&2
    break
  fi
done
# The functions run on arm64: a zip of another architecture fails at its first invocation on AWS. Only the local
# emulator (a loopback endpoint, which stores Lambdas but never runs them) takes host builds.
if ! arch_problem=$(python3 "$root/deploy/check-lambda-zips.py" "$zips_dir" arm64 2>&1); then
  if [[ ${AWS_ENDPOINT_URL:-} =~ ^https?://(127\.0\.0\.1|localhost|\[::1\])(:|/|$) ]]; then
    say "the emulator runs no Lambda: deploying the host-architecture zips of $zips_dir"
  else
    die "refusing to upload Lambda zips that are not arm64: $arch_problem"
  fi
fi

# 2. Base stack: image repository and artifacts bucket.
say "deploying stack $stack-base (image repository, artifacts bucket)"
awscli cloudformation deploy --stack-name "$stack-base" --template-file "$root/deploy/base.yaml" \
  --no-fail-on-empty-changeset >&2
bucket=$(stack_resource "$stack-base" ArtifactsBucket)
repository=$(stack_resource "$stack-base" Repository)
if [ -z "$bucket" ] || [ -z "$repository" ]; then die "stack $stack-base is missing its bucket or repository"; fi

# 3. Artifacts: content-addressed keys, so an unchanged zip is neither uploaded nor redeployed.
declare -A zip_key
for f in message-producer target-bpi-updater sampler; do
  zip=$zips_dir/$f/bootstrap.zip
  key="lambda/$f-$(sha256sum "$zip" | cut -c1-16).zip"
  if ! awscli s3api head-object --bucket "$bucket" --key "$key" >/dev/null 2>&1; then
    say "uploading $zip to s3://$bucket/$key"
    awscli s3 cp "$zip" "s3://$bucket/$key" --only-show-errors >&2
  fi
  zip_key[$f]=$key
done

# 4. Worker image: tagged with the commit, never only latest.
if [ -z "$image" ]; then
  tag=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || die "not a git checkout: give --image"
  repository_uri=$(awscli ecr describe-repositories --repository-names "$repository" \
    --query "repositories[0].repositoryUri" --output text)
  image="$repository_uri:$tag"
  if ! awscli ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
    say "building and pushing $image"
    "$root/deploy/build-image.sh" --push "$image" >&2
  fi
fi

# The repository the tasks pull from, for the execution role: only that one (none for an image outside ECR).
repository_arn=""
if [[ $image =~ ^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([^:@]+)[:@] ]]; then
  partition=aws
  [ -z "${BASH_REMATCH[3]}" ] || partition=aws-cn
  repository_arn="arn:$partition:ecr:${BASH_REMATCH[2]}:${BASH_REMATCH[1]}:repository/${BASH_REMATCH[4]}"
fi

# The application's repository likewise.
app_repository_arn=""
if [[ ${opt[app-image]} =~ ^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([^:@]+)[:@] ]]; then
  partition=aws
  [ -z "${BASH_REMATCH[3]}" ] || partition=aws-cn
  app_repository_arn="arn:$partition:ecr:${BASH_REMATCH[2]}:${BASH_REMATCH[1]}:repository/${BASH_REMATCH[4]}"
fi

# 5. An existing cluster's Container Insights setting is reported: ECS's task metrics need it, scaling does not.
cluster=${opt[cluster]}
if [ -n "$cluster" ]; then
  insights=$(awscli ecs describe-clusters --clusters "$cluster" --include SETTINGS \
    --query "clusters[0].settings[?name=='containerInsights'].value | [0]" --output text 2>/dev/null || true)
  case "$insights" in
    enabled|enhanced) ;;
    *) say "WARNING: cluster $cluster has Container Insights '$insights': scaling does not need it (the sampler reads the service), but ECS's task metrics in CloudWatch do; enable it with: aws ecs update-cluster-settings --cluster $cluster --settings name=containerInsights,value=enabled" ;;
  esac
fi

# 6. Main stack: every option with a stack parameter, and what this script derived.
parameters=(
  "WorkerImage=$image" "WorkerRepositoryArn=$repository_arn" "ArtifactsBucket=$bucket"
  "ProducerZipKey=${zip_key[message-producer]}" "UpdaterZipKey=${zip_key[target-bpi-updater]}"
  "SamplerZipKey=${zip_key[sampler]}" "AppRepositoryArn=$app_repository_arn"
)
for r in "${options[@]}"; do
  IFS='|' read -r name _ _ _ parameter _ _ <<<"$r"
  if [ "$parameter" != - ]; then parameters+=("$parameter=${opt[$name]}"); fi
done
say "deploying stack $stack"
awscli cloudformation deploy --stack-name "$stack" --template-file "$root/deploy/stack.yaml" \
  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --parameter-overrides "${parameters[@]}" >&2

# 7. Scaling, outside the stack: the updater owns the policy from here on. `bpi scaling apply` reads the settings
# the checks above read.
scaling_env "$stack" || die "stack $stack is missing outputs"
for r in "${options[@]}"; do
  IFS='|' read -r name _ _ _ _ setting _ <<<"$r"
  if [ "$setting" != - ] && [ -n "${opt[$name]}" ]; then export "$setting=${opt[$name]}"; fi
done
say "applying the scaling set-up to service/$CLUSTER_NAME/$SERVICE_NAME"
report=$("$bpi" scaling apply) || die "bpi scaling apply failed"
echo "$report"
if grep -q '"changed": false' <<<"$report"; then
  say "scaling: no changes"
fi
say "done. Load: deploy/load.sh on --stack-name $stack; dashboard: CloudWatch > Dashboards > $stack"
