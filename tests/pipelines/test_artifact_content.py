"""GET /apis/v2beta1/runs/{run}/tasks/{task}/artifacts/{output}/content: the head of one output artifact, read
by the controller from its S3 artifact root (a real moto server), bounded, with a 4xx naming what is missing."""

from __future__ import annotations

import pytest

from mlplatform.pipelines.api.runs import CONTENT_MAX_BYTES
from tests.pipelines import pipelines
from tests.pipelines.conftest import moto_client

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

API = "/apis/v2beta1"


@pytest.fixture
def finished(moto_s3, start_controller):
    """A controller with an s3:// root and a finished run of file_and_directory: (controller, run id, task id)."""
    controller = start_controller(artifact_root="s3://pipelines/content", env=moto_s3)
    run_id = controller.client().create_run_from_pipeline_func(
        pipelines.file_and_directory, arguments={"kib": 300}, enable_caching=False).run_id
    run = controller.wait(run_id, timeout=120)
    assert run["state"] == "SUCCEEDED", run.get("error")
    task = next(t for t in run["run_details"]["task_details"] if t["display_name"] == "write-outputs")
    return controller, run_id, task["task_id"]


def content(controller, run_id: str, task_id: str, output: str, **params):
    return controller.get(f"{API}/runs/{run_id}/tasks/{task_id}/artifacts/{output}/content", **params)


def test_the_head_of_a_file_artifact_is_read_from_the_store_and_bounded(finished, moto_s3):
    controller, run_id, task_id = finished
    uri = next(a["uri"] for a in controller.get(f"{API}/runs/{run_id}/artifacts").json()["artifacts"]
               if a["output_name"] == "report")
    stored = moto_client(moto_s3).get_object(Bucket="pipelines", Key=uri[len("s3://pipelines/"):])["Body"].read()
    assert len(stored) > CONTENT_MAX_BYTES
    head = content(controller, run_id, task_id, "report", max_bytes=100)
    assert head.status_code == 200 and head.headers["content-type"] == "application/octet-stream"
    assert head.content == stored[:100]
    assert content(controller, run_id, task_id, "report").content == stored[:CONTENT_MAX_BYTES]   # the default
    too_big = content(controller, run_id, task_id, "report", max_bytes=CONTENT_MAX_BYTES + 1)
    assert too_big.status_code == 400 and str(CONTENT_MAX_BYTES) in too_big.json()["message"]


def test_each_missing_piece_is_named(finished, moto_s3):
    controller, run_id, task_id = finished
    cases = [
        (("no-such-run", task_id, "report"), 404, "run no-such-run not found"),
        ((run_id, "no-such-task", "report"), 404, f"task no-such-task not found in run {run_id}"),
        ((run_id, task_id, "nothing"), 404, "has no output artifact 'nothing'; its outputs: folder, report"),
        ((run_id, task_id, "folder"), 409, "is a directory artifact"),
    ]
    for (run, task, output), status, message in cases:
        answer = content(controller, run, task, output)
        assert answer.status_code == status and message in answer.json()["message"], answer.text
    uri = next(a["uri"] for a in controller.get(f"{API}/runs/{run_id}/artifacts").json()["artifacts"]
               if a["output_name"] == "report")
    moto_client(moto_s3).delete_object(Bucket="pipelines", Key=uri[len("s3://pipelines/"):])
    gone = content(controller, run_id, task_id, "report")
    assert gone.status_code == 404 and f"nothing is stored at {uri} in the artifact store" in gone.json()["message"]
