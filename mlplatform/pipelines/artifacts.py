"""Where a controller keeps artifacts: a local directory or an S3 prefix (`--artifact-root`).

Artifact URIs follow KFP: <root>/<run id>/<task path>/<output name>. Local roots give absolute paths
(the kfp SDK uses a non-remote URI as the path itself); S3 roots give s3:// URIs.
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path

from mlplatform.errors import ConfigError
from mlplatform.pipelines.launcher.transfer import s3_uri, upload
from mlplatform.s3 import s3_client, split_uri

REMOTE_SCHEMES = ("s3://", "minio://", "http://", "https://")
IMPORTABLE = (*REMOTE_SCHEMES, "file://")


def import_problem(uri: str, what: str) -> str | None:
    """Why a task cannot read the artifact at `uri` (an importer's or a pipeline input's), None when it can."""
    if not isinstance(uri, str) or not uri:
        return f"{what} needs an artifact URI (a string), not {uri!r}"
    if "://" in uri and not uri.startswith(IMPORTABLE):
        return f"{what}: cannot import {uri!r}; use s3://, minio://, http(s)://, file:// or a path"
    return None


def root_problem(root: str, what: str = "--artifact-root") -> str | None:
    """Why `root` cannot be an artifact root (None when it can): an absolute directory or s3://bucket/prefix."""
    if root.startswith("s3://"):
        return None if split_uri(root)[0] else f"{what} {root!r} names no bucket (s3://bucket/prefix)"
    if "://" in root:
        return f"{what} {root!r}: the scheme is not supported; give s3://, minio:// or a local directory"
    if not root:
        return f"{what} is empty; give a directory or s3://bucket/prefix"
    return None


def normalized_root(root: str) -> str:
    """minio:// names the platform's MinIO, which the controller reaches as S3."""
    return s3_uri(root)


class ArtifactRoot:
    def __init__(self, root: str):
        root = normalized_root(root)
        problem = root_problem(root)
        if problem:
            raise ConfigError(problem)
        self.is_s3 = root.startswith("s3://")
        if self.is_s3:
            self.root = root.rstrip("/")
        else:
            self.root = str(Path(root).resolve())
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def uri(self, *parts: str) -> str:
        return "/".join([self.root, *[part.strip("/") for part in parts if part]])

    @cached_property
    def s3(self):
        return s3_client()

    def read_text(self, uri: str) -> str | None:
        """The content of a small file (executor output, output parameter), None when it is absent."""
        if uri.startswith("s3://"):
            bucket, key = split_uri(uri)
            try:
                return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
            except self.s3.exceptions.NoSuchKey:
                return None
        try:
            return Path(uri).read_text()
        except FileNotFoundError:
            return None

    def holds(self, uri: str) -> bool:
        """Whether `uri` is under this root (importers may name artifacts anywhere else)."""
        if self.is_s3:
            return uri.startswith(self.root + "/")
        return not uri.startswith(REMOTE_SCHEMES) and Path(uri).resolve().is_relative_to(self.root)

    def read_head(self, uri: str, max_bytes: int) -> bytes:
        """The first `max_bytes` of the file artifact at `uri`: FileNotFoundError when nothing is there,
        IsADirectoryError for a directory artifact."""
        if not uri.startswith("s3://"):
            with open(uri, "rb") as handle:
                return handle.read(max_bytes)
        bucket, key = split_uri(uri)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")["Body"].read()
        except self.s3.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "InvalidRange":   # an empty object
                return b""
            if code not in ("NoSuchKey", "NoSuchBucket", "404"):
                raise
        if self.exists(uri.rstrip("/") + "/"):
            raise IsADirectoryError(uri)
        raise FileNotFoundError(uri)

    def exists(self, uri: str) -> bool:
        """Whether an artifact (a file or a directory, locally; any object under the key, on S3) exists."""
        if uri.startswith("s3://"):
            bucket, key = split_uri(uri)
            listing = self.s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
            return listing.get("KeyCount", 0) > 0
        return os.path.exists(uri)

    def adopt(self, path: str, uri: str) -> None:
        """Copy a file or directory a task wrote elsewhere (Artifact.set_path) into the artifact at `uri`."""
        if os.path.realpath(path) == os.path.realpath(uri):
            return
        if not os.path.exists(path):
            raise FileNotFoundError(f"the artifact's custom path {path} does not exist")
        if uri.startswith("s3://"):
            upload(self.s3, path, uri)
        elif os.path.isdir(path):
            shutil.copytree(path, uri, dirs_exist_ok=True)
        else:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, uri)
