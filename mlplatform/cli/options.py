"""The options several `mlp` commands share: paths, the state directory, the output format.

Paths from the user are made absolute once, here at the edge (DESIGN §10, "Paths"). Every `mlp` option that names a file or directory uses `absolute_path()`, and `--db` uses
`absolute_database_url`, so a relative path means "relative to the directory the command was started
in" and nothing below the CLI ever sees a relative path. Tasks and trials run in their own
directories, where a relative path would mean something else.
"""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_STATE_DIR = Path(".mlplatform")


def absolute_path(**kwargs) -> click.Path:
    """A click.Path that converts to an absolute pathlib.Path (symlinks resolved), defaults included."""
    return click.Path(path_type=Path, resolve_path=True, **kwargs)


def state_dir_option(help: str = "Local mode's state directory.", default: Path = DEFAULT_STATE_DIR):
    return click.option("--state-dir", type=absolute_path(file_okay=False), default=default,
                        show_default=True, help=help)


def absolute_database_url(_ctx, _param, url: str | None) -> str | None:
    """`sqlite:///relative.db` -> `sqlite:////<cwd>/relative.db`; other URLs unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url:
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:   # mlplatform.db refuses it, naming the flag, when the service opens it
        return url
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(Path(database).resolve())).render_as_string(hide_password=False)


def absolute_location(_ctx, _param, location: str | None) -> str | None:
    """A directory or an s3:// URI: the directory made absolute, the URI unchanged."""
    if not location or "://" in location:
        return location
    return str(Path(location).resolve())


def http_url(_ctx, param, value: str | None) -> str | None:
    """A click callback: the option's value must be an http:// or https:// URL (exit 2 naming it)."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL", param_hint=f"--{param.name.replace('_', '-')}")
    return value


def output_option():
    return click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True,
                        help="A table for people, or JSON for programs.")
