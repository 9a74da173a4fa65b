"""The local runner runs real subprocesses: results, logs, limits, cancellation, deadlines, re-attach."""

import os
import signal
import sys
import time

import pytest

from mlplatform.runners import TaskNotFound, TaskSpec, TaskState
from mlplatform.runners.local import LocalRunner


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie (PID 1 in a container may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def runner(tmp_path):
    runner = LocalRunner(tmp_path / "tasks", max_parallel=2)
    yield runner
    for name in runner.names():
        runner.cancel(name)
    runner.close()


def test_success_records_exit_code_and_logs(runner):
    runner.start(TaskSpec(name="hello", command=python("print('hello'); import sys; print('err', file=sys.stderr)")))
    status = runner.wait("hello", timeout=30)
    assert status.state is TaskState.SUCCEEDED
    assert status.exit_code == 0
    assert status.started_at is not None and status.finished_at >= status.started_at
    assert "hello" in runner.logs("hello") and "err" in runner.logs("hello")


def test_failure_keeps_the_exit_code(runner):
    runner.start(TaskSpec(name="boom", command=python("raise SystemExit(7)")))
    status = runner.wait("boom", timeout=30)
    assert (status.state, status.exit_code, status.reason) == (TaskState.FAILED, 7, "Error")


def test_env_and_workdir_reach_the_task(runner, tmp_path):
    runner.start(TaskSpec(name="env", command=python("import os; print(os.environ['GREETING'], os.getcwd())"),
                          env={"GREETING": "hi"}, workdir=str(tmp_path)))
    runner.wait("env", timeout=30)
    assert runner.logs("env").split() == ["hi", str(tmp_path)]


def test_at_most_max_parallel_tasks_run_at_once(runner, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    code = (
        "import os, sys, time; d=sys.argv[1]; n=sys.argv[2];"
        "open(os.path.join(d, n + '.start'), 'w').write(str(time.time())); time.sleep(0.4);"
        "open(os.path.join(d, n + '.end'), 'w').write(str(time.time()))"
    )
    for i in range(5):
        runner.start(TaskSpec(name=f"t{i}", command=[sys.executable, "-c", code, str(marks), f"t{i}"]))
    for i in range(5):
        assert runner.wait(f"t{i}", timeout=30).state is TaskState.SUCCEEDED
    spans = [(float((marks / f"t{i}.start").read_text()), float((marks / f"t{i}.end").read_text())) for i in range(5)]
    most_overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert most_overlapping == 2


def test_queued_tasks_are_pending_and_counted(tmp_path):
    runner = LocalRunner(tmp_path, max_parallel=1)
    runner.start(TaskSpec(name="first", command=["sleep", "5"]))
    runner.start(TaskSpec(name="second", command=["true"]))
    time.sleep(0.3)
    assert runner.status("second").state is TaskState.PENDING
    assert runner.queue_depth() == 1
    runner.cancel("second")
    runner.cancel("first")
    assert runner.status("first").state is TaskState.CANCELLED
    assert runner.wait("second", timeout=10).state is TaskState.CANCELLED
    runner.close()


def test_cancel_kills_the_whole_process_group(runner, tmp_path):
    pid_file = tmp_path / "child.pid"
    runner.start(TaskSpec(name="tree", command=["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"]))
    deadline = time.time() + 10
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    runner.cancel("tree")
    assert runner.wait("tree", timeout=10).state is TaskState.CANCELLED
    time.sleep(0.2)
    assert not running(child)


def test_deadline_fails_the_task(runner):
    runner.start(TaskSpec(name="slow", command=["sleep", "30"], timeout_seconds=0.5))
    status = runner.wait("slow", timeout=30)
    assert (status.state, status.reason) == (TaskState.FAILED, "DeadlineExceeded")


def test_a_new_runner_reattaches_to_tasks_started_by_a_dead_one(tmp_path):
    first = LocalRunner(tmp_path, max_parallel=1)
    first.start(TaskSpec(name="survivor", command=python("import time; time.sleep(1); raise SystemExit(3)")))
    while first.status("survivor").state is not TaskState.RUNNING:
        time.sleep(0.05)
    first.close()  # the first runner is gone; its task is not

    second = LocalRunner(tmp_path, max_parallel=1)
    assert second.names() == ["survivor"]
    assert second.status("survivor").state is TaskState.RUNNING
    status = second.wait("survivor", timeout=30)
    assert (status.state, status.exit_code) == (TaskState.FAILED, 3)


def test_a_task_killed_without_exit_code_is_reported_lost(tmp_path):
    first = LocalRunner(tmp_path, max_parallel=1)
    first.start(TaskSpec(name="victim", command=["sleep", "60"]))
    while first.status("victim").state is not TaskState.RUNNING:
        time.sleep(0.05)
    pid = int((tmp_path / "victim" / "pid").read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)
    time.sleep(0.2)
    second = LocalRunner(tmp_path, max_parallel=1)
    status = second.status("victim")
    assert (status.state, status.reason) == (TaskState.FAILED, "Lost")


def test_names_are_unique_and_unknown_names_are_reported(runner):
    runner.start(TaskSpec(name="once", command=["true"]))
    with pytest.raises(ValueError, match="already exists"):
        runner.start(TaskSpec(name="once", command=["true"]))
    with pytest.raises(TaskNotFound):
        runner.status("never")
    runner.wait("once", timeout=10)
    runner.delete("once")
    with pytest.raises(TaskNotFound):
        runner.status("once")


@pytest.mark.parametrize("name", ["Upper", "under_score", "x" * 64, "-lead"])
def test_task_names_must_be_dns_labels(name):
    with pytest.raises(ValueError, match="DNS-1123"):
        TaskSpec(name=name, command=["true"])
