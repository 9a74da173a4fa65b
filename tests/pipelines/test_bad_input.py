"""Bad input gets a 4xx whose message names what is wrong, and nothing half-created stays behind."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from kfp_server_api.exceptions import ApiException

from tests.pipelines import pipelines

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def fraud_spec(tmp_path_factory) -> dict:
    path = pipelines.compile_to(pipelines.fraud_detection, tmp_path_factory.mktemp("ir"))
    return yaml.safe_load(open(path))


def counts(controller) -> tuple[int, int, int]:
    pipelines_ = controller.get("/apis/v2beta1/pipelines", page_size=1000).json().get("total_size", 0)
    runs = controller.get("/apis/v2beta1/runs", page_size=1000).json().get("total_size", 0)
    experiments = controller.get("/apis/v2beta1/experiments", page_size=1000).json().get("total_size", 0)
    return pipelines_, runs, experiments


def create_run(controller, spec: dict, parameters: dict | None = None):
    body = {"display_name": "bad", "pipeline_spec": spec, "runtime_config": {"parameters": parameters or {}}}
    return controller.post("/apis/v2beta1/runs", json=body)


def upload(controller, content: bytes, name: str):
    return controller.post(
        "/apis/v2beta1/pipelines/upload",
        params={"name": name},
        files={"uploadfile": ("pipeline.yaml", content)},
    )


def broken(spec: dict, change) -> dict:
    copied = copy.deepcopy(spec)
    change(copied)
    return copied


def add_cycle(spec):
    spec["root"]["dag"]["tasks"]["preprocess"]["dependentTasks"] = ["evaluate"]


def dangle(spec):
    spec["root"]["dag"]["tasks"]["train"]["inputs"]["artifacts"]["transactions"]["taskOutputArtifact"][
        "producerTask"
    ] = "no-such-task"


def unknown_field(spec):
    spec["root"]["dag"]["tasks"]["train"]["retryPolicyy"] = {}


def missing_component(spec):
    spec["root"]["dag"]["tasks"]["train"]["componentRef"]["name"] = "comp-missing"


@pytest.mark.parametrize(
    "change, words",
    [
        (add_cycle, ["cycle", "preprocess", "evaluate"]),
        (dangle, ["no-such-task"]),
        (unknown_field, ["retryPolicyy"]),
        (missing_component, ["comp-missing", "does not exist"]),
    ],
)
def test_invalid_ir_is_refused_on_upload_and_on_run(controller, fraud_spec, change, words):
    before = counts(controller)
    bad = broken(fraud_spec, change)
    for response in (
        upload(controller, yaml.safe_dump(bad).encode(), f"bad-{change.__name__}"),
        create_run(controller, bad),
    ):
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert all(word in message for word in words), message
    assert counts(controller) == before


def test_not_yaml_and_not_kfp_v2_are_refused(controller):
    before = counts(controller)
    for content, words in (
        (b"\x00\x01 not yaml: [", "not YAML"),
        (b"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n", "schemaVersion"),
    ):
        response = upload(controller, content, "garbage")
        assert response.status_code == 400 and words in response.json()["message"], response.text
    assert counts(controller) == before


@pytest.mark.parametrize(
    "parameters, words",
    [
        ({"rows": "many"}, ["rows", "integer", "str"]),
        ({"margin": True}, ["margin", "number"]),
        ({"rows": 10, "colour": "red"}, ["colour", "unknown"]),
    ],
)
def test_wrong_parameters_are_refused(controller, fraud_spec, parameters, words):
    before = counts(controller)
    response = create_run(controller, fraud_spec, parameters)
    assert response.status_code == 400, response.text
    assert all(word in response.json()["message"] for word in words), response.json()["message"]
    assert counts(controller) == before


def test_missing_required_parameter_is_refused_through_kfp_client(controller, tmp_path):
    client = controller.client()
    before = counts(controller)
    with pytest.raises(ApiException) as raised:
        client.create_run_from_pipeline_func(
            pipelines.every_type, arguments={"text": "x"}, experiment_name="tests"
        )
    assert raised.value.status == 400
    assert "missing required pipeline parameter 'count'" in json.loads(raised.value.body)["message"]
    assert counts(controller)[:2] == before[:2]


def test_unknown_pipeline_run_and_experiment_are_404(controller, fraud_spec):
    client = controller.client()
    for call in (
        lambda: client.get_run("no-such-run"),
        lambda: client.get_pipeline("no-such-pipeline"),
        lambda: client.get_experiment(experiment_id="no-such-experiment"),
        lambda: client.terminate_run("no-such-run"),
        lambda: client.delete_run("no-such-run"),
    ):
        with pytest.raises(ApiException) as raised:
            call()
        assert raised.value.status == 404 and "not found" in raised.value.body
    before = counts(controller)
    reference = {"pipeline_id": "no-such-pipeline", "pipeline_version_id": "no-such-version"}
    response = controller.post(
        "/apis/v2beta1/runs", json={"display_name": "x", "pipeline_version_reference": reference}
    )
    assert response.status_code == 404 and "no-such-version" in response.json()["message"]
    response = controller.post(
        "/apis/v2beta1/runs",
        json={"display_name": "x", "pipeline_spec": fraud_spec, "experiment_id": "no-such-experiment"},
    )
    assert response.status_code == 404 and "no-such-experiment" in response.json()["message"]
    assert counts(controller) == before


def test_bad_list_requests_are_refused(controller):
    for params, words in (
        ({"filter": "{not json"}, "not JSON"),
        ({"sort_by": "colour"}, "colour"),
        ({"page_token": "garbage!"}, "page_token"),
        (
            {"filter": json.dumps({"predicates": [{"key": "owner", "operation": 1, "stringValue": "x"}]})},
            "owner",
        ),
    ):
        response = controller.get("/apis/v2beta1/runs", **params)
        assert response.status_code == 400 and words in response.json()["message"], response.text
