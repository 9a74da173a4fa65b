"""The dashboard without a browser: `mlp serve dashboard`, bad input, unconfigured backends, token forwarding
to a pipeline controller in multi-user mode, and the DAG of compiled pipelines."""

from __future__ import annotations

import contextlib
import html
import subprocess
import sys
import time

import pytest
import requests
import yaml
from fastapi.testclient import TestClient
from kfp import compiler

from mlplatform.dashboard.app import build_app
from mlplatform.dashboard.graph import count_states, spec_graph
from mlplatform.dashboard.settings import Settings
from mlplatform.dashboard.viewer import script_json
from mlplatform.net import free_port, wait_for_http
from tests.dashboard.pipelines import shapes
from tests.pipelines import pipelines as controller_pipelines
from tests.security.multiuser import call
from tests.support.service_process import MLP, ServiceProcess

MLP_CLI = [sys.executable, "-c", "from mlplatform.cli import main; main()"]


def client(**settings) -> TestClient:
    return TestClient(build_app(Settings(**settings)))


def shown(answer) -> str:
    """A page's text as a person reads it (no HTML escapes)."""
    return html.unescape(answer.text)


@contextlib.contextmanager
def served_dashboard(tmp_path, *flags: str):
    """`mlp serve dashboard` with `flags` on a free port, ready; yields its URL."""
    port = free_port()
    process = subprocess.Popen([str(MLP), "serve", "dashboard", "--port", str(port), *flags], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/readyz", timeout=60, what="mlp serve dashboard", alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_dashboard_answers_its_probes_and_names_what_is_not_configured(tmp_path):
    with served_dashboard(tmp_path) as url:
        assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
        page = requests.get(f"{url}/experiments", timeout=5)
        assert page.status_code == 503
        assert "the tuning service is not configured (start the dashboard with --tuning-url URL)" in shown(page)
        page = requests.get(f"{url}/platform", timeout=5)
        assert page.status_code == 503 and "or at least one backend (--pipelines-url" in shown(page)


@pytest.mark.parametrize(("args", "message"), [
    (["--pipelines-url", "localhost:8888"], "'localhost:8888' is not an http:// or https:// URL"),
    (["--endpoints", "no-such.json"], "no-such.json"),
    (["--port", "99999"], "99999"),
])
def test_bad_flags_exit_2_naming_the_problem(tmp_path, args, message):
    result = subprocess.run([*MLP_CLI, "serve", "dashboard", *args], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(("path", "message"), [
    ("/runs?state=BROKEN", "state must be one of PENDING"),
    ("/runs?sort=size", "sort must be one of newest"),
    ("/runs?page_size=0", "page_size must be 1 to 200; got 0"),
    ("/runs?page_size=many", "page_size: Input should be a valid integer"),
    ("/compare?run=a", "compare takes 2 to 10 different runs"),
    ("/compare?" + "&".join(f"run={i}" for i in range(11)), "got 11"),
])
def test_bad_page_input_is_a_400_naming_it(path, message):
    answer = client(pipelines_url="http://127.0.0.1:9").get(path)
    assert answer.status_code == 400 and message in shown(answer)


def test_an_unknown_rollout_action_is_a_404_and_rollouts_need_local_state(tmp_path):
    answer = client(state_dir=tmp_path).post("/rollouts/delete")
    assert answer.status_code == 404 and "unknown rollout action 'delete': use promote or abort" in shown(answer)
    answer = client().get("/rollouts")
    assert answer.status_code == 503 and "the rollout page needs local mode's state" in shown(answer)


def test_a_rollout_action_posted_from_another_site_is_refused(tmp_path):
    answer = client(state_dir=tmp_path).post("/rollouts/promote", headers={"Origin": "https://elsewhere.example"})
    assert answer.status_code == 403 and "from another site (https://elsewhere.example)" in answer.text


def test_a_backend_that_does_not_answer_is_named():
    url = f"http://127.0.0.1:{free_port()}"
    answer = client(pipelines_url=url).get("/runs")
    assert answer.status_code == 502 and f"the pipeline controller at {url} did not answer" in shown(answer)


def test_the_graph_of_a_compiled_pipeline_nests_pipelines_loops_and_conditions(tmp_path):
    package = tmp_path / "shapes.yaml"
    compiler.Compiler().compile(shapes, str(package))
    graph = spec_graph(yaml.safe_load(package.read_text()))
    kinds = {node["name"]: node["kind"] for node in graph["nodes"]}
    assert kinds == {"scoring": "dag", "for-loop-2": "loop", "condition-3": "condition"}
    scoring = next(node for node in graph["nodes"] if node["name"] == "scoring")
    assert [n["id"] for n in scoring["children"]["nodes"]] == ["scoring/make-table", "scoring/score"]
    assert scoring["children"]["edges"] == [["scoring/make-table", "scoring/score"]]
    assert count_states(graph) == {"NOT_STARTED": 4}


def test_task_states_attach_by_path_and_loop_iterations_appear(tmp_path):
    package = tmp_path / "shapes.yaml"
    compiler.Compiler().compile(shapes, str(package))
    tasks = [{"path": "for-loop-2", "state": "RUNNING", "task_id": "l"},
             {"path": "for-loop-2/0", "state": "SUCCEEDED", "task_id": "i0"},
             {"path": "for-loop-2/0/square", "state": "SUCCEEDED", "task_id": "s0"},
             {"path": "for-loop-2/1", "state": "RUNNING", "task_id": "i1"},
             {"path": "for-loop-2/1/square", "state": "RUNNING", "task_id": "s1"}]
    graph = spec_graph(yaml.safe_load(package.read_text()), tasks)
    loop = next(node for node in graph["nodes"] if node["name"] == "for-loop-2")
    assert loop["state"] == "RUNNING"
    assert [(n["name"], n["state"]) for n in loop["children"]["nodes"]] == [("iteration 0", "SUCCEEDED"),
                                                                           ("iteration 1", "RUNNING")]
    assert count_states(graph) == {"NOT_STARTED": 3, "SUCCEEDED": 1, "RUNNING": 1}


def test_json_in_a_page_cannot_close_its_script_element():
    assert "</script>" not in script_json({"name": "</script><script>alert(1)</script>"})


@pytest.fixture(scope="module")
def secured_controller(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("secured-controller")
    tokens = workdir / "tokens.csv"
    tokens.write_text("alice-token,alice,team-a\n")
    service = ServiceProcess("pipelines", workdir, args=["--auth-mode", "token", "--auth-tokens", str(tokens)]).start()
    yield service
    service.stop()


def test_the_viewers_token_reaches_the_api_from_a_header_or_the_pasted_cookie(secured_controller):
    dashboard = client(pipelines_url=secured_controller.url)
    refused = dashboard.get("/runs?namespace=team-a")
    assert refused.status_code == 401 and "paste your token" in shown(refused)
    by_header = dashboard.get("/runs?namespace=team-a", headers={"Authorization": "Bearer alice-token"})
    assert by_header.status_code == 200 and "Runs" in by_header.text
    other_namespace = dashboard.get("/runs?namespace=team-b", headers={"Authorization": "Bearer alice-token"})
    assert other_namespace.status_code == 403
    dashboard.post("/token", data={"token": "alice-token"}, follow_redirects=False)
    assert dashboard.get("/runs?namespace=team-a").status_code == 200


def finished_run(controller, token: str, pipeline, tmp_path, **parameters) -> dict:
    """A run of `pipeline` in team-a, made with `token`, once it has finished."""
    with open(controller_pipelines.compile_to(pipeline, tmp_path)) as package:
        spec = yaml.safe_load(package)
    experiment = call(controller, "POST", "/apis/v2beta1/experiments", token,
                      json={"display_name": f"previews-{time.time_ns()}", "namespace": "team-a"}).json()
    run = call(controller, "POST", "/apis/v2beta1/runs", token, json={
        "display_name": "previews", "experiment_id": experiment["experiment_id"], "pipeline_spec": spec,
        "runtime_config": {"parameters": parameters}}).json()
    deadline = time.monotonic() + 120
    while run["state"] not in ("SUCCEEDED", "FAILED", "CANCELED") and time.monotonic() < deadline:
        time.sleep(0.5)
        run = call(controller, "GET", f"/apis/v2beta1/runs/{run['run_id']}", token).json()
    assert run["state"] == "SUCCEEDED", run
    return run


def test_previews_come_from_the_controller_with_the_viewers_token(secured_controller, tmp_path):
    run = finished_run(secured_controller, "alice-token", controller_pipelines.file_and_directory, tmp_path, kib=1)
    task = next(t for t in run["run_details"]["task_details"] if t["display_name"] == "write-outputs")
    panel = f"/runs/{run['run_id']}/tasks/{task['task_id']}"
    dashboard = client(pipelines_url=secured_controller.url)
    assert dashboard.get(panel).status_code == 401
    answer = dashboard.get(panel, headers={"Authorization": "Bearer alice-token"})
    assert answer.status_code == 200, shown(answer)
    assert "line 0000000" in shown(answer)                     # the file artifact's head, as text
    assert "is a directory artifact" in shown(answer)          # the folder: the controller says why


def test_the_platform_page_checks_the_backends_it_was_given_without_local_state(secured_controller, tmp_path):
    nobody = f"http://127.0.0.1:{free_port()}"
    with served_dashboard(tmp_path, "--pipelines-url", secured_controller.url, "--tuning-url", nobody) as url:
        page = requests.get(f"{url}/platform", timeout=30)
    assert page.status_code == 200, shown(page)
    rows = {row.split("</td>")[0]: row for row in page.text.split("<tr><td>")[1:]}
    assert set(rows) == {"pipeline-controller", "tuning-service"}
    assert "passed" in rows["pipeline-controller"] and f"GET {secured_controller.url}/readyz: 200" in rows[
        "pipeline-controller"]
    assert "failed" in rows["tuning-service"] and f"GET {nobody}/readyz: connection refused" in rows["tuning-service"]
