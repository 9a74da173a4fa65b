#!/usr/bin/env bash
# `make up`: a kind cluster (ci/kind.yaml), the platform image built and loaded into it, the umbrella
# chart installed with values/dev.yaml, then `helm test`. Run it again to rebuild and upgrade in place.
#   KIND_CLUSTER (default mlplatform), RELEASE (mlplatform), NAMESPACE (mlplatform), IMAGE_TAG (appVersion)
set -euo pipefail
source "$(dirname "$0")/kind-lib.sh"
release="${RELEASE:-mlplatform}"
namespace="${NAMESPACE:-mlplatform}"

require_docker_and_kind "make up"
require helm kubectl
tag="${IMAGE_TAG:-$(app_version "$ROOT")}"

if cluster_exists; then
  echo "kind cluster $CLUSTER exists; reusing it"
else
  kind create cluster --name "$CLUSTER" --config "$ROOT/ci/kind.yaml" --wait 5m
fi
kind export kubeconfig --name "$CLUSTER" >/dev/null  # and make it the current context

build_and_load "$ROOT" "$tag"
build_dependencies "$ROOT"
image_args "$tag"
helm upgrade --install "$release" "$ROOT/charts/mlplatform" --namespace "$namespace" --create-namespace \
  --values "$ROOT/values/dev.yaml" "${IMAGE_ARGS[@]}" --wait --timeout 10m
helm test "$release" --namespace "$namespace" --logs --timeout 10m
echo "mlplatform is up in kind cluster $CLUSTER, namespace $namespace (make down deletes the cluster)"
