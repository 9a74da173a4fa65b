"""Copying artifacts (files or directories) between S3 and local paths; importing from http(s)://."""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path

from mlplatform.s3 import split_uri

HTTP_TIMEOUT_SECONDS = 60


def s3_uri(uri: str) -> str:
    """minio:// names the platform's MinIO, which is reached as S3."""
    return "s3://" + uri[len("minio://") :] if uri.startswith("minio://") else uri


def download(s3, uri: str, path: str) -> int:
    """Fetch the object at `uri` (s3://, minio:// or http(s)://), or every object under an S3 `uri/`, to
    `path`; returns the files written."""
    if uri.startswith(("http://", "https://")):
        return _download_http(uri, path)
    bucket, key = split_uri(s3_uri(uri))
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
        return 1
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
            raise
    count = 0
    prefix = key.rstrip("/") + "/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            destination = target / item["Key"][len(prefix) :]
            destination.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(destination))
            count += 1
    if count == 0:
        raise FileNotFoundError(f"input artifact {uri} does not exist")
    return count


def upload(s3, path: str, uri: str) -> int:
    """Send a file to `uri`, or each file of a directory under `uri/`; returns the files sent (0: absent)."""
    bucket, key = split_uri(uri)
    source = Path(path)
    if source.is_file():
        s3.upload_file(str(source), bucket, key)
        return 1
    count = 0
    if source.is_dir():
        for directory, _, files in os.walk(source):
            for name in sorted(files):
                local = Path(directory) / name
                s3.upload_file(
                    str(local), bucket, f"{key.rstrip('/')}/{local.relative_to(source).as_posix()}"
                )
                count += 1
    return count


def _download_http(uri: str, path: str) -> int:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(uri, timeout=HTTP_TIMEOUT_SECONDS) as response, open(path, "wb") as file:
            shutil.copyfileobj(response, file)
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise FileNotFoundError(f"input artifact {uri} cannot be fetched: {error}") from None
    return 1
