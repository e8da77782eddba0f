#!/usr/bin/env bash
# Fetch the upstream CRDs the strict manifest validation uses, at the pinned
# releases, into $1. Only for machines without ../shared/reference/crds (GitHub
# Actions); the development machines and this project's CI have that folder.
set -euo pipefail
dest=${1:?usage: fetch-crds.sh <dir>}
base=https://raw.githubusercontent.com
fetch() { mkdir -p "$dest/$1"; curl -fsSL --retry 3 -o "$dest/$1/$(basename "$2")" "$base/$2"; }
for f in inferenceservices inferencegraphs servingruntimes clusterservingruntimes trainedmodels; do
  fetch kserve-v0.20.0 "kserve/kserve/v0.20.0/config/crd/full/serving.kserve.io_$f.yaml"
done
for f in scaledobjects scaledjobs triggerauthentications clustertriggerauthentications; do
  fetch keda-v2.20.2 "kedacore/keda/v2.20.2/config/crd/bases/keda.sh_$f.yaml"
done
for f in service configuration revision route; do
  fetch knative-serving-v1.23.0 "knative/serving/knative-v1.23.0/config/core/300-resources/$f.yaml"
done
