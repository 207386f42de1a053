#!/usr/bin/env bash
# A service as a team runs it before this project: a queue, an ECS service working it, CPU target tracking and a
# nightly scheduled action, made with the plain AWS CLI (not deploy.sh). The attach test and docs/operate.md's
# walk-through start from it.
#
# Usage: examples/existing-service/create.sh CLUSTER SERVICE QUEUE
# AWS_CLI names the CLI (default: aws); AWS_ENDPOINT_URL, when set, points it at another endpoint (the emulator).
set -euo pipefail
cluster=${1:?cluster}
service=${2:?service}
queue=${3:?queue}
cli=${AWS_CLI:-aws}
aws() {
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    "$cli" --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    "$cli" "$@"
  fi
}

aws sqs create-queue --queue-name "$queue" >/dev/null
aws ecs create-cluster --cluster-name "$cluster" >/dev/null
aws ecs register-task-definition --family "$service" \
  --container-definitions '[{"name": "worker", "image": "example/worker:1", "memory": 512}]' >/dev/null
aws ecs create-service --cluster "$cluster" --service-name "$service" --task-definition "$service" \
  --desired-count 2 >/dev/null

resource="service/$cluster/$service"
aws application-autoscaling register-scalable-target --service-namespace ecs \
  --scalable-dimension ecs:service:DesiredCount --resource-id "$resource" --min-capacity 2 --max-capacity 8 >/dev/null
aws application-autoscaling put-scaling-policy --service-namespace ecs \
  --scalable-dimension ecs:service:DesiredCount --resource-id "$resource" \
  --policy-name cpu70 --policy-type TargetTrackingScaling \
  --target-tracking-scaling-policy-configuration \
  '{"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}, "ScaleOutCooldown": 60, "ScaleInCooldown": 300}' >/dev/null
aws application-autoscaling put-scheduled-action --service-namespace ecs \
  --scalable-dimension ecs:service:DesiredCount --resource-id "$resource" \
  --scheduled-action-name nightly-batch --schedule "cron(0 2 * * ? *)" \
  --scalable-target-action MinCapacity=4,MaxCapacity=8
echo "created $resource with policy cpu70 and scheduled action nightly-batch"
