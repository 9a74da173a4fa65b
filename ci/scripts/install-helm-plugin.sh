#!/usr/bin/env bash
# Installs the `helm mlp` plugin (plugins/mlp) into project-local helm homes, one per helm major:
#   TOOLS_DIR/helm-home/3 for helm (3.x) and TOOLS_DIR/helm-home/4 for helm4.
# Use it with:  HELM_DATA_HOME=TOOLS_DIR/helm-home/3/data helm mlp ...
# The plugin is linked, not copied, so edits to plugins/mlp take effect at once.
set -euo pipefail
tools="${1:?usage: install-helm-plugin.sh TOOLS_DIR}"
root="$(cd "$(dirname "$0")/../.." && pwd)"

for major in 3 4; do
  helm="$tools/bin/helm"; [ "$major" = 4 ] && helm="$tools/bin/helm4"
  home="$tools/helm-home/$major"
  export HELM_DATA_HOME="$home/data" HELM_CONFIG_HOME="$home/config" HELM_CACHE_HOME="$home/cache"
  mkdir -p "$HELM_DATA_HOME" "$HELM_CONFIG_HOME" "$HELM_CACHE_HOME"
  if "$helm" plugin list 2>/dev/null | grep -q '^mlp[[:space:]]'; then
    "$helm" plugin uninstall mlp >/dev/null
  fi
  "$helm" plugin install "$root/plugins/mlp" >/dev/null
  echo "helm $major: plugin mlp installed in $HELM_DATA_HOME ($("$helm" plugin list | awk '$1 == "mlp" {print $2}'))"
done
