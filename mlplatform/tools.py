"""Locating the external binaries the platform drives: helm 3, helm 4, kubectl, nginx, prometheus.

`make setup` installs helm and kubectl into `.tools/bin` (MLP_TOOLS_DIR). Inside a Helm plugin,
Helm passes its own binary as HELM_BIN. A missing binary is reported, never faked.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from mlplatform.errors import MissingBinary

PROJECT_ROOT = Path(__file__).resolve().parents[1]

_HINTS = {
    "helm": "run `make setup` (installs helm 3 and helm 4 into .tools/bin) or install helm",
    "helm4": "run `make setup` (installs helm 4 into .tools/bin as helm4)",
    "kubectl": "run `make setup` or install kubectl",
    "nginx": "install it with `apt-get install nginx-light` (or run `make setup` as root)",
    "prometheus": "install it with `apt-get install prometheus` (or run `make setup` as root)",
    "mlserver": "install the server extra: pip install 'mlplatform[server]'",
    "mlflow": "install mlflow: pip install mlflow",
    "moto_server": "install moto: pip install 'moto[server]'",
    "readme-generator": "run `make setup` (installs readme-generator-for-helm into .tools/bin; needs npm)",
}


def tools_dir() -> Path:
    return Path(os.environ.get("MLP_TOOLS_DIR", PROJECT_ROOT / ".tools"))


def find_binary(name: str) -> Path | None:
    """The path of `name`: MLP_<NAME>_BIN when set (and only it), else project tools, this Python's
    bin directory (the venv's servers), PATH, then /usr/sbin (nginx lives there)."""
    override = os.environ.get(f"MLP_{name.upper().replace('-', '_')}_BIN")
    if override:
        return Path(override) if os.path.isfile(override) and os.access(override, os.X_OK) else None
    candidates = [tools_dir() / "bin" / name, Path(sys.executable).parent / name]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(Path("/usr/sbin") / name)
    return next((path for path in candidates if path.is_file() and os.access(path, os.X_OK)), None)


def require_binary(name: str) -> Path:
    path = find_binary(name)
    if path is None:
        raise MissingBinary(name, _HINTS.get(name, f"install {name}"))
    return path


def helm_binary(major: int = 3) -> Path:
    """helm 3 (the default) or helm 4. Inside `helm mlp`, HELM_BIN names the helm that called us."""
    if major not in (3, 4):
        raise ValueError(f"helm major version must be 3 or 4, not {major}")
    helm_bin = os.environ.get("HELM_BIN")
    if helm_bin and major == 3 and Path(helm_bin).is_file():
        return Path(helm_bin)
    return require_binary("helm" if major == 3 else "helm4")
