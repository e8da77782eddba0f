#!/usr/bin/env bash
# Installs the pinned non-npm tools the tests run for real. Idempotent: a tool
# already at its pinned version is left alone. Used by .ci/run and by
# developers (`npm run tools:install`).
set -euo pipefail
cd "$(dirname "$0")/.."
GOBIN_DIR="$(go env GOPATH)/bin"

# helm renders the pinned charts (always with --kube-version).
HELM_VERSION=v3.22.0
if ! "$GOBIN_DIR/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION%.0}"; then
  echo "installing helm $HELM_VERSION"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
"$GOBIN_DIR/helm" version --short

# Python tools in a project-local venv (pinned in .ci/requirements.txt).
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --disable-pip-version-check -q -r .ci/requirements.txt

# The model-optimization code and its tests (optimize/): torch, transformers, pytest, pinned.
# From PyPI torch brings its CUDA libraries (~7 GB, ~2 min once); the tests run on the CPU.
.venv/bin/pip install --disable-pip-version-check -q -r optimize/requirements-test.txt
