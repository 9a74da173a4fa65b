"""schemathesis against both services' OpenAPI documents (issue 14): a fixed seed and a bounded budget;
no 5xx, every response conforms to its documented schema and content type, every status is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
SEED = 14
EXAMPLES_PER_OPERATION = 15
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"


def fuzz(service, tmp_path: Path) -> tuple[int, str]:
    """Run schemathesis against the service; (test cases generated, its report)."""
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{service.url}/openapi.json", "--seed", str(SEED),
         "--max-examples", str(EXAMPLES_PER_OPERATION), "--phases", "examples,coverage,fuzzing",
         "--checks", CHECKS, "--workers", "1", "--generation-database", "none", "--no-color",
         "--request-timeout", "10"],
        capture_output=True, text=True, timeout=150, cwd=tmp_path, check=False,
    )
    report = result.stdout + result.stderr
    generated = re.search(r"(\d+) generated", report)
    assert result.returncode == 0, report[-8000:]
    assert generated, report[-3000:]
    print(f"\nschemathesis on {service.service}: {generated.group(1)} test cases, exit {result.returncode}")
    return int(generated.group(1)), report


def test_the_pipeline_controller_survives_the_fuzzer(pipelines_service, tmp_path):
    cases, report = fuzz(pipelines_service, tmp_path)
    assert cases > 300 and "Server error" not in report


def test_the_tuning_service_survives_the_fuzzer(tuning_service, tmp_path):
    cases, report = fuzz(tuning_service, tmp_path)
    assert cases > 300 and "Server error" not in report
