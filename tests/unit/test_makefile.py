"""`make help` lists every target of the Makefile, each with a description."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A rule's targets: a line that starts with names and a colon, not a variable assignment (:=).
RULE = re.compile(r"^([a-z][a-z0-9 -]*?)\s*:(?!=)", re.MULTILINE)


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def makefile_targets() -> list[str]:
    return [target for rule in RULE.findall((ROOT / "Makefile").read_text()) for target in rule.split()]


def help_rows() -> dict[str, str]:
    """target -> description, from `make help` (a row may name several targets: `values generate`)."""
    result = make("help")
    assert result.returncode == 0, result.stderr
    rows = [re.fullmatch(r"  (\S+(?: \S+)*?)\s{2,}(\S.*)", line) for line in result.stdout.splitlines()]
    assert all(rows), f"rows that are not `  TARGET  DESCRIPTION`:\n{result.stdout}"
    return {target: row[2] for row in rows for target in row[1].split()}


def test_the_makefile_is_parsed():
    assert {"help", "setup", "setup-python", "setup-tools", "setup-plugin", "setup-system", "values", "generate",
            "test", "lint", "demo"} <= set(makefile_targets())


@pytest.mark.parametrize("target", makefile_targets())
def test_make_help_describes_every_target(target):
    rows = help_rows()
    assert target in rows, f"`make help` does not list {target}: give its rule a `## description`"
    assert len(rows[target].split()) >= 3


def test_make_help_is_the_default_goal():
    assert make().stdout == make("help").stdout


def test_values_and_generate_run_the_generator():
    for target in ("values", "generate"):
        result = make("--dry-run", target)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("/.venv/bin/mlp values render")
