"""Where a run's artifacts come from and go (issue 12, item 4), through kfp.Client: a run-level
pipeline_root, package_url, pipeline-level input artifacts, importers from s3/minio/http/file URIs."""

import pytest
from kfp import dsl
from kfp_server_api.exceptions import ApiException

from tests.pipelines.conformance.helpers import outputs_of, run_pipeline, succeeded, task
from tests.pipelines.conftest import moto_client
from tests.pipelines.controller import Controller

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def io_controller(tmp_path_factory, moto_s3) -> Controller:
    """A controller whose default root is local but which reaches S3 (moto) for runs that ask for it."""
    service = Controller(tmp_path_factory.mktemp("io-controller"), env=moto_s3).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), service.logs()[-6000:]


@dsl.component
def write_text(text: str, data: dsl.Output[dsl.Dataset]):
    with open(data.path, "w") as file:
        file.write(text)


@dsl.component
def read_text(data: dsl.Input[dsl.Dataset]) -> str:
    with open(data.path) as file:
        return file.read()


@dsl.pipeline
def write_then_read(text: str = "hello") -> str:
    return read_text(data=write_text(text=text).outputs["data"]).output


def produced_uri(run: dict) -> str:
    return task(run, "write-text")["outputs"]["data"]["artifact_ids"][0]


# --- run-level pipeline_root ---------------------------------------------------------------------------


def test_run_pipeline_root_local_directory(io_controller, tmp_path):
    run = succeeded(run_pipeline(io_controller, write_then_read, pipeline_root=str(tmp_path)))
    assert outputs_of(run, "read-text") == {"Output": "hello"}
    uri = produced_uri(run)
    assert uri.startswith(f"{tmp_path}/{run['run_id']}/")
    assert open(uri).read() == "hello"


@pytest.mark.parametrize("scheme", ["s3", "minio"])
def test_run_pipeline_root_object_store(io_controller, moto_s3, scheme):
    run = succeeded(
        run_pipeline(io_controller, write_then_read, {"text": scheme}, pipeline_root=f"{scheme}://pipelines/runs")
    )
    assert outputs_of(run, "read-text") == {"Output": scheme}
    uri = produced_uri(run)
    assert uri.startswith(f"s3://pipelines/runs/{run['run_id']}/")
    body = moto_client(moto_s3).get_object(Bucket="pipelines", Key=uri[len("s3://pipelines/") :])["Body"]
    assert body.read() == scheme.encode()


@pytest.mark.parametrize(
    "root, named", [("gs://bucket/x", "scheme is not supported"), ("relative/dir", "relative path")]
)
def test_bad_run_pipeline_root_is_a_400_naming_it(io_controller, root, named):
    with pytest.raises(ApiException) as raised:
        run_pipeline(io_controller, write_then_read, pipeline_root=root)
    assert raised.value.status == 400
    assert root in raised.value.body and named in raised.value.body
