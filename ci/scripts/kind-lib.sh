# Shared by kind-up.sh, kind-down.sh and kind-upgrade-test.sh: sourced, not run.
# shellcheck shell=bash disable=SC2034  # ROOT and CLUSTER are read by the scripts that source this file
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="${KIND_CLUSTER:-mlplatform}"
IMAGE_REGISTRY=ghcr.io
IMAGE_REPOSITORY=mlplatform/mlplatform
# The platform image's values in the umbrella chart: each component's `image` and the hooks'.
IMAGE_KEYS=(pipelineController.image tuningService.image trainingOperator.image dashboard.image modelServer.image
            modelRegistry.image hooks.image)

# require_docker_and_kind WHAT: stop with one line when Docker (a daemon that answers) or kind is missing.
require_docker_and_kind() {
  local missing=""
  if ! command -v docker >/dev/null; then missing="docker: not found"
  elif ! docker info >/dev/null 2>&1; then missing="docker: the daemon does not answer"
  elif ! command -v kind >/dev/null; then missing="kind: not found"
  fi
  if [ -n "$missing" ]; then
    echo "$1 needs Docker and kind ($missing); without them, run the platform locally: make demo" >&2
    exit 1
  fi
}

require() {  # require TOOL...: stop with one line naming the first missing tool
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (make setup installs helm and kubectl into .tools/bin)" >&2; exit 1; }
  done
}

app_version() {  # app_version ROOT: the umbrella chart's appVersion
  sed -nE 's/^appVersion:[[:space:]]*"?([^"[:space:]]+)"?.*/\1/p' "$1/charts/mlplatform/Chart.yaml"
}

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER"
}

# build_and_load SOURCE_DIR TAG: build the platform image from SOURCE_DIR and load it into the cluster.
build_and_load() {
  docker build -t "$IMAGE_REGISTRY/$IMAGE_REPOSITORY:$2" "$1"
  kind load docker-image --name "$CLUSTER" "$IMAGE_REGISTRY/$IMAGE_REPOSITORY:$2"
}

# image_args TAG: sets IMAGE_ARGS, the helm arguments that point every platform workload at the loaded image
# (--set-string: a tag such as 1.10 stays a string).
image_args() {
  local key
  IMAGE_ARGS=()
  for key in "${IMAGE_KEYS[@]}"; do
    IMAGE_ARGS+=(--set-string "$key.registry=$IMAGE_REGISTRY,$key.repository=$IMAGE_REPOSITORY,$key.tag=$1,$key.pullPolicy=IfNotPresent")
  done
}

# build_dependencies ROOT: package the file:// dependencies into each chart's charts/, subcharts first.
build_dependencies() {
  local chart
  for chart in "$1"/charts/*/; do
    if [ "$(basename "$chart")" != mlplatform ] && grep -q '^dependencies:' "$chart/Chart.yaml"; then
      helm dependency update --skip-refresh "$chart" >/dev/null
    fi
  done
  helm dependency update --skip-refresh "$1/charts/mlplatform" >/dev/null
}
