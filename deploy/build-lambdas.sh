#!/usr/bin/env bash
# Builds the Lambda functions (message-producer, target-bpi-updater, sampler) as zips with cargo-lambda, for Lambda's
# provided.al2023 runtime. Each architecture gets its own output directory: cargo-lambda writes
# NAME/bootstrap.zip under --lambda-dir, so two architectures in one directory would overwrite each other.
#
#   deploy/build-lambdas.sh [arm64|x86_64|all]      (default: arm64)
#
# Output: ${LAMBDA_OUT:-<repo>/target/lambda-zips}/ARCH/{message-producer,target-bpi-updater,sampler}/bootstrap.zip
# Installs cargo-lambda into the project venv (BPI_VENV, default <repo>/.venv) and the Rust target if missing.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=${LAMBDA_OUT:-$root/target/lambda-zips}
arch=${1:-arm64}
functions=(message-producer target-bpi-updater sampler)


case "$arch" in
  arm64) archs=(arm64) ;;
  x86_64) archs=(x86_64) ;;
  all) archs=(arm64 x86_64) ;;
  *) die "unknown architecture '$arch' (arm64, x86_64 or all)" ;;
esac

ensure_cargo_lambda

for a in "${archs[@]}"; do
  if [ "$a" = arm64 ]; then triple=aarch64-unknown-linux-gnu; flag=--arm64; else triple=x86_64-unknown-linux-gnu; flag=--x86-64; fi
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple" || die "cannot install Rust target $triple"
  args=()
  for f in "${functions[@]}"; do args+=(-p "$f"); done
  cargo lambda build --release "$flag" --output-format zip "${args[@]}" --lambda-dir "$out/$a" --manifest-path "$root/Cargo.toml"
  for f in "${functions[@]}"; do
    [ -f "$out/$a/$f/bootstrap.zip" ] || die "missing $out/$a/$f/bootstrap.zip"
    echo "$out/$a/$f/bootstrap.zip ($(du -h "$out/$a/$f/bootstrap.zip" | cut -f1))"
  done
done
