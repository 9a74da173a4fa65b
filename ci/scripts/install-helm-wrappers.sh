#!/usr/bin/env bash
# Puts `helm` (3.x) and `helm4` on the venv's PATH, each with the project's `helm mlp` plugin:
# BIN_DIR/helm and BIN_DIR/helm4 run TOOLS_DIR/bin/helm and TOOLS_DIR/bin/helm4 with the plugin
# directory that install-helm-plugin.sh fills (TOOLS_DIR/helm-home/3|4/data/plugins) ahead of the
# user's own plugins. The user's helm repositories, registry logins and config stay where they are.
set -euo pipefail
tools="$(cd "${1:?usage: install-helm-wrappers.sh TOOLS_DIR BIN_DIR}" && pwd)"
bin="$(cd "${2:?usage: install-helm-wrappers.sh TOOLS_DIR BIN_DIR}" && pwd)"

write_wrapper() {  # $1: name on PATH, $2: helm major
  cat >"$bin/$1" <<EOF
#!/bin/sh
# helm $2 with the mlplatform plugin (\`helm mlp\`); written by \`make setup\` (ci/scripts/install-helm-wrappers.sh).
helm='$tools/bin/$1'
# Helm 3's \`plugin install\` takes HELM_PLUGINS as one directory: it installs into the user's.
[ "\${1:-} \${2:-}" = "plugin install" ] && exec "\$helm" "\$@"
plugins=\${HELM_PLUGINS:-\$("\$helm" env HELM_PLUGINS)}
# Helm 4 refuses two plugins of one name: when the user has installed mlp, theirs is the one.
[ -e "\$plugins/mlp" ] || plugins='$tools/helm-home/$2/data/plugins':\$plugins
export HELM_PLUGINS="\$plugins"
exec "\$helm" "\$@"
EOF
  chmod 0755 "$bin/$1"
}

write_wrapper helm 3
write_wrapper helm4 4
echo "helm, helm4: wrappers in $bin that add the mlp plugin"
