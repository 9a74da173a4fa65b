"""What the API modules share: list query parameters and the services they call."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from mlplatform.inputs import Limits, check_json_limits
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.store import Store
from mlplatform.pipelines.store.listing import ListQuery

PREFIX = "/apis/v2beta1"
AUTH_STATUSES = (401, 403)  # multi-user mode (api/access.py)


@dataclass
class Services:
    store: Store
    engine: object  # mlplatform.pipelines.engine.controller.Engine
    access: object = None  # mlplatform.pipelines.api.access.PipelineAccess in multi-user mode

    def guard(self, resource) -> list:
        """A router's dependencies: none, or multi-user mode's 401/403 for `resource`."""
        return self.access.dependencies(resource) if self.access else []

    def pipelines_namespace(self, namespace: str) -> str | None:
        """Which pipelines a list shows: those of `namespace`; without one, every pipeline in single-user
        mode and the shared ones in multi-user mode (as KFP)."""
        return namespace if namespace or self.access else None


FILTER_LIMITS = Limits(max_bytes=4096, max_depth=8)


def list_query(
    page_token: str = Query("", max_length=1024, description="next_page_token of the previous page"),
    page_size: int = Query(0, ge=0, le=2**31 - 1, description="at most 1000 per page; 0 for the default"),
    sort_by: str = Query("", max_length=256, description="'<field>' or '<field> desc'"),
    filter: str = Query("", max_length=FILTER_LIMITS.max_bytes,
                        description='JSON: {"predicates": [{"key", "operation", "string_value"...}]}'),
) -> ListQuery:
    if sort_by and not sort_by.strip():
        raise InvalidInput(f"sort_by {sort_by!r} is blank: use '<field>' or '<field> desc'")
    if filter:
        check_json_limits(filter, FILTER_LIMITS, what="filter")   # size and depth before the store parses it
    return ListQuery(page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter)
