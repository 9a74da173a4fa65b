#!/usr/bin/env bash
# `make down`: delete the kind cluster of `make up`.
set -euo pipefail
source "$(dirname "$0")/kind-lib.sh"

if ! command -v kind >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "no Docker daemon or no kind here: there is no kind cluster to delete"
elif cluster_exists; then
  kind delete cluster --name "$CLUSTER"
else
  echo "no kind cluster $CLUSTER; nothing to delete"
fi
