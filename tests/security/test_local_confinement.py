"""The local runner's confinement (issue 14): each task in its own directory with a private TMPDIR, and
optional rlimits through prlimit. A convenience, not a security boundary (see docs/security.md)."""

from __future__ import annotations

import sys

import pytest

from mlplatform.runners import TaskSpec, TaskState
from mlplatform.runners.local import LocalRunner, ProcessLimits

REPORT_PLACES = ("import os, tempfile; t = tempfile.gettempdir(); open(os.path.join(t, 'mine'), 'w').write('x');"
                 "print(os.getcwd(), t, sorted(os.listdir(t)))")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def run(runner: LocalRunner, name: str, code: str) -> tuple[TaskState, str]:
    runner.start(TaskSpec(name=name, command=python(code)))
    status = runner.wait(name, timeout=60)
    return status.state, runner.logs(name)


@pytest.fixture
def runner(tmp_path):
    runner = LocalRunner(tmp_path / "tasks", max_parallel=2)
    yield runner
    runner.close()


def test_each_task_has_its_own_directory_and_private_tmpdir(runner, tmp_path):
    for name in ("first", "second"):
        state, output = run(runner, name, REPORT_PLACES)
        assert state is TaskState.SUCCEEDED, output
        cwd, tmp, listing = output.split(maxsplit=2)
        assert cwd == str(tmp_path / "tasks" / name) and tmp == f"{cwd}/tmp"
        assert listing.strip() == "['mine']"   # the other task's file is not in its temp dir


def limited(tmp_path, **limits) -> LocalRunner:
    return LocalRunner(tmp_path / "limited", max_parallel=1, limits=ProcessLimits(**limits))


def test_open_files_limit(tmp_path):
    runner = limited(tmp_path, open_files=32)
    try:
        state, output = run(runner, "files", "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE));"
                                              "[open('/dev/null') for _ in range(64)]")
    finally:
        runner.close()
    assert state is TaskState.FAILED and "(32, 32)" in output and "Too many open files" in output


def test_address_space_limit(tmp_path):
    runner = limited(tmp_path, address_space_bytes=1024 * 1024 * 1024)
    try:
        state, output = run(runner, "memory", "b = bytearray(2 * 1024 ** 3)")
    finally:
        runner.close()
    assert state is TaskState.FAILED and "MemoryError" in output


def test_cpu_time_limit(tmp_path):
    runner = limited(tmp_path, cpu_seconds=1)
    try:
        state, _ = run(runner, "spin", "while True: pass")
    finally:
        runner.close()
    assert state is TaskState.FAILED


def test_no_limits_no_prlimit():
    assert ProcessLimits().command_prefix() == []
    assert ProcessLimits(processes=64).command_prefix()[1:] == ["--nproc=64", "--"]
