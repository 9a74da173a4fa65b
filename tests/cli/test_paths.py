"""A path from the user is made absolute once, in the CLI, against the directory the command started in."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlplatform.cli.options import absolute_database_url, absolute_location, absolute_path, state_dir_option
from mlplatform.runners.local import LocalRunner


@click.command()
@state_dir_option()
@click.option("--values", type=absolute_path(dir_okay=False))
@click.option("--db", default="sqlite:///state.db", callback=absolute_database_url)
@click.option("--artifact-root", callback=absolute_location)
def show(state_dir, values, db, artifact_root):
    click.echo("\n".join(map(str, (state_dir, values, db, artifact_root))))


def test_relative_paths_and_defaults_become_absolute_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(show, ["--values", "v.yaml", "--artifact-root", "./artifacts"])
    assert result.exit_code == 0, result.output
    state_dir, values, db, artifacts = result.output.splitlines()
    assert state_dir == str(tmp_path / ".mlplatform") and values == str(tmp_path / "v.yaml")
    assert db == f"sqlite:///{tmp_path / 'state.db'}" and artifacts == str(tmp_path / "artifacts")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:////already/absolute.db",
                                 "postgresql://user:secret@db:5432/mlp", "s3://not-a-database", "$(MLP_DB_URL)"])
def test_other_database_urls_are_left_alone(url):
    assert absolute_database_url(None, None, url) == url


def test_s3_artifact_roots_are_left_alone():
    assert absolute_location(None, None, "s3://bucket/prefix") == "s3://bucket/prefix"


def test_the_local_runner_refuses_a_relative_state_dir():
    with pytest.raises(ValueError, match="must be absolute"):
        LocalRunner(Path("relative/tasks"))
