#!/usr/bin/env bash
# Deploys ecs-sqs-bpi: builds what is missing, uploads the artifacts, deploys the stacks, applies the scaling set-up.
# Idempotent: a second run with the same settings changes nothing; a changed setting updates in place.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/deploy.sh [options]

Deploys the queue, the worker service, the two Lambdas, schedules, dashboard and alarms (CloudFormation), then
registers the scalable target and applies the canonical scaling policy (bpi scaling apply). Region, credentials and
profile come from the usual AWS variables (AWS_REGION / AWS_DEFAULT_REGION, AWS_PROFILE, ...); AWS_ENDPOINT_URL
points everything at another endpoint (the local emulator).

Options (environment variable in brackets, default after =):
  --stack-name NAME          [BPI_STACK_NAME=ecs-sqs-bpi] also names the queue, service, functions
  --latency SECS             [BPI_LATENCY_SECS=60] acceptable latency
  --min N / --max N          [BPI_MIN_CAPACITY=1 / BPI_MAX_CAPACITY=10] task bounds; min 0 adds scale-from-zero
  --concurrency N            [BPI_TASK_CONCURRENCY=1] messages a task processes at once
  --updater-rate MINUTES     [BPI_UPDATER_RATE_MINUTES=60] cadence of the target updater
  --visibility-timeout SECS  [BPI_VISIBILITY_TIMEOUT_SECS=30] queue visibility timeout
  --max-receive-count N      [BPI_MAX_RECEIVE_COUNT=3] receives before a message goes to the DLQ
  --log-retention-days N     [BPI_LOG_RETENTION_DAYS=30]
  --task-start SECS          [BPI_TASK_START_SECS=180] 0-900: how long a task takes to start, as the capacity model
                             assumes; a task asked for now serves the backlog in what is left of the promise after
                             it (longer is safer for bursts, shorter is leaner)
  --forecast-task-hours H    [BPI_FORECAST_MAX_TASK_HOURS=20] 0-10000: the forecaster schedules capacity ahead of
                             bursts that recur at the same minute of the hour or day; each window holds at most H
                             task-hours above --min (0 = off; docs/concepts.md, "Bursts that recur")
  --scale-in-window N        [BPI_SCALE_IN_WINDOW_MINUTES=2] 0-15: once every reading of N minutes needed fewer
                             tasks than desired, set the need at once (0 = leave scale-in to target tracking)
  --idle-minutes N           [BPI_IDLE_SCALE_IN_MINUTES=3] 0-60: after N minutes of an empty queue the service is set
                             to --min at once (0 = never); set it above your producers' longest pause, or every
                             batch after a longer one waits for tasks to start (docs/design.md, "How long the idle policy
                             waits")
  --cluster NAME             [BPI_EXISTING_CLUSTER=] use an existing cluster (Container Insights must be on)
  --subnets ID,ID            [BPI_SUBNET_IDS=] existing subnets (then --security-group is required);
                             default: a new VPC with two public subnets and no inbound rules
  --security-group ID        [BPI_SECURITY_GROUP_ID=]
  --image URI                [BPI_WORKER_IMAGE=] worker image; default: the stack's repository tagged with the
                             current commit, built and pushed with deploy/build-image.sh if missing
Your own worker, in any language (see docs/worker.md, "Your own worker"):
  --app-image URI            [BPI_APP_IMAGE=] HTTP mode: your application's image, run beside the worker in each
                             task; the worker POSTs each message to http://127.0.0.1:PORT/PATH (sqsd's headers)
  --app-port N               [BPI_APP_PORT=8080] its port
  --app-path PATH            [BPI_APP_PATH=/] the path messages are POSTed to
  --app-health-path PATH     [BPI_APP_HEALTH_PATH=] a path answering 2xx when ready (default: its port accepts)
  --app-health-check CMD     [BPI_APP_HEALTH_CHECK=] a shell command run in its container as the ECS health check;
                             the worker then starts once the application is HEALTHY
  --exec-command CMD         [BPI_EXEC_COMMAND=] exec mode: run CMD per message, body on stdin (a JSON array or
                             words); --image must then be an image holding both CMD and the worker
  --app-timeout SECS         [BPI_APP_TIMEOUT_SECS=900] longest one message's request or command may take
  -h, --help                 this help

Also: LAMBDA_OUT (where deploy/build-lambdas.sh writes the zips), LAMBDA_ZIPS (a folder of FUNCTION/bootstrap.zip
to deploy instead of LAMBDA_OUT/arm64; on AWS each must be an arm64 binary), BPI_BIN (a prebuilt bpi binary).
USAGE
}

stack=${BPI_STACK_NAME:-ecs-sqs-bpi}
latency=${BPI_LATENCY_SECS:-60}
min=${BPI_MIN_CAPACITY:-1}
max=${BPI_MAX_CAPACITY:-10}
concurrency=${BPI_TASK_CONCURRENCY:-1}
updater_rate=${BPI_UPDATER_RATE_MINUTES:-60}
visibility=${BPI_VISIBILITY_TIMEOUT_SECS:-30}
max_receive=${BPI_MAX_RECEIVE_COUNT:-3}
log_retention=${BPI_LOG_RETENTION_DAYS:-30}
task_start=${BPI_TASK_START_SECS:-180}
forecast_task_hours=${BPI_FORECAST_MAX_TASK_HOURS:-20}
scale_in_window=${BPI_SCALE_IN_WINDOW_MINUTES:-2}
idle_minutes=${BPI_IDLE_SCALE_IN_MINUTES:-3}
cluster=${BPI_EXISTING_CLUSTER:-}
subnets=${BPI_SUBNET_IDS:-}
security_group=${BPI_SECURITY_GROUP_ID:-}
image=${BPI_WORKER_IMAGE:-}
app_image=${BPI_APP_IMAGE:-}
app_port=${BPI_APP_PORT:-8080}
app_path=${BPI_APP_PATH:-/}
app_health_path=${BPI_APP_HEALTH_PATH:-}
app_health_check=${BPI_APP_HEALTH_CHECK:-}
exec_command=${BPI_EXEC_COMMAND:-}
app_timeout=${BPI_APP_TIMEOUT_SECS:-900}
lambda_dir=${LAMBDA_OUT:-$root/target/lambda-zips}
zips_dir=${LAMBDA_ZIPS:-$lambda_dir/arm64}

while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name) stack=$2; shift 2 ;;
    --latency) latency=$2; shift 2 ;;
    --min) min=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --updater-rate) updater_rate=$2; shift 2 ;;
    --visibility-timeout) visibility=$2; shift 2 ;;
    --max-receive-count) max_receive=$2; shift 2 ;;
    --log-retention-days) log_retention=$2; shift 2 ;;
    --task-start) task_start=$2; shift 2 ;;
    --forecast-task-hours) forecast_task_hours=$2; shift 2 ;;
    --scale-in-window) scale_in_window=$2; shift 2 ;;
    --idle-minutes) idle_minutes=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --subnets) subnets=$2; shift 2 ;;
    --security-group) security_group=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --app-image) app_image=$2; shift 2 ;;
    --app-port) app_port=$2; shift 2 ;;
    --app-path) app_path=$2; shift 2 ;;
    --app-health-path) app_health_path=$2; shift 2 ;;
    --app-health-check) app_health_check=$2; shift 2 ;;
    --exec-command) exec_command=$2; shift 2 ;;
    --app-timeout) app_timeout=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for pair in "latency:$latency" "min:$min" "max:$max" "concurrency:$concurrency" "updater-rate:$updater_rate" \
            "visibility-timeout:$visibility" "max-receive-count:$max_receive" "log-retention-days:$log_retention" \
            "app-port:$app_port" "app-timeout:$app_timeout" "idle-minutes:$idle_minutes" \
            "task-start:$task_start" "scale-in-window:$scale_in_window"; do
  is_uint "${pair#*:}" || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
[ "$latency" -ge 1 ] || die "--latency must be at least 1"
[ "$idle_minutes" -le 60 ] || die "--idle-minutes must be 0-60, got $idle_minutes"
[ "$task_start" -le 900 ] || die "--task-start must be 0-900, got $task_start"
if [[ ! $forecast_task_hours =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v h="$forecast_task_hours" 'BEGIN { exit !(h <= 10000) }'; then
  die "--forecast-task-hours must be a number 0-10000, got '$forecast_task_hours'"
fi
[ "$scale_in_window" -le 15 ] || die "--scale-in-window must be 0-15, got $scale_in_window"
if [ "$max" -lt 1 ] || [ "$max" -lt "$min" ]; then die "--max must be at least 1 and at least --min ($min)"; fi
[ "$concurrency" -ge 1 ] || die "--concurrency must be at least 1"
[ "$updater_rate" -ge 1 ] || die "--updater-rate must be at least 1 minute"
[[ $stack =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "--stack-name must be a lowercase letter then up to 30 lowercase letters, digits or - (it names the image repository)"
if [ "$app_port" -lt 1 ] || [ "$app_port" -gt 65535 ]; then die "--app-port must be 1-65535, got $app_port"; fi
if [ -n "$app_image" ] && [ -n "$exec_command" ]; then
  die "give --app-image (HTTP mode) or --exec-command (exec mode), not both"
fi
for pair in "app-path:$app_path" "app-health-path:$app_health_path"; do
  value=${pair#*:}
  if [ -n "$value" ] && [[ ! $value =~ ^/[^[:space:]]*$ ]]; then die "--${pair%%:*} must start with / and hold no spaces, got '$value'"; fi
done
if [ -n "$exec_command" ] && [ -z "$image" ]; then
  die "--exec-command runs in the worker's container: give --image, an image holding the command and the worker (docs/worker.md, \"Exec mode\")"
fi
if [ -n "$subnets" ] && [ -z "$security_group" ]; then
  die "--subnets needs --security-group (a group in the subnets' VPC)"
fi
# The region: the variables, else the profile's (as the CLI and the SDK read it).
if [ -z "${AWS_DEFAULT_REGION:-}" ]; then
  profile_region=$(awscli configure get region 2>/dev/null || true)
  [ -n "$profile_region" ] || die "no region: set AWS_REGION, or a region in the AWS profile (aws configure set region ...)"
  export AWS_DEFAULT_REGION=$profile_region AWS_REGION=$profile_region
fi

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
bpi=$(bpi_binary)

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
if [[ $app_image =~ ^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([^:@]+)[:@] ]]; then
  partition=aws
  [ -z "${BASH_REMATCH[3]}" ] || partition=aws-cn
  app_repository_arn="arn:$partition:ecr:${BASH_REMATCH[2]}:${BASH_REMATCH[1]}:repository/${BASH_REMATCH[4]}"
fi

# 5. An existing cluster's Container Insights setting is reported: ECS's task metrics need it, scaling does not.
if [ -n "$cluster" ]; then
  insights=$(awscli ecs describe-clusters --clusters "$cluster" --include SETTINGS \
    --query "clusters[0].settings[?name=='containerInsights'].value | [0]" --output text 2>/dev/null || true)
  case "$insights" in
    enabled|enhanced) ;;
    *) say "WARNING: cluster $cluster has Container Insights '$insights': scaling does not need it (the sampler reads the service), but ECS's task metrics in CloudWatch do; enable it with: aws ecs update-cluster-settings --cluster $cluster --settings name=containerInsights,value=enabled" ;;
  esac
fi

# 6. Main stack.
say "deploying stack $stack"
awscli cloudformation deploy --stack-name "$stack" --template-file "$root/deploy/stack.yaml" \
  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
  --parameter-overrides \
    "WorkerImage=$image" "WorkerRepositoryArn=$repository_arn" "ArtifactsBucket=$bucket" \
    "ProducerZipKey=${zip_key[message-producer]}" "UpdaterZipKey=${zip_key[target-bpi-updater]}" "SamplerZipKey=${zip_key[sampler]}" \
    "DesiredLatencySecs=$latency" "TaskConcurrency=$concurrency" "MinCapacity=$min" "MaxCapacity=$max" \
    "UpdaterRateMinutes=$updater_rate" "QueueVisibilityTimeoutSecs=$visibility" "MaxReceiveCount=$max_receive" \
    "LogRetentionDays=$log_retention" "ExistingClusterName=$cluster" "SubnetIds=$subnets" \
    "SecurityGroupId=$security_group" \
    "AppImage=$app_image" "AppRepositoryArn=$app_repository_arn" "AppPort=$app_port" "AppPath=$app_path" \
    "AppHealthPath=$app_health_path" "AppHealthCheckCommand=$app_health_check" "ExecCommand=$exec_command" \
    "AppTimeoutSecs=$app_timeout" "TaskStartSecs=$task_start" \
    "ForecastMaxTaskHours=$forecast_task_hours" >&2

# 7. Scaling, outside the stack: the updater owns the policy from here on.
scaling_env "$stack" || die "stack $stack is missing outputs"
export DESIRED_LATENCY_SECS=$latency TASK_CONCURRENCY=$concurrency MIN_CAPACITY=$min MAX_CAPACITY=$max \
  IDLE_SCALE_IN_MINUTES=$idle_minutes SCALE_IN_WINDOW_MINUTES=$scale_in_window
say "applying the scaling set-up to service/$CLUSTER_NAME/$SERVICE_NAME"
report=$("$bpi" scaling apply) || die "bpi scaling apply failed"
echo "$report"
if grep -q '"changed": false' <<<"$report"; then
  say "scaling: no changes"
fi
say "done. Load: deploy/load.sh on --stack-name $stack; dashboard: CloudWatch > Dashboards > $stack"
