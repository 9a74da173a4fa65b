"""The request bodies of the KFP v2beta1 API (kfp_server_api's models, snake_case), for validation and
for the OpenAPI document.

Fields the API does not know are ignored and never stored, as KFP's API server ignores them. A field of
the wrong type (a list for a name) is a 400 naming the field. Routes read `body.fields()`: a dict of the
fields that were sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Text = str


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Experiment(Body):
    display_name: Text | None = None
    description: Text | None = None
    namespace: Text | None = None


class Pipeline(Body):
    name: Text | None = None
    display_name: Text | None = None
    description: Text | None = None
    namespace: Text | None = None


class PackageUrl(Body):
    pipeline_url: Text | None = None


class PipelineVersion(Body):
    name: Text | None = None
    display_name: Text | None = None
    description: Text | None = None
    code_source_url: Text | None = None
    pipeline_spec: dict[str, Any] | None = Field(
        None, description="the compiled pipeline (kfp.compiler's PipelineSpec), or {pipeline_spec, platform_spec}")
    package_url: PackageUrl | None = Field(None, description="a package fetched over http(s), instead of pipeline_spec")


class PipelineWithVersion(Body):
    pipeline: Pipeline | None = None
    pipeline_version: PipelineVersion | None = None


class VersionReference(Body):
    pipeline_id: Text | None = None
    pipeline_version_id: Text | None = None


class RuntimeConfig(Body):
    parameters: dict[str, Any] | None = Field(None, description="runtime parameter values by name")
    pipeline_root: Text | None = None


class Run(Body):
    display_name: Text | None = None
    description: Text | None = None
    experiment_id: Text | None = None
    service_account: Text | None = None
    pipeline_spec: dict[str, Any] | None = None
    pipeline_version_id: Text | None = None
    pipeline_version_reference: VersionReference | None = None
    runtime_config: RuntimeConfig | None = None

