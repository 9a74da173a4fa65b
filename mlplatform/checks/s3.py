"""`s3`: write, read back and delete an object in the platform's S3 (MinIO; moto locally)."""

from __future__ import annotations

import uuid

import botocore.exceptions

from mlplatform.checks.base import Check, CheckContext, CheckResult

PREFIX = "mlplatform-validate/"


def probe_bucket(context: CheckContext) -> str:
    """The bucket to write to: the first the platform created."""
    buckets = context.endpoints.extra.get("buckets") or context.config.hook("register").get("buckets") or []
    return buckets[0] if buckets else "mlpipeline"


class S3RoundTripCheck(Check):
    name = "s3"
    description = "an S3 write, read and delete"

    def skip_reason(self, context: CheckContext) -> str | None:
        return None if context.endpoints.has("minio") else "no S3 endpoint in this platform"

    def run(self, context: CheckContext) -> list[CheckResult]:
        bucket = probe_bucket(context)
        key = PREFIX + uuid.uuid4().hex
        body = uuid.uuid4().bytes
        s3 = context.config.s3()
        step = "write"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            step = "read"
            if s3.get_object(Bucket=bucket, Key=key)["Body"].read() != body:
                return [self.failed("minio", f"s3://{bucket}/{key}: read back different bytes than written")]
            step = "delete"
            s3.delete_object(Bucket=bucket, Key=key)
            if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0):
                return [self.failed("minio", f"s3://{bucket}/{key}: still listed after delete")]
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            return [self.failed("minio", f"{step} s3://{bucket}/{key}: {code} "
                                         f"{error.response.get('Error', {}).get('Message', '')}".strip())]
        except botocore.exceptions.EndpointConnectionError:
            return [self.failed("minio", f"{step} s3://{bucket}: cannot connect to {context.endpoints.url('minio')}")]
        except botocore.exceptions.BotoCoreError as error:
            return [self.failed("minio", f"{step} s3://{bucket}/{key}: {error}")]
        return [self.passed("minio", f"s3://{bucket}: write, read, delete")]
