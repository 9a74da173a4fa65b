"""Every `mlp` command, group and option says what it is for."""

from __future__ import annotations

import click
import pytest

from mlplatform.cli import COMMANDS, HELP, cli


def walk(group: click.Group, context: click.Context, path: tuple[str, ...] = ()):
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, click.Context(command, parent=context), (*path, name))


COMMAND_PATHS = [path for path, _ in walk(cli, click.Context(cli))]


def command_at(path: tuple[str, ...]) -> click.Command:
    return dict(walk(cli, click.Context(cli)))[path]


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_and_option_has_help(path):
    command = command_at(path)
    assert (command.help or command.short_help or "").strip(), f"`mlp {' '.join(path)}` has no help text"
    missing = [param.opts[0] for param in command.params
               if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert not missing, f"`mlp {' '.join(path)}` options without help: {missing}"


def test_groups_list_their_subcommands_with_a_description():
    """The listing shows the static HELP lines (nothing imported); each says something."""
    for name, target in COMMANDS.items():
        assert HELP.get(name), f"mlp {name} has no line in HELP"
        for sub in target if isinstance(target, dict) else ():
            assert HELP.get(f"{name} {sub}"), f"mlp {name} {sub} has no line in HELP"


def test_the_root_help_states_the_exit_codes():
    text = cli.get_help(click.Context(cli, info_name="mlp"))
    assert "0 ok, 1 failed or aborted, 2 usage or bad input, 3 a dependency is unreachable" in " ".join(text.split())
