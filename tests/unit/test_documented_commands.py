"""Every `mlp`, `helm mlp` and `make` command in the docs' code blocks is one the project accepts.

`mlp` lines are parsed by the real click CLI (subcommands, options, required arguments, choices) without
running them. `helm mlp` lines go through the plugin's real entry script, with Helm's global flags taken
off first as Helm does, and the `mlp` command it would run is parsed the same way. `make` lines must
name targets of the Makefile.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import click
import pytest

from mlplatform.cli import cli
from tests.support.docs import DOCS, ROOT, code_lines

PLUGIN = ROOT / "plugins" / "mlp" / "bin" / "helm-mlp"
HELM_GLOBAL_FLAGS = {"-n", "--namespace", "--kube-context", "--kubeconfig"}


def documented(prefix: str) -> list[tuple[str, str]]:
    return [pytest.param(line, id=f"{path}: {line[:60]}") for path in DOCS for line in code_lines(path)
            if line.startswith(prefix + " ")]


def parse(args: list[str]) -> click.Command:
    """Resolve `mlp ARGS` down to its command and parse every level, as click would before running it."""
    command, name, context = cli, "mlp", None
    while True:
        context = command.make_context(name, list(args), parent=context)
        if not isinstance(command, click.Group):
            return command
        name, command, args = command.resolve_command(context, [*context._protected_args, *context.args])


def without_helm_flags(args: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in HELM_GLOBAL_FLAGS:
            skip = True
        elif arg.split("=")[0] not in HELM_GLOBAL_FLAGS:
            kept.append(arg)
    return kept


@pytest.fixture(autouse=True)
def in_the_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)   # documented paths (values/prod.yaml) are relative to the checkout


@pytest.mark.parametrize("line", documented("mlp"))
def test_documented_mlp_commands_parse(line):
    parse(shlex.split(line)[1:])


@pytest.mark.parametrize("line", documented("helm mlp"))
def test_documented_helm_mlp_commands_reach_a_command_mlp_accepts(line, tmp_path):
    echo = tmp_path / "mlp"
    echo.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    echo.chmod(0o755)
    result = subprocess.run([str(PLUGIN), *without_helm_flags(shlex.split(line)[2:])], env={"MLP_BIN": str(echo)},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    parse(result.stdout.splitlines())


@pytest.mark.parametrize("line", documented("make"))
def test_documented_make_targets_exist(line):
    rules = re.findall(r"^([a-z][a-z0-9 -]*):", (ROOT / "Makefile").read_text(), re.MULTILINE)
    targets = {target for rule in rules for target in rule.split()}
    named = [word for word in shlex.split(line)[1:] if "=" not in word]
    assert named and set(named) <= targets, f"{named} not among the Makefile's targets {sorted(targets)}"
