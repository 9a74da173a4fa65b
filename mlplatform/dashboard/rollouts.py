"""The canary's state and the promote and abort actions, through the code `mlp canary` runs (local mode)."""

from __future__ import annotations

from pathlib import Path

from mlplatform.canary.commands import abort_target, canary_status, promote_target


def _target(state_dir: Path):
    from mlplatform.canary.local import LocalTarget

    return LocalTarget(state_dir)


def report_file(state_dir: Path) -> Path:
    return Path(state_dir) / "canary" / "rollout.json"   # where `mlp canary rollout --local` writes it


def rollout_status(state_dir: Path) -> dict:
    return canary_status(_target(state_dir), report_file(state_dir))


def promote(state_dir: Path) -> str:
    return promote_target(_target(state_dir), report_file(state_dir), lambda _line: None, by="the dashboard")


def abort(state_dir: Path) -> str:
    return abort_target(_target(state_dir), report_file(state_dir), lambda _line: None, by="the dashboard")
