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

# Load generators the load tests run for real (tests/loadtest), pinned by tag: the
# module proxy's @latest for ghz is an old v0.93.0, so the version is always named.
# `go install` builds print no version: read the one embedded in the binary.
go_tool() { # <binary> <module> <package@version>
  local have
  have=$(grep -aoP "mod\t\Q$2\E\tv[^\t]+" "$GOBIN_DIR/$1" 2>/dev/null | head -1 | cut -f3 || true)
  if [ "$have" != "${3##*@}" ]; then echo "installing $3"; go install "$3"; fi
}
go_tool vegeta github.com/tsenart/vegeta/v12 github.com/tsenart/vegeta/v12@v12.13.0
go_tool ghz github.com/bojand/ghz github.com/bojand/ghz/cmd/ghz@v0.121.0

# Debian's Chromium opens the benchmark report headless in the tests (no downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "chromium is missing: run as root, or apt-get install chromium" >&2; exit 1; fi
  echo "installing chromium (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
chromium --version 2>/dev/null | head -1
