"""Reading a pipeline package: the YAML or JSON kfp.compiler writes, or a .tar.gz / .zip holding one.

A package may carry a second YAML document, the PlatformSpec (Kubernetes settings); kfp.Client sends
the pair as {"pipeline_spec": ..., "platform_spec": ...} when creating a run.
"""

from __future__ import annotations

import io
import tarfile
import zipfile

from mlplatform.inputs import InputRejected, Limits, MiB, load_yaml_documents
from mlplatform.pipelines.errors import InvalidInput

# A package (or the file inside an archive) is read within these: size, YAML aliases and expansion, depth.
PACKAGE_LIMITS = Limits(max_bytes=32 * MiB, parse_seconds=60)


def read_package(content: bytes) -> tuple[dict, dict | None]:
    """(pipeline_spec, platform_spec or None) from the bytes of an uploaded package."""
    if content[:2] == b"\x1f\x8b":
        content = _from_tar(content)
    elif content[:4] == b"PK\x03\x04":
        content = _from_zip(content)
    try:
        documents = load_yaml_documents(content.decode("utf-8"), PACKAGE_LIMITS, what="the pipeline package")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the pipeline package is not YAML or JSON: {error}") from None
    except InputRejected as error:
        raise InvalidInput(str(error).replace("is not valid YAML", "is not YAML or JSON")) from None
    if not documents or not isinstance(documents[0], dict):
        raise InvalidInput(
            "the pipeline package is empty or not a mapping; upload the YAML kfp.compiler wrote"
        )
    platform = {}
    for document in documents[1:]:
        if isinstance(document, dict):
            platform.update(document)
    return split_spec(documents[0], platform or None)


def split_spec(document: dict, platform: dict | None = None) -> tuple[dict, dict | None]:
    """Unwrap {"pipeline_spec": ..., "platform_spec": ...} (what kfp.Client sends with a PlatformSpec)."""
    if "pipeline_spec" in document and "root" not in document:
        return document["pipeline_spec"], document.get("platform_spec") or platform
    return document, platform


def _choose(names: list[str]) -> str:
    candidates = [name for name in names if name.endswith((".yaml", ".yml", ".json"))]
    for preferred in ("pipeline.yaml", "pipeline.json"):
        if preferred in candidates:
            return preferred
    if len(candidates) != 1:
        raise InvalidInput(
            f"the archive must hold one pipeline file (pipeline.yaml); found {candidates or 'none'}"
        )
    return candidates[0]


def _from_tar(content: bytes) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
            members = {member.name: member for member in archive if member.isfile()}
            member = members[_choose(list(members))]
            _bounded(member.size)   # the header's size: a tar member is read no further than it
            return archive.extractfile(member).read()
    except tarfile.TarError as error:
        raise InvalidInput(f"the .tar.gz package cannot be read: {error}") from None


def _from_zip(content: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            name = _choose(archive.namelist())
            _bounded(archive.getinfo(name).file_size)   # zipfile stops at the declared size, and checks it
            return archive.read(name)
    except zipfile.BadZipFile as error:
        raise InvalidInput(f"the .zip package cannot be read: {error}") from None


def _bounded(size: int) -> None:
    """Refuse a file in an archive over the package limit before unpacking it (a gzip or zip bomb)."""
    if size > PACKAGE_LIMITS.max_bytes:
        raise InvalidInput(
            f"the pipeline file in the archive is {size} bytes, over the limit of {PACKAGE_LIMITS.max_bytes} bytes"
        )
