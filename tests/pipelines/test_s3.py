"""Artifacts in S3 (a real moto server): the launcher on its own, and whole runs with an s3:// root."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlplatform.pipelines.launcher.manifest import Manifest, Transfer
from tests.pipelines import pipelines
from tests.pipelines.conftest import moto_client

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


LAUNCHER = [sys.executable, "-m", "mlplatform.pipelines.launcher"]


def launcher(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LAUNCHER, *args], capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **env}
    )


def test_launcher_run_downloads_inputs_runs_and_uploads_outputs(moto_s3, tmp_path):
    s3 = moto_client(moto_s3)
    s3.put_object(Bucket="pipelines", Key="in/data.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket="pipelines", Key="in/model/weights.bin", Body=b"w")
    s3.put_object(Bucket="pipelines", Key="in/model/config/c.json", Body=b"{}")
    manifest = Manifest(
        downloads=[
            Transfer("s3://pipelines/in/data.csv", str(tmp_path / "data.csv")),
            Transfer("s3://pipelines/in/model", str(tmp_path / "model")),
        ],
        uploads=[
            Transfer("s3://pipelines/out/result.txt", str(tmp_path / "result.txt")),
            Transfer("s3://pipelines/out/dir", str(tmp_path / "dir")),
            Transfer("s3://pipelines/out/never-written", str(tmp_path / "absent")),
        ],
    )
    script = (
        f"import os; rows = open('{tmp_path}/data.csv').read().count(chr(10)); "
        f"assert os.path.exists('{tmp_path}/model/config/c.json'); "
        f"open('{tmp_path}/result.txt', 'w').write(str(rows)); os.makedirs('{tmp_path}/dir/sub'); "
        f"open('{tmp_path}/dir/sub/x', 'w').write('x')"
    )
    done = launcher(moto_s3, "run", "--manifest", manifest.to_json(), "--", sys.executable, "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert s3.get_object(Bucket="pipelines", Key="out/result.txt")["Body"].read() == b"2"
    assert s3.get_object(Bucket="pipelines", Key="out/dir/sub/x")["Body"].read() == b"x"
    assert "no " in done.stdout  # the optional output nobody wrote is reported, not an error


def test_launcher_run_fails_when_an_input_is_missing_and_uploads_nothing_after_a_failure(moto_s3, tmp_path):
    missing = Manifest(downloads=[Transfer("s3://pipelines/nowhere", str(tmp_path / "x"))])
    done = launcher(moto_s3, "run", "--manifest", missing.to_json(), "--", "true")
    assert done.returncode != 0 and "nowhere" in done.stderr
    failing = Manifest(uploads=[Transfer("s3://pipelines/out/failed.txt", str(tmp_path / "f.txt"))])
    done = launcher(
        moto_s3,
        "run",
        "--manifest",
        failing.to_json(),
        "--",
        "sh",
        "-c",
        f"echo x > {tmp_path}/f.txt; exit 3",
    )
    assert done.returncode == 3
    assert (
        moto_client(moto_s3).list_objects_v2(Bucket="pipelines", Prefix="out/failed.txt").get("KeyCount", 0)
        == 0
    )


def test_pod_launcher_steps_download_then_upload_after_the_exit_code(moto_s3, tmp_path):
    """The two launcher steps a Kubernetes Job runs around the user's container."""
    moto_client(moto_s3).put_object(Bucket="pipelines", Key="pod/in.txt", Body=b"input")
    exit_code = tmp_path / "exit_code"
    manifest = Manifest(
        downloads=[Transfer("s3://pipelines/pod/in.txt", str(tmp_path / "s3/in.txt"))],
        uploads=[Transfer("s3://pipelines/pod/out.txt", str(tmp_path / "s3/out.txt"))],
        exit_code_file=str(exit_code),
    )
    assert launcher(moto_s3, "download", "--manifest", manifest.to_json()).returncode == 0
    assert (tmp_path / "s3/in.txt").read_text() == "input"
    uploader = subprocess.Popen(
        [*LAUNCHER, "upload", "--manifest", manifest.to_json()], env={**os.environ, **moto_s3}
    )
    (tmp_path / "s3/out.txt").write_text("output")
    exit_code.write_text("0\n")
    assert uploader.wait(timeout=30) == 0
    assert moto_client(moto_s3).get_object(Bucket="pipelines", Key="pod/out.txt")["Body"].read() == b"output"


def test_a_whole_run_keeps_its_artifacts_in_s3(moto_s3, start_controller):
    controller = start_controller(artifact_root="s3://pipelines/artifacts", env=moto_s3)
    client = controller.client()
    result = client.create_run_from_pipeline_func(
        pipelines.fraud_detection, arguments={"rows": 200}, enable_caching=False, experiment_name="s3"
    )
    run = controller.wait(result.run_id, timeout=120)
    assert run["state"] == "SUCCEEDED", run["error"]
    artifacts = controller.get(f"/apis/v2beta1/runs/{result.run_id}/artifacts").json()["artifacts"]
    s3 = moto_client(moto_s3)
    assert {a["type"] for a in artifacts} == {"system.Dataset", "system.Model", "system.Metrics"}
    for artifact in artifacts:
        assert artifact["uri"].startswith(f"s3://pipelines/artifacts/{result.run_id}/")
        if artifact["type"] == "system.Metrics":
            continue  # metrics live in the metadata; the file stays unwritten
        key = artifact["uri"][len("s3://pipelines/") :]
        assert s3.list_objects_v2(Bucket="pipelines", Prefix=key)["KeyCount"] >= 1
    metrics = [a for a in artifacts if a["task_name"] == "evaluate"][0]
    assert metrics["metadata"]["accuracy"] > 0.8
