#!/usr/bin/env bash
# The upgrade path users take: install the chart, values/dev.yaml and image of PREVIOUS_REF (the last
# release tag, or a pull request's base), run helm test, then `helm upgrade --atomic` to this tree's
# chart and image and run helm test again. Runs in the kind cluster of `make up`, in its own namespace.
#   ci/scripts/kind-upgrade-test.sh PREVIOUS_REF
set -euo pipefail
source "$(dirname "$0")/kind-lib.sh"
previous_ref="${1:?usage: kind-upgrade-test.sh PREVIOUS_REF (a tag, branch or commit)}"
release="${RELEASE:-mlp-upgrade}"
namespace="${NAMESPACE:-mlplatform-upgrade}"

require_docker_and_kind "the upgrade test"
require git helm kubectl
cluster_exists || { echo "error: no kind cluster $CLUSTER; run make up first" >&2; exit 1; }
kind export kubeconfig --name "$CLUSTER" >/dev/null  # and make it the current context

previous="$(mktemp -d)/previous"
git -C "$ROOT" worktree add --quiet --detach "$previous" "$previous_ref"
trap 'git -C "$ROOT" worktree remove --force "$previous"' EXIT

current_tag="$(app_version "$ROOT")"
build_and_load "$ROOT" "$current_tag"
# The previous release runs the previous code, unless that ref predates the Dockerfile.
previous_tag="$current_tag"
if [ -f "$previous/Dockerfile" ]; then
  previous_tag="$(app_version "$previous")-previous"
  build_and_load "$previous" "$previous_tag"
fi

echo "--- install $previous_ref (image tag $previous_tag)"
helm uninstall "$release" --namespace "$namespace" --wait >/dev/null 2>&1 || true
build_dependencies "$previous"
image_args "$previous_tag"
helm install "$release" "$previous/charts/mlplatform" --namespace "$namespace" --create-namespace \
  --values "$previous/values/dev.yaml" "${IMAGE_ARGS[@]}" --wait --timeout 10m
helm test "$release" --namespace "$namespace" --logs --timeout 10m

echo "--- upgrade to $(git -C "$ROOT" rev-parse --short HEAD) (image tag $current_tag)"
build_dependencies "$ROOT"
image_args "$current_tag"
# --atomic rolls back when the upgrade or its post-upgrade hooks fail (Helm 4: --rollback-on-failure).
helm upgrade "$release" "$ROOT/charts/mlplatform" --namespace "$namespace" \
  --values "$ROOT/values/dev.yaml" "${IMAGE_ARGS[@]}" --atomic --timeout 10m
helm test "$release" --namespace "$namespace" --logs --timeout 10m
helm history "$release" --namespace "$namespace"
