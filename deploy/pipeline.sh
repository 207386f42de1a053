#!/usr/bin/env bash
# Deploys the CI/CD pipeline (deploy/pipeline.yaml) for a deployed app stack: GitHub through a CodeStar connection,
# CodeBuild with buildspec.yml, ECS deploy of the worker. Create the connection in the console first (it needs a
# one-time authorisation in GitHub) and pass its ARN; no token is stored anywhere.
#
#   deploy/pipeline.sh --connection-arn ARN --repository OWNER/REPO [--branch main] [--stack-name NAME] [--email ADDR]
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stack=${BPI_STACK_NAME:-ecs-sqs-bpi}
connection="" repository="" branch=main email=""
while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name) stack=$2; shift 2 ;;
    --connection-arn) connection=$2; shift 2 ;;
    --repository) repository=$2; shift 2 ;;
    --branch) branch=$2; shift 2 ;;
    --email) email=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ -n "$connection" ] || die "--connection-arn is required"
[[ $repository =~ ^[^/]+/[^/]+$ ]] || die "--repository must be OWNER/REPO"
scaling_env "$stack" || die "stack $stack not found (deploy it first with deploy/deploy.sh)"
awscli cloudformation deploy --stack-name "$stack-pipeline" --template-file "$root/deploy/pipeline.yaml" \
  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
  --parameter-overrides "ConnectionArn=$connection" "FullRepositoryId=$repository" "BranchName=$branch" \
    "AppStackName=$stack" "ClusterName=$CLUSTER_NAME" "ServiceName=$SERVICE_NAME" "NotificationEmail=$email"
say "pipeline $stack-pipeline: pushes to $repository@$branch build and deploy service $SERVICE_NAME"
