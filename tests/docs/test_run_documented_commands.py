"""The docs' local-mode commands, run literally as a reader runs them, and checked against what the text says.

Every `run` block (tests/support/docs.py) is run line by line with bash, with the virtualenv first on PATH
(as after `source .venv/bin/activate`) and default options: in a fresh empty directory and (all but the longest) in the
checkout's root. The files the doc tells the reader to save (`file=` blocks) are saved first. A line
ending in `&` runs in the background, as the doc says; when it names a `--port`, the next line waits for
that port, as a reader waits for the server's "running" line. Each line must exit 0, and EXPECTED says
what else it must have done. Another test makes sure no local-mode command of the docs is left out.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.docs import DOCS, ROOT, blocks, code_lines

LOCAL_MODE = re.compile(r"^mlp (local|serve|demo|traffic)\b|^mlp .*--local\b|^curl .*localhost")
PORT = re.compile(r"--port (\d+)")
RUNNABLE_DOCS = [doc for doc in DOCS if any(block.runs for block in blocks(doc))]
CHECKOUT_PLATFORM = ROOT / ".mlplatform" / "processes.json"


class Session:
    """A reader's shell session in `cwd`: foreground lines, background jobs, and what each printed."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.env = {**os.environ, "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), os.environ["PATH"]])}
        self.background: list[subprocess.Popen] = []
        self.results: dict[str, subprocess.CompletedProcess] = {}

    def save_files(self, doc: str) -> None:
        for block in blocks(doc):
            if "file" in block.options:
                (self.cwd / block.options["file"]).write_text(block.text)

    def run(self, command: str) -> None:
        if command.endswith("&"):
            self._start(command.removesuffix("&").strip())
            return
        result = subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True,
                                timeout=900, check=False)
        self.results[command] = result
        assert result.returncode == 0, f"`{command}` in {self.cwd} exited {result.returncode}:\n" \
                                       f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n{self.background_logs()}"

    def _start(self, command: str) -> None:
        log = (self.cwd / f".doc-job-{len(self.background)}.log").open("wb")
        process = subprocess.Popen(["bash", "-c", command], cwd=self.cwd, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.background.append(process)
        if port := PORT.search(command):
            wait_for_port(int(port.group(1)), process, command)

    def background_logs(self) -> str:
        return "\n".join(f"--- background job {index} ---\n{path.read_text(errors='replace')[-2000:]}"
                         for index, path in enumerate(sorted(self.cwd.glob(".doc-job-*.log"))))

    def close(self) -> None:
        for process in self.background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        subprocess.run(["bash", "-c", "mlp local down"], cwd=self.cwd, env=self.env, capture_output=True, check=False)


def wait_for_port(port: int, process: subprocess.Popen, command: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`{command}` exited {process.returncode} before it listened on {port}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"`{command}` did not listen on port {port} within {timeout}s")


def wait_for_experiment(url: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(url, timeout=10).json()["status"]
        done = {item["type"] for item in status.get("conditions", []) if item["status"] == "True"}
        if done & {"Succeeded", "Failed"}:
            return status
        time.sleep(1)
    raise AssertionError(f"{url} did not finish within {timeout}s")


# --- what each line must have done, beyond exiting 0 --------------------------------------------------------


def local_up(session: Session, result) -> None:
    endpoints = session.cwd / ".mlplatform" / "endpoints.json"
    assert endpoints.exists(), f"no {endpoints}: the state dir is not relative to the working directory"
    assert "pipeline-controller" in result.stdout and "http://127.0.0.1:" in result.stdout


def local_status(session: Session, result) -> None:
    rows = [line for line in result.stdout.splitlines() if line.strip()]
    assert rows and all("healthy" in line or "not started" in line for line in rows), result.stdout


def local_down(session: Session, result) -> None:
    assert "stopped" in result.stdout and not (session.cwd / ".mlplatform" / "processes.json").exists()


def experiment_created(session: Session, result) -> None:
    assert '"kind":"Experiment"' in result.stdout.replace(" ", "") and '"random"' in result.stdout, result.stdout


def experiment_shown(session: Session, result) -> None:
    assert '"status"' in result.stdout and '"conditions"' in result.stdout, result.stdout


def trials_listed(session: Session, result) -> None:
    assert '"TrialList"' in result.stdout, result.stdout


def kubectl_created(session: Session, result) -> None:
    assert result.stdout.strip() == "experiment.kubeflow.org/random created", result.stdout + result.stderr


def kubectl_listed(session: Session, result) -> None:
    assert result.stdout.splitlines()[0].split()[:2] == ["NAME", "TYPE"], result.stdout
    assert "experiment.kubeflow.org/random" in result.stdout, result.stdout


def tuning_experiment_succeeds(session: Session) -> None:
    status = wait_for_experiment("http://127.0.0.1:8585/api/v1/experiments/random")
    assert status["trialsSucceeded"] == 4, status
    assert (session.cwd / "tuning.db").exists() and (session.cwd / ".mlplatform" / "tuning").is_dir()


def pipeline_succeeded(session: Session, result) -> None:
    assert result.stdout.strip().splitlines()[-1] == "SUCCEEDED", result.stdout + result.stderr
    assert any((session.cwd / "artifacts").rglob("*")), "no artifacts under ./artifacts"
    assert (session.cwd / "pipelines.db").exists()


def demo_finished(session: Session, result) -> None:
    assert "demo finished" in result.stdout and "models:/fraud/2" in result.stdout, result.stdout


def rollout_promoted(session: Session, result) -> None:
    assert "promoted" in result.stdout and "models:/fraud/1" in result.stdout, result.stdout


def status_promoted(session: Session, result) -> None:
    assert "last rollout: promoted" in result.stdout and "stable: fraud models:/fraud/1" in result.stdout, \
        result.stdout


EXPECTED = {
    "mlp local up": local_up,
    "mlp local status": local_status,
    "mlp local down": local_down,
    "curl -X POST --data-binary @experiment.yaml -H 'Content-Type: application/yaml' localhost:8585/api/v1/experiments":
        experiment_created,
    "curl localhost:8585/api/v1/experiments/random": experiment_shown,
    "curl localhost:8585/api/v1/experiments/random/trials": trials_listed,
    "kubectl --kubeconfig .mlplatform/kubeconfig apply -f experiment.yaml": kubectl_created,
    "kubectl --kubeconfig .mlplatform/kubeconfig get experiments,trials": kubectl_listed,
    "python hello_pipeline.py": pipeline_succeeded,
    "mlp demo": demo_finished,
    "mlp canary rollout --local --version models:/fraud/1 --steps 50,100": rollout_promoted,
    "mlp canary status --local": status_promoted,
}
AFTERWARDS = {"docs/tuning.md": tuning_experiment_succeeds}


def test_every_local_mode_command_of_the_docs_is_run():
    run = {command for doc in DOCS for block in blocks(doc) if block.runs for command in block.commands()}
    run = {command.removesuffix("&").strip() for command in run}
    left_out = [f"{doc}: {line}" for doc in DOCS for line in code_lines(doc) if LOCAL_MODE.search(line)
                and line not in run and "--check team-policy" not in line]   # plugins.md: needs the reader's plugin
    assert not left_out, "local-mode commands in the docs that no test runs (put them in a `run` block):\n" + \
        "\n".join(left_out)


# Every doc is run in a fresh directory and in the checkout, but for docs/canary.md: its scenario (the demo,
# traffic, a rollout) takes 2.5 minutes, and `.ci/run` runs its first and longest command, the demo, in the clone.
CHECKOUT_TOO = [doc for doc in RUNNABLE_DOCS if doc != "docs/canary.md"]


def fixed_ports(doc: str) -> bool:
    """The doc's commands use fixed ports (`--port 8888`, `localhost:8585`): the defaults of `mlp serve`."""
    return any(PORT.search(command) or "localhost:" in command
               for block in blocks(doc) if block.runs for command in block.commands())


def canary_rollout(doc: str) -> bool:
    return any(command.startswith(("mlp demo", "mlp canary rollout"))
               for block in blocks(doc) if block.runs for command in block.commands())


def xdist_group(doc: str, place: str) -> list:
    """Under pytest-xdist, runs in the checkout's root or on a fixed port share one group (one worker, one at a
    time) with tests/cli/test_serve_defaults.py; the demo and a canary rollout under traffic share the "demo" group
    with tests/demo (tests/README.md); the other fresh-directory runs take free ports and run anywhere."""
    if place == "checkout" or fixed_ports(doc):
        return [pytest.mark.xdist_group("default-ports-and-checkout")]
    # The whole demo and a rollout: 3 to 6 minutes on a busy machine; more than pytest's default 600 s must
    # not end it half-way (each command has its own 900 s limit).
    return [pytest.mark.xdist_group("demo"), pytest.mark.timeout(1500)] if canary_rollout(doc) else []


PLACES = [pytest.param(doc, "fresh-directory", id=f"fresh-directory-{doc}", marks=xdist_group(doc, "fresh-directory"))
          for doc in RUNNABLE_DOCS] + \
         [pytest.param(doc, "checkout", id=f"checkout-{doc}", marks=xdist_group(doc, "checkout")) for doc in CHECKOUT_TOO]


@pytest.fixture
def session(request, tmp_path):
    place = request.node.callspec.params["place"]
    if place == "checkout":
        if CHECKOUT_PLATFORM.exists():
            pytest.skip(f"a local platform of yours runs in {CHECKOUT_PLATFORM.parent}")
        before = set(os.listdir(ROOT))
        session = Session(ROOT)
    else:
        session = Session(tmp_path)
    yield session
    session.close()
    if place == "checkout":
        for name in set(os.listdir(ROOT)) - before:
            subprocess.run(["rm", "-rf", str(ROOT / name)], check=True)


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "place"), PLACES)
def test_documented_local_commands_do_what_the_doc_says(doc, place, session):
    session.save_files(doc)
    for block in blocks(doc):
        if not block.runs:
            continue
        for command in block.commands():
            session.run(command)
            if command in EXPECTED:
                EXPECTED[command](session, session.results[command])
    if doc in AFTERWARDS:
        AFTERWARDS[doc](session)
