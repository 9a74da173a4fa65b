#!/usr/bin/env bash
# Installs readme-generator-for-helm (generates the values tables in the chart READMEs) into TOOLS_DIR.
set -euo pipefail
tools="${1:?usage: install-node-tools.sh TOOLS_DIR}"
if ! command -v npm >/dev/null; then
  echo "warning: npm not found; install Node.js to regenerate chart README tables (tests that check them will fail)" >&2
  exit 0
fi
mkdir -p "$tools/node" "$tools/bin"
if [ ! -x "$tools/node/node_modules/.bin/readme-generator" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools/node" @bitnami/readme-generator-for-helm@2 >/dev/null
fi
ln -sf "$tools/node/node_modules/.bin/readme-generator" "$tools/bin/readme-generator"
echo "readme-generator: $("$tools/bin/readme-generator" --version)"
