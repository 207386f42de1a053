#!/usr/bin/env bash
# Lints what is not Rust: every shell script (shellcheck), the CloudFormation templates (cfn-lint) and the
# Dockerfile (hadolint). Installs cfn-lint and hadolint into the project venv if missing.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! "$venv/bin/cfn-lint" --version >/dev/null 2>&1 || ! "$venv/bin/hadolint" --version >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "cannot create a virtualenv at $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/deploy/lint-requirements.txt" \
    || die "pip install -r deploy/lint-requirements.txt failed"
fi
command -v shellcheck >/dev/null || die "shellcheck is needed (apt-get install shellcheck)"
cd "$root"
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
shellcheck --external-sources "${scripts[@]}"
echo "lint.sh: shellcheck clean (${#scripts[@]} scripts)"
"$venv/bin/cfn-lint" deploy/stack.yaml deploy/base.yaml deploy/pipeline.yaml deploy/fleet.yaml
echo "lint.sh: cfn-lint clean (4 templates)"
"$venv/bin/hadolint" Dockerfile
echo "lint.sh: hadolint clean (Dockerfile)"
