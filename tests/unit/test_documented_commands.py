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
from tests.support.docs import DOCS, ROOT, blocks, code_lines

PLUGIN = ROOT / "plugins" / "mlp" / "bin" / "helm-mlp"
HELM_GLOBAL_FLAGS = {"-n", "--namespace", "--kube-context", "--kubeconfig"}


def documented(prefix: str) -> list[tuple[str, str]]:
    return [pytest.param(path, line, id=f"{path}: {line[:60]}") for path in DOCS for line in code_lines(path)
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


@pytest.fixture
def beside_the_checkout(monkeypatch, tmp_path):
    """A directory that links the checkout's entries (documented paths such as values/prod.yaml are relative
    to it) and holds the files a doc tells its reader to save (its `file=NAME` blocks)."""
    for entry in ROOT.iterdir():
        (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)

    def with_files_of(doc: str) -> None:
        for block in blocks(doc):
            if "file" in block.options:
                (tmp_path / block.options["file"]).write_text(block.text)
    return with_files_of


@pytest.mark.parametrize(("doc", "line"), documented("mlp"))
def test_documented_mlp_commands_parse(doc, line, beside_the_checkout):
    beside_the_checkout(doc)
    try:
        parse(shlex.split(line)[1:])
    except click.exceptions.Exit as stop:   # `--help` parses, prints and stops
        assert stop.exit_code == 0, line


@pytest.mark.parametrize(("doc", "line"), documented("helm mlp"))
def test_documented_helm_mlp_commands_reach_a_command_mlp_accepts(doc, line, tmp_path_factory, beside_the_checkout):
    beside_the_checkout(doc)
    echo = tmp_path_factory.mktemp("bin") / "mlp"
    echo.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    echo.chmod(0o755)
    result = subprocess.run([str(PLUGIN), *without_helm_flags(shlex.split(line)[2:])], env={"MLP_BIN": str(echo)},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    parse(result.stdout.splitlines())


@pytest.mark.parametrize(("doc", "line"), documented("make"))
def test_documented_make_targets_exist(doc, line):
    rules = re.findall(r"^([a-z][a-z0-9 -]*):", (ROOT / "Makefile").read_text(), re.MULTILINE)
    targets = {target for rule in rules for target in rule.split()}
    named = [word for word in shlex.split(line)[1:] if "=" not in word]
    assert named and set(named) <= targets, f"{named} not among the Makefile's targets {sorted(targets)}"
