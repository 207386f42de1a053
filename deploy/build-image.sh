#!/usr/bin/env bash
# Builds the worker's static binaries (musl, with cargo-lambda's zig toolchain) and its FROM-scratch image.
# CodeBuild runs this too (buildspec.yml). No base image is pulled, so it also works where no registry is reachable.
#
#   deploy/build-image.sh [--arch arm64|amd64|all] [--tag IMAGE] [--push IMAGE]
#
# Without --tag/--push only the build context is made: target/image-context/{ARCH/queue-processor,ca-certificates.crt}.
# --tag builds the image with podman or docker; --push also logs in to its ECR registry and pushes it.
# With --arch all, podman builds a manifest list (docker uses buildx).
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
context=${IMAGE_CONTEXT:-$root/target/image-context}
arch=arm64
image=""
push=false

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --tag) image=$2; shift 2 ;;
    --push) image=$2; push=true; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case "$arch" in
  arm64) archs=(arm64) ;;
  amd64) archs=(amd64) ;;
  all) archs=(amd64 arm64) ;;
  *) die "unknown architecture '$arch' (arm64, amd64 or all)" ;;
esac

ensure_cargo_lambda

mkdir -p "$context"
for a in "${archs[@]}"; do
  if [ "$a" = arm64 ]; then triple=aarch64-unknown-linux-musl; else triple=x86_64-unknown-linux-musl; fi
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple" || die "cannot install Rust target $triple"
  out=${CARGO_TARGET_DIR:-$root/target}/worker-$a
  cargo lambda build --release --target "$triple" -p queue-processor --lambda-dir "$out" --manifest-path "$root/Cargo.toml" >&2
  mkdir -p "$context/$a"
  cp "$out/queue-processor/bootstrap" "$context/$a/queue-processor"
  echo "build-image.sh: $context/$a/queue-processor ($(du -h "$context/$a/queue-processor" | cut -f1), static $triple)" >&2
done
ca=""
for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  [ -f "$candidate" ] && { ca=$candidate; break; }
done
[ -n "$ca" ] || die "no CA bundle found on this machine (install ca-certificates)"
cp "$ca" "$context/ca-certificates.crt"
[ -n "$image" ] || exit 0

engine=$(command -v podman || command -v docker || true)
[ -n "$engine" ] || die "--tag/--push need podman or docker"
# Log in before building: docker buildx pushes as part of the multi-architecture build.
if $push; then
  registry=${image%%/*}
  region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}
  [ -n "$region" ] || die "--push needs a region (AWS_REGION, or the profile's) to log in to $registry"
  aws ecr get-login-password --region "$region" | "$engine" login --username AWS --password-stdin "$registry"
fi
platforms=$(printf 'linux/%s,' "${archs[@]}"); platforms=${platforms%,}
if [ "${#archs[@]}" -gt 1 ] && [ "$(basename "$engine")" = docker ]; then
  args=(buildx build --platform "$platforms" -t "$image")
  $push && args+=(--push)
  "$engine" "${args[@]}" -f "$root/Dockerfile" "$context"
  exit 0
fi
if [ "${#archs[@]}" -gt 1 ]; then
  "$engine" build --platform "$platforms" --manifest "$image" -f "$root/Dockerfile" "$context"
else
  "$engine" build --platform "$platforms" -t "$image" -f "$root/Dockerfile" "$context"
fi
if $push; then
  if [ "${#archs[@]}" -gt 1 ]; then "$engine" manifest push --all "$image" "docker://$image"; else "$engine" push "$image"; fi
fi
