#!/usr/bin/env bash
# Creates the project virtualenv and installs the package with its server and dev extras.
# torch (CPU build) backs the optional `bayesian` and `training` extras; it is installed when a CPU wheel is reachable.
set -euo pipefail
venv="${1:?usage: setup-python.sh VENV_DIR}"

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: Python 3.11 or newer is required (found $(python3 --version))" >&2; exit 1; }

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[server,dev,kubeflow-registry]"
# Katib's and the Training Operator's SDKs, which the tests drive the services with. Without their
# dependencies: kubeflow-katib 0.19 pins protobuf below 5, and kfp and mlflow need 6 (the SDKs run on it).
"$venv/bin/python" -m pip install --quiet --no-deps "kubeflow-katib==0.19.*" "kubeflow-training==1.9.0" "retrying>=1.3"

# The CPU build of torch: a local wheel when the machine carries one, else PyTorch's CPU index.
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  if ls /opt/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet "torch==$(ls /opt/wheels/torch-*+cpu-*.whl | head -n1 | sed -E 's/.*torch-([0-9.]+)\+cpu.*/\1/')"
  else
    "$venv/bin/python" -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu \
      || echo "warning: torch (CPU) not installed; algorithm bayesianoptimization and local PyTorchJobs will not run" >&2
  fi
fi
echo "python: $("$venv/bin/python" --version) in $venv"
