"""Shared pytest setup. Fixture modules live in tests/support/ and are registered here."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Project-local tools (helm, helm4, kubectl) first, as `make test` arranges.
os.environ.setdefault("MLP_TOOLS_DIR", str(ROOT / ".tools"))
os.environ["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(ROOT / ".venv" / "bin"), os.environ["PATH"]])

pytest_plugins = [
    module
    for module in (
        "tests.support.kube_fixtures",
        "tests.support.local_fixtures",
        "tests.support.chart_fixtures",
    )
    if (ROOT / (module.replace(".", "/") + ".py")).exists()
]
