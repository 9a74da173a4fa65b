"""An S3 client for MinIO in a cluster and moto in local mode.

Credentials come from boto3's usual chain, normally AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which
the charts fill from the MinIO secret and local mode sets for moto. The endpoint comes from Endpoints ("minio") or MLP_S3_ENDPOINT.
"""

from __future__ import annotations

import os

import boto3
from botocore.config import Config


def s3_client(endpoint_url: str | None = None, credentials: dict | None = None):
    """`credentials`: local mode's `extra.s3` ({access_key_id, secret_access_key, region}); else boto3's chain."""
    endpoint_url = endpoint_url or os.environ.get("MLP_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    credentials = credentials or {}
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.get("access_key_id"),
        aws_secret_access_key=credentials.get("secret_access_key"),
        region_name=credentials.get("region") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


def split_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key/path -> ("bucket", "key/path")."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key
