"""S3: moto's server stands in for MinIO (component `minio`)."""

from __future__ import annotations

from mlplatform.local.components.base import HOST, Launch, PlannedProcess, local_url, new_port
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

NAME = "minio"
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
BUCKETS = ("mlpipeline", "mlflow", "models")   # hooks.register.buckets' default (contracts §6)
MLFLOW_BUCKET = "mlflow"
PIPELINE_BUCKET = "mlpipeline"


def client_env(url: str) -> dict[str, str]:
    """The variables every process uses to reach S3 (contracts §3)."""
    return {
        "MLP_S3_ENDPOINT": url,
        "MLFLOW_S3_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret_access_key"],
        "AWS_DEFAULT_REGION": CREDENTIALS["region"],
    }


def plan(launch: Launch) -> PlannedProcess:
    port = new_port()
    url = local_url(port)
    command = [str(require_binary("moto_server")), "-H", HOST, "-p", str(port)]
    spec = ProcessSpec(name=NAME, command=command, health_url=f"{url}/moto-api/",
                       cwd=launch.state.workdir(NAME))
    return PlannedProcess(spec=spec, url=url)


def create_buckets(url: str) -> list[str]:
    from mlplatform.s3 import s3_client

    s3 = s3_client(url, credentials=CREDENTIALS)
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket)
    return list(BUCKETS)
