"""KFP semantics the controller once got wrong (issue 12, items 1-7), each through kfp.Client."""

from typing import List

import pytest
from kfp import dsl

from tests.pipelines.conformance.helpers import outputs_of, run_pipeline, succeeded, task
from tests.pipelines.controller import tasks_by_name

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def join(texts: List[str]) -> str:
    return ",".join(texts)


# --- 1. a nested pipeline's input default applies when the parent does not pass the input ---------


@dsl.pipeline
def inner_with_default(texts: List[str] = ["a", "b"]) -> str:  # noqa: B006 - a pipeline default
    with dsl.ParallelFor(texts) as text:
        echoed = echo(text=text)
    return join(texts=dsl.Collected(echoed.output)).output


@dsl.pipeline
def nested_default() -> str:
    return inner_with_default().output


def test_nested_pipeline_input_takes_its_default(controller):
    run = succeeded(run_pipeline(controller, nested_default))
    assert task(run, "inner-with-default")["parameters"]["inputs"]["texts"] == ["a", "b"]
    assert outputs_of(run, "join") == {"Output": "a,b"}
    assert run["pipeline_outputs"]["parameters"]["Output"] == "a,b"


# --- 2. dsl.get_uri() names a place the task can write to ------------------------------------------


@dsl.component
def write_at_task_root() -> dsl.Dataset:
    dataset = dsl.Dataset(uri=dsl.get_uri("table"))
    with open(dataset.path, "w") as file:
        file.write("rows")
    return dataset


@dsl.component
def read_text(data: dsl.Input[dsl.Dataset]) -> str:
    with open(data.path) as file:
        return file.read()


@dsl.pipeline
def task_root_uri() -> str:
    return read_text(data=write_at_task_root().output).output


def test_get_uri_points_at_a_writable_task_root(controller):
    run = succeeded(run_pipeline(controller, task_root_uri))
    assert outputs_of(run, "read-text") == {"Output": "rows"}
    produced = task(run, "write-at-task-root")["outputs"]["Output"]["artifact_ids"][0]
    assert produced.endswith("/table")


# --- 3. a loop item's fields reach an input as its declared type ------------------------------------


@dsl.component
def describe(label: str, size: str) -> str:
    return f"{label}:{size}:{type(size).__name__}"


@dsl.pipeline
def loop_item_fields(rows: List[dict] = [{"label": "a", "size": 1}, {"label": "b", "size": 2}]):  # noqa: B006
    with dsl.ParallelFor(rows) as item:
        describe(label=item.label, size=item.size)


def test_loop_item_fields_are_converted_to_the_declared_type(controller):
    run = succeeded(run_pipeline(controller, loop_item_fields))
    described = sorted(found["parameters"]["outputs"]["Output"] for found in tasks_by_name(run)["describe"])
    assert described == ["a:1:str", "b:2:str"]


# --- 4. the exit task's PipelineTaskFinalStatus and the job resource name, as KFP gives them --------


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}|{status.pipeline_job_resource_name}|{status.error_code}"


@dsl.component
def fail_now():
    raise SystemExit(3)


@dsl.pipeline(name="exit-status-ok")
def exit_after_success():
    with dsl.ExitHandler(report()):
        echo(text=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER)


@dsl.pipeline(name="exit-status-failed")
def exit_after_failure():
    with dsl.ExitHandler(report()):
        fail_now()


def test_exit_task_sees_complete_and_a_resource_name_from_the_pipeline(controller):
    run = succeeded(run_pipeline(controller, exit_after_success))
    state, resource_name, _ = outputs_of(run, "report")["Output"].split("|")
    assert state == "COMPLETE"
    assert resource_name.startswith("exit-status-ok-")
    assert outputs_of(run, "echo") == {"Output": resource_name}


def test_exit_task_sees_failed(controller):
    run = run_pipeline(controller, exit_after_failure)
    assert run["state"] == "FAILED"
    state, resource_name, _ = outputs_of(run, "report")["Output"].split("|")
    assert (state, resource_name.startswith("exit-status-failed-")) == ("FAILED", True)


# --- 5. packages_to_install, from an unreachable pip_index_urls falling back to the configured index


@dsl.component(packages_to_install=["humanize"], pip_index_urls=["http://127.0.0.1:9/simple"])
def needs_a_package(count: int) -> str:
    import humanize

    return humanize.intcomma(count)


@dsl.pipeline
def installs_packages() -> str:
    return needs_a_package(count=1234567).output


@pytest.mark.slow
def test_packages_to_install_are_installed_into_a_cached_task_venv(controller):
    first = succeeded(run_pipeline(controller, installs_packages))
    assert outputs_of(first, "needs-a-package") == {"Output": "1,234,567"}
    log = controller.task_log(first["run_id"], task(first, "needs-a-package")["task_id"])
    assert "unreachable" in log and "installing from the configured index instead" in log
    second = succeeded(run_pipeline(controller, installs_packages))
    assert "packages: reusing" in controller.task_log(
        second["run_id"], task(second, "needs-a-package")["task_id"]
    )


# --- 6. an artifact written at a custom path (Artifact.set_path) reaches its consumer ---------------


@dsl.component
def write_elsewhere(data: dsl.Output[dsl.Dataset]):
    custom = data.uri + "-written-elsewhere"
    with open(custom, "w") as file:
        file.write("from a custom path")
    data.set_path(custom)


@dsl.pipeline
def custom_path() -> str:
    return read_text(data=write_elsewhere().outputs["data"]).output


def test_artifact_set_path_is_found_by_the_consumer(controller):
    run = succeeded(run_pipeline(controller, custom_path))
    assert outputs_of(run, "read-text") == {"Output": "from a custom path"}


# --- 7. PipelineConfig workspace: {{$.workspace_path}} shared by a run's tasks ----------------------


@dsl.component
def write_workspace(workspace_path: str):
    import os

    with open(os.path.join(workspace_path, "shared.txt"), "w") as file:
        file.write("left by the first task")


@dsl.component
def read_workspace(workspace_path: str) -> str:
    import os

    with open(os.path.join(workspace_path, "shared.txt")) as file:
        return file.read()


@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Mi")))
def shared_workspace() -> str:
    written = write_workspace(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER)
    return read_workspace(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER).after(written).output


def test_workspace_placeholder_is_a_directory_shared_by_the_run(controller):
    run = succeeded(run_pipeline(controller, shared_workspace))
    assert outputs_of(run, "read-workspace") == {"Output": "left by the first task"}
    assert task(run, "read-workspace")["parameters"]["inputs"]["workspace_path"].endswith(run["run_id"])


# --- set_env_variable reaches the task ---------------------------------------------------------------


@dsl.component
def read_env() -> str:
    import os

    return os.environ.get("GREETING", "unset")


@dsl.pipeline
def with_env() -> str:
    return read_env().set_env_variable("GREETING", "hello").output


def test_set_env_variable_reaches_the_task(controller):
    run = succeeded(run_pipeline(controller, with_env))
    assert outputs_of(run, "read-env") == {"Output": "hello"}
