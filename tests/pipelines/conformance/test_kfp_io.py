"""Where a run's artifacts come from and go (issue 12, item 4), through kfp.Client: a run-level
pipeline_root, package_url, pipeline-level input artifacts, importers from s3/minio/http/file URIs."""

from pathlib import Path

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
    assert Path(uri).read_text() == "hello"


@pytest.mark.parametrize("scheme", ["s3", "minio"])
def test_run_pipeline_root_object_store(io_controller, moto_s3, scheme):
    run = succeeded(
        run_pipeline(
            io_controller, write_then_read, {"text": scheme}, pipeline_root=f"{scheme}://pipelines/runs"
        )
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


# --- dsl.importer from s3://, minio://, http(s):// and file:// ----------------------------------------


@pytest.fixture(scope="module")
def http_files(tmp_path_factory):
    """A local HTTP server over a directory: (the directory, its base URL)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    served = tmp_path_factory.mktemp("served")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@dsl.pipeline
def import_and_read(uri: str) -> str:
    imported = dsl.importer(artifact_uri=uri, artifact_class=dsl.Dataset)
    return read_text(data=imported.output).output


def importable_uri(scheme: str, moto_s3, http_files, tmp_path) -> str:
    """A URI of the given scheme whose content is f"via {scheme}"."""
    content = f"via {scheme}".encode()
    if scheme in ("s3", "minio"):
        moto_client(moto_s3).put_object(Bucket="pipelines", Key=f"imports/{scheme}.txt", Body=content)
        return f"{scheme}://pipelines/imports/{scheme}.txt"
    if scheme == "http":
        (http_files[0] / "data.txt").write_bytes(content)
        return f"{http_files[1]}/data.txt"
    (tmp_path / "data.txt").write_bytes(content)
    return f"file://{tmp_path}/data.txt"


@pytest.mark.parametrize("scheme", ["s3", "minio", "http", "file"])
def test_importer_consumer_reads_the_content(io_controller, moto_s3, http_files, tmp_path, scheme):
    uri = importable_uri(scheme, moto_s3, http_files, tmp_path)
    run = succeeded(run_pipeline(io_controller, import_and_read, {"uri": uri}))
    assert outputs_of(run, "read-text") == {"Output": f"via {scheme}"}
    assert task(run, "importer")["outputs"]["artifact"]["artifact_ids"] == [uri]


def test_importer_of_an_unknown_scheme_fails_naming_it(io_controller):
    run = run_pipeline(io_controller, import_and_read, {"uri": "gs://bucket/data.txt"})
    assert run["state"] == "FAILED"
    assert "gs://bucket/data.txt" in task(run, "importer")["error"]["message"]


# --- package_url on pipeline version creation -------------------------------------------------------


def create_version_from_url(controller: Controller, url: str):
    """What kfp_server_api sends for a version whose package is at a URL (kfp 2.17's upload_pipeline_version
    takes only a file, so the client's own PipelineServiceApi is called)."""
    import uuid

    import kfp_server_api

    client = controller.client()
    name = f"from-url-{uuid.uuid4().hex[:8]}"
    pipeline = client.upload_pipeline_from_pipeline_func(write_then_read, pipeline_name=name)
    body = kfp_server_api.V2beta1PipelineVersion(
        display_name="fetched", package_url=kfp_server_api.V2beta1Url(pipeline_url=url)
    )
    return client._pipelines_api.pipeline_service_create_pipeline_version(pipeline.pipeline_id, body), client


def test_pipeline_version_from_package_url_runs(io_controller, http_files, tmp_path):
    from kfp import compiler

    compiler.Compiler().compile(write_then_read, str(http_files[0] / "pipeline.yaml"))
    version, client = create_version_from_url(io_controller, f"{http_files[1]}/pipeline.yaml")
    started = client.run_pipeline(
        experiment_id=client.create_experiment("conformance").experiment_id,
        job_name="from-package-url",
        params={"text": "fetched"},
        pipeline_id=version.pipeline_id,
        version_id=version.pipeline_version_id,
        enable_caching=False,
    )
    run = succeeded(io_controller.wait(started.run_id))
    assert outputs_of(run, "read-text") == {"Output": "fetched"}


@pytest.mark.parametrize(
    "path, status, named",
    [
        ("/missing.yaml", 400, "cannot be fetched"),
        ("/junk.yaml", 400, "not"),
        ("/huge.yaml", 413, "over the limit"),
    ],
)
def test_bad_package_url_is_an_error_naming_it(io_controller, http_files, path, status, named):
    (http_files[0] / "junk.yaml").write_text("just a string")
    with open(http_files[0] / "huge.yaml", "wb") as file:
        file.truncate(33 * 1024 * 1024)  # sparse: over the 32 MiB package limit
    with pytest.raises(ApiException) as raised:
        create_version_from_url(io_controller, http_files[1] + path)
    assert raised.value.status == status
    assert http_files[1] + path in raised.value.body and named in raised.value.body


# --- pipeline-level input artifacts: the run gives the artifact's URI ---------------------------------


@dsl.pipeline
def reads_an_input_dataset(data: dsl.Input[dsl.Dataset]) -> str:
    return read_text(data=data).output


@pytest.mark.parametrize("scheme", ["s3", "file"])
def test_pipeline_input_artifact_from_a_uri(io_controller, moto_s3, http_files, tmp_path, scheme):
    uri = importable_uri(scheme, moto_s3, http_files, tmp_path)
    run = succeeded(run_pipeline(io_controller, reads_an_input_dataset, {"data": uri}))
    assert outputs_of(run, "read-text") == {"Output": f"via {scheme}"}
    assert task(run, "read-text")["inputs"]["data"]["artifact_ids"] == [uri]


@pytest.mark.parametrize(
    "arguments, named",
    [({}, "missing pipeline input artifact 'data'"), ({"data": "gs://b/k"}, "cannot import 'gs://b/k'")],
)
def test_bad_pipeline_input_artifact_is_a_400_naming_it(io_controller, arguments, named):
    with pytest.raises(ApiException) as raised:
        run_pipeline(io_controller, reads_an_input_dataset, arguments)
    assert raised.value.status == 400 and named in raised.value.body


# --- the pipeline-level caching default (kfp 2.17: KFP_DISABLE_EXECUTION_CACHING_BY_DEFAULT) -------------


@dsl.component
def stamp() -> str:
    import uuid

    return uuid.uuid4().hex


def stamping_pipeline(caching_default: bool, monkeypatch):
    """A pipeline compiled as `kfp dsl compile --disable-execution-caching-by-default` does, or not."""
    from kfp.dsl import pipeline_context

    monkeypatch.setattr(pipeline_context.Pipeline, "_execution_caching_default", caching_default)

    @dsl.pipeline(name=f"stamps-caching-{caching_default}".lower())
    def stamps() -> str:
        return stamp().output

    return stamps


@pytest.mark.parametrize("caching_default", [False, True])
def test_pipeline_level_caching_default_is_honoured(io_controller, monkeypatch, caching_default):
    pipeline = stamping_pipeline(caching_default, monkeypatch)
    first, second = (succeeded(run_pipeline(io_controller, pipeline, enable_caching=None)) for _ in range(2))
    assert (outputs_of(first, "stamp") == outputs_of(second, "stamp")) is caching_default
    assert bool(task(second, "stamp").get("cached")) is caching_default


def test_pod_tasks_get_imports_downloaded_into_their_s3_volume(tmp_path):
    """The Kubernetes layout: s3:// stays as KFP gives it, minio and http are downloaded under /s3."""
    from mlplatform.pipelines.artifacts import ArtifactRoot
    from mlplatform.pipelines.engine.layout import PodLayout

    layout = PodLayout(ArtifactRoot("s3://pipelines/root"), tmp_path)
    uris = ["s3://pipelines/a.txt", "minio://pipelines/b.txt", "http://example.test/c.txt"]
    inputs = {"data": [{"name": "data", "type": {}, "uri": uri, "metadata": {}} for uri in uris]}
    files = layout.prepare("task", 1, {"inputDefinitions": {}}, {}, inputs, {}, "run")
    seen = [item["uri"] for item in files.executor_input["inputs"]["artifacts"]["data"]["artifacts"]]
    assert seen == [
        uris[0],
        "/s3/.mlp-imports/minio/pipelines/b.txt",
        "/s3/.mlp-imports/http/example.test/c.txt",
    ]
    assert [(item.uri, item.path) for item in files.staging.downloads] == [
        (uris[0], "/s3/pipelines/a.txt"),
        (uris[1], seen[1]),
        (uris[2], seen[2]),
    ]
