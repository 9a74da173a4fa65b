"""Pipelines and pipeline versions: upload (multipart, as kfp.Client does), create, get, list, delete.

Every package is validated before anything is stored, so a bad upload leaves nothing behind.
"""

from __future__ import annotations

import urllib.request

from fastapi import APIRouter, Depends, File, Query, UploadFile

from mlplatform.auth import PIPELINES
from mlplatform.inputs import InputRejected, check_size, parse_off_loop
from mlplatform.openapi import errors
from mlplatform.pipelines.api import bodies, shapes
from mlplatform.pipelines.api.common import AUTH_STATUSES, PREFIX, Services, list_query
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.ir.package import PACKAGE_LIMITS, read_package, split_spec
from mlplatform.pipelines.ir.spec import PipelineIR
from mlplatform.pipelines.store import Pipeline, PipelineVersion

MAX_PACKAGE_BYTES = 32 * 1024 * 1024
_FETCH_TIMEOUT_SECONDS = 30


def validated(spec, platform=None) -> tuple[dict, dict | None]:
    if not isinstance(spec, dict):
        raise InvalidInput("pipeline_spec must be the compiled pipeline (a mapping)")
    spec, platform = split_spec(spec, platform)
    PipelineIR(spec).validate()
    return spec, platform


async def _package(upload: UploadFile) -> tuple[dict, dict | None]:
    content = await upload.read()
    if len(content) > MAX_PACKAGE_BYTES:
        raise InvalidInput(f"the package is {len(content)} bytes; the limit is {MAX_PACKAGE_BYTES}")
    return await parse_off_loop(lambda: validated(*read_package(content)), limits=PACKAGE_LIMITS)


def _version(
    pipeline_id: str,
    name: str,
    display_name: str,
    description: str,
    spec: dict,
    platform: dict | None,
    code_source_url: str = "",
) -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=pipeline_id,
        name=name,
        display_name=display_name or name,
        description=description or "",
        pipeline_spec=spec,
        platform_spec=platform,
        code_source_url=code_source_url or "",
    )


def _spec_of(body: dict) -> tuple[dict, dict | None]:
    if body.get("pipeline_spec") is not None:
        return validated(body["pipeline_spec"])
    url = (body.get("package_url") or {}).get("pipeline_url")
    if url:
        return fetched_package(url)
    raise InvalidInput(
        "a pipeline version needs pipeline_spec or package_url.pipeline_url (the compiled pipeline)"
    )


def fetched_package(url: str) -> tuple[dict, dict | None]:
    """The package at package_url.pipeline_url (http or https), read within PACKAGE_LIMITS."""
    what = f"package_url.pipeline_url {url!r}"
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"{what}: only http:// and https:// URLs are fetched")
    try:
        with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT_SECONDS) as response:
            content = response.read(PACKAGE_LIMITS.max_bytes + 1)
        check_size(content, PACKAGE_LIMITS, what)
        return validated(*read_package(content))
    except InputRejected:
        raise  # over the size limit: 413, naming the URL
    except InvalidInput as error:
        raise InvalidInput(f"{what}: {error.message}") from None
    except (OSError, ValueError) as error:  # unreachable, HTTP errors, bad URLs
        raise InvalidInput(f"{what} cannot be fetched: {error}") from None


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix=f"{PREFIX}/pipelines", responses=errors(400, 404, 409, 413, *AUTH_STATUSES),
                    dependencies=services.guard(PIPELINES))
    store = services.store

    @api.post("/upload")
    async def upload(
        uploadfile: UploadFile = File(...),
        name: str = Query(""),
        display_name: str = Query(""),
        description: str = Query(""),
        namespace: str = Query(""),
    ):
        spec, platform = await _package(uploadfile)
        name = (name or display_name or spec.get("pipelineInfo", {}).get("name", "")).strip()
        if not name:
            raise InvalidInput("the pipeline needs a name")
        record = Pipeline(
            name=name,
            display_name=display_name or name,
            description=description or "",
            namespace=namespace or "",
        )
        created = store.create_pipeline(record, _version("", name, display_name, description, spec, platform))
        return shapes.pipeline(created)

    @api.post("/upload_version")
    async def upload_version(
        uploadfile: UploadFile = File(...),
        name: str = Query(""),
        display_name: str = Query(""),
        pipelineid: str = Query(""),
        description: str = Query(""),
    ):
        if not pipelineid:
            raise InvalidInput("pipelineid is required: the pipeline the version belongs to")
        store.get_pipeline(pipelineid)
        spec, platform = await _package(uploadfile)
        name = (name or display_name).strip()
        if not name:
            raise InvalidInput("the pipeline version needs a name")
        return shapes.version(
            store.add_version(_version(pipelineid, name, display_name, description, spec, platform))
        )

    @api.post("")
    def create(sent: bodies.Pipeline):
        body = sent.fields()
        name = (body.get("name") or body.get("display_name") or "").strip()
        if not name:
            raise InvalidInput("the pipeline needs a name or display_name")
        record = Pipeline(
            name=name,
            display_name=body.get("display_name") or name,
            description=body.get("description") or "",
            namespace=body.get("namespace") or "",
        )
        return shapes.pipeline(store.create_pipeline(record))

    @api.post("/create")
    def create_with_version(sent: bodies.PipelineWithVersion):
        body = sent.fields()
        pipeline_body, version_body = body.get("pipeline") or {}, body.get("pipeline_version") or {}
        spec, platform = _spec_of(version_body)
        name = (
            pipeline_body.get("name")
            or pipeline_body.get("display_name")
            or spec.get("pipelineInfo", {}).get("name", "")
        ).strip()
        record = Pipeline(
            name=name,
            display_name=pipeline_body.get("display_name") or name,
            description=pipeline_body.get("description") or "",
            namespace=pipeline_body.get("namespace") or "",
        )
        version_name = version_body.get("name") or version_body.get("display_name") or name
        created = store.create_pipeline(
            record,
            _version(
                "",
                version_name,
                version_body.get("display_name") or "",
                version_body.get("description") or "",
                spec,
                platform,
            ),
        )
        return shapes.pipeline(created)

    @api.get("")
    def list_(query=Depends(list_query), namespace: str = ""):
        page = store.list_pipelines(query, services.pipelines_namespace(namespace))
        return {
            "pipelines": [shapes.pipeline(item) for item in page.items],
            "total_size": page.total_size,
            "next_page_token": page.next_page_token,
        }

    @api.get("/names/{name}")
    def get_by_name(name: str, namespace: str = ""):
        return shapes.pipeline(store.get_pipeline_by_name(name, namespace))

    @api.get("/{pipeline_id}")
    def get(pipeline_id: str):
        return shapes.pipeline(store.get_pipeline(pipeline_id))

    @api.delete("/{pipeline_id}")
    def delete(pipeline_id: str, cascade: bool = False):
        store.delete_pipeline(pipeline_id, cascade)
        return {}

    @api.post("/{pipeline_id}/versions")
    def create_version(pipeline_id: str, sent: bodies.PipelineVersion):
        body = sent.fields()
        store.get_pipeline(pipeline_id)
        spec, platform = _spec_of(body)
        name = (body.get("name") or body.get("display_name") or "").strip()
        if not name:
            raise InvalidInput("the pipeline version needs a name or display_name")
        return shapes.version(
            store.add_version(
                _version(
                    pipeline_id,
                    name,
                    body.get("display_name") or "",
                    body.get("description") or "",
                    spec,
                    platform,
                    body.get("code_source_url") or "",
                )
            )
        )

    @api.get("/{pipeline_id}/versions")
    def list_versions(pipeline_id: str, query=Depends(list_query)):
        page = store.list_versions(pipeline_id, query)
        return {
            "pipeline_versions": [shapes.version(item, with_spec=False) for item in page.items],
            "total_size": page.total_size,
            "next_page_token": page.next_page_token,
        }

    @api.get("/{pipeline_id}/versions/{version_id}")
    def get_version(pipeline_id: str, version_id: str):
        return shapes.version(store.get_version(version_id, pipeline_id))

    @api.delete("/{pipeline_id}/versions/{version_id}")
    def delete_version(pipeline_id: str, version_id: str):
        store.delete_version(pipeline_id, version_id)
        return {}

    return api
