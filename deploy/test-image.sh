#!/usr/bin/env bash
# Builds the worker image for this machine's architecture with podman and runs it against the local emulator: the
# container must process a message and exit 0 on SIGTERM. Podman here needs runc and lowered ulimits (see
# ../shared/reference/local-aws.md); the container uses the host network to reach the emulator on 127.0.0.1.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v podman >/dev/null || die "podman is needed (apt-get install podman runc)"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac
image=localhost/ecs-sqs-bpi-worker:test
"$root/deploy/build-image.sh" --arch "$arch" --tag "$image"

endpoint=$("$root/deploy/emulator.sh" start)
queue=image-test-$$
"$venv/bin/python" - "$endpoint" "$queue" <<'PY'
import sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.create_queue(QueueName=sys.argv[2])["QueueUrl"]
sqs.send_message(QueueUrl=url, MessageBody='{"id": 1, "duration": 0.5}')
PY
name=bpi-image-test-$$
podman run -d --name "$name" --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --network host \
  -e AWS_ENDPOINT_URL="$endpoint" -e AWS_ACCESS_KEY_ID=test -e AWS_SECRET_ACCESS_KEY=test -e AWS_REGION=us-east-1 \
  -e QUEUE_NAME="$queue" -e RECEIVE_WAIT_SECS=1 -e METRICS_INTERVAL_SECS=1 "$image" >/dev/null
trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 60); do
  podman logs "$name" 2>&1 | grep -q '"processed":1' && break
  sleep 0.5
done
podman stop --time 30 "$name" >/dev/null
code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
user=$(podman image inspect "$image" --format '{{.Config.User}}')
podman logs "$name" 2>&1 | tail -3
podman logs "$name" 2>&1 | grep -q '"worker stopped","processed":1' || die "the container did not process the message"
[ "$code" = 0 ] || die "the container exited $code on SIGTERM"
[ "$user" = "65534:65534" ] || die "the image runs as '$user', not the numeric non-root user"
echo "test-image.sh: image $image ($(podman image inspect "$image" --format '{{.Size}}') bytes) processed a message, ran as $user, exited 0 on SIGTERM"
