#!/usr/bin/env bash
# Removes everything deploy.sh and pipeline.sh created: the pipeline stack (its artifacts bucket emptied first), the
# scaling set-up (policies, alarms, scalable target), the main stack, then the artifacts and the base stack. Says
# what it removed.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stack=${BPI_STACK_NAME:-ecs-sqs-bpi}
while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name) stack=$2; shift 2 ;;
    -h|--help) echo "Usage: deploy/destroy.sh [--stack-name NAME]   [BPI_STACK_NAME=ecs-sqs-bpi]"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

# Emptied first: CloudFormation cannot delete a bucket that holds objects (BucketNotEmpty).
empty_bucket() {
  local bucket=$1 count
  count=$(awscli s3api list-objects-v2 --bucket "$bucket" --query "length(Contents || \`[]\`)" --output text 2>/dev/null || echo 0)
  awscli s3 rm "s3://$bucket" --recursive --only-show-errors
  say "emptied s3://$bucket ($count objects)"
}

# The pipeline deploys to the service: it goes first.
if stack_exists "$stack-pipeline"; then
  bucket=$(stack_resource "$stack-pipeline" ArtifactsBucket)
  [ -z "$bucket" ] || empty_bucket "$bucket"
  awscli cloudformation delete-stack --stack-name "$stack-pipeline"
  wait_deleted "$stack-pipeline"
  say "removed stack $stack-pipeline (pipeline, build project, notifications, topic and its key, artifacts bucket)"
fi

if stack_exists "$stack"; then
  if scaling_env "$stack"; then
    bpi=$(bpi_binary)
    say "removing the scaling set-up of service/$CLUSTER_NAME/$SERVICE_NAME"
    "$bpi" scaling remove
  fi
  say "deleting stack $stack"
  awscli cloudformation delete-stack --stack-name "$stack"
  wait_deleted "$stack"
  say "removed stack $stack (queue, DLQ, service, task definition, cluster, network, functions, schedules, dashboard, alarms, roles, log groups)"
else
  say "no stack $stack"
fi

if stack_exists "$stack-base"; then
  bucket=$(stack_resource "$stack-base" ArtifactsBucket)
  [ -z "$bucket" ] || empty_bucket "$bucket"
  awscli cloudformation delete-stack --stack-name "$stack-base"
  wait_deleted "$stack-base"
  say "removed stack $stack-base (image repository and its images, artifacts bucket)"
else
  say "no stack $stack-base"
fi
