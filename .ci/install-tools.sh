#!/usr/bin/env bash
# Installs the pinned non-npm tools the tests run for real. Idempotent: a tool
# already at its pinned version is left alone. Used by .ci/run and by
# developers (`npm run tools:install`).
#
# usage: bash .ci/install-tools.sh [tool ...]   (npm run tools:install -- [tool ...])
#   no tool: all of them. Tools: helm (what `npm run plan` needs), venv (.venv with
#   .ci/requirements.txt and optimize/requirements-test.txt: about 7 GB of torch),
#   vegeta, ghz, chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TOOLS=(helm venv vegeta ghz chromium)
usage() { echo "usage: bash .ci/install-tools.sh [tool ...]   (tools: ${ALL_TOOLS[*]}; none: all)" >&2; }
tools=("$@")
if [ ${#tools[@]} -eq 0 ]; then tools=("${ALL_TOOLS[@]}"); fi
for tool in "${tools[@]}"; do
  case " ${ALL_TOOLS[*]} " in
    *" $tool "*) ;;
    *) if [ "$tool" = -h ] || [ "$tool" = --help ]; then usage; exit 0; fi
       echo "unknown tool: $tool" >&2; usage; exit 2 ;;
  esac
done

# Go is only needed for the tools built with `go install`.
gobin() { echo "$(go env GOPATH)/bin"; }

# helm renders the pinned charts (always with --kube-version).
install_helm() {
  local HELM_VERSION=v3.22.0 bin
  bin="$(gobin)"
  if ! "$bin/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION%.0}"; then
    echo "installing helm $HELM_VERSION"
    go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  fi
  "$bin/helm" version --short
}

# Python tools in a project-local venv (pinned in .ci/requirements.txt), and the
# model-optimization code's tests (optimize/): torch, transformers, pytest, pinned.
# From PyPI torch brings its CUDA libraries (~7 GB, ~2 min once); the tests run on the CPU.
install_venv() {
  if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
  .venv/bin/pip install --disable-pip-version-check -q -r .ci/requirements.txt
  .venv/bin/pip install --disable-pip-version-check -q -r optimize/requirements-test.txt
  .venv/bin/python --version
}

# Load generators the load tests run for real (tests/loadtest), pinned by tag: the
# module proxy's @latest for ghz is an old v0.93.0, so the version is always named.
# `go install` builds print no version: read the one embedded in the binary.
built_version() { grep -aoP "mod\t\Q$2\E\tv[^\t]+" "$(gobin)/$1" 2>/dev/null | head -1 | cut -f3 || true; }
go_tool() { # <binary> <module> <package@version>
  if [ "$(built_version "$1" "$2")" != "${3##*@}" ]; then echo "installing $3"; go install "$3"; fi
  echo "$1 $(built_version "$1" "$2")"
}
install_vegeta() { go_tool vegeta github.com/tsenart/vegeta/v12 github.com/tsenart/vegeta/v12@v12.13.0; }
install_ghz() { go_tool ghz github.com/bojand/ghz github.com/bojand/ghz/cmd/ghz@v0.121.0; }

# Debian's Chromium opens the benchmark report headless in the tests (no downloaded browser).
# Installed with apt-get as root, or through passwordless sudo (CI runners); otherwise
# the script stops with the command to run.
install_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
      if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
        echo "chromium is missing: run as root (or with passwordless sudo), or apt-get install chromium" >&2
        exit 1
      fi
    fi
    echo "installing chromium (Debian)"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  chromium --version 2>/dev/null | head -1
}

for tool in "${tools[@]}"; do "install_$tool"; done
