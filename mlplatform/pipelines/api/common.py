"""What the API modules share: list query parameters and the services they call."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from mlplatform.pipelines.store import Store
from mlplatform.pipelines.store.listing import ListQuery

PREFIX = "/apis/v2beta1"


@dataclass
class Services:
    store: Store
    engine: object  # mlplatform.pipelines.engine.controller.Engine


def list_query(
    page_token: str = Query(""), page_size: int = Query(0), sort_by: str = Query(""), filter: str = Query("")
) -> ListQuery:
    return ListQuery(page_token=page_token, page_size=page_size, sort_by=sort_by, filter=filter)
