"""List requests the KFP way: a JSON filter of predicates, `sort_by` ("created_at desc") and page tokens.

The filter is the v2beta1 Filter message as JSON. kfp.Client sends operations as numbers and values in
camelCase (`{"operation": 1, "key": "display_name", "stringValue": "x"}`); names and snake_case work too.
Page tokens are opaque to clients: here, the offset of the next page bound to the filter and sort it was
made for, so a token cannot silently be reused with another query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mlplatform.pipelines.errors import InvalidInput

OPERATIONS = {
    1: "EQUALS",
    2: "NOT_EQUALS",
    3: "GREATER_THAN",
    5: "GREATER_THAN_EQUALS",
    6: "LESS_THAN",
    7: "LESS_THAN_EQUALS",
    8: "IN",
    9: "IS_SUBSTRING",
}
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000


@dataclass
class ListQuery:
    page_token: str = ""
    page_size: int = 0
    sort_by: str = ""
    filter: str = ""


@dataclass
class Page:
    items: list
    total_size: int
    next_page_token: str


def list_page(
    session: Session,
    statement: Select,
    columns: dict[str, InstrumentedAttribute],
    query: ListQuery,
    default_sort: InstrumentedAttribute,
) -> Page:
    """Apply filter, sort and paging from `query` to `statement` (a select of one model)."""
    for predicate in _predicates(query.filter):
        statement = statement.where(_condition(predicate, columns))
    total = session.scalar(select(func.count()).select_from(statement.subquery()))
    statement = statement.order_by(*_ordering(query.sort_by, columns, default_sort))
    size = _page_size(query.page_size)
    offset = _decode_token(query.page_token, query)
    items = list(session.scalars(statement.offset(offset).limit(size)))
    following = offset + len(items)
    token = _encode_token(following, query) if following < total else ""
    return Page(items, total, token)


def _page_size(size: int | None) -> int:
    if not size:
        return DEFAULT_PAGE_SIZE
    if size < 0 or size > MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size {size} is out of range: use 1 to {MAX_PAGE_SIZE}")
    return size


def _fingerprint(query: ListQuery) -> str:
    return hashlib.sha256(f"{query.filter}|{query.sort_by}".encode()).hexdigest()[:12]


def _encode_token(offset: int, query: ListQuery) -> str:
    raw = json.dumps({"offset": offset, "query": _fingerprint(query)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, query: ListQuery) -> int:
    if not token:
        return 0
    try:
        content = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, fingerprint = int(content["offset"]), content["query"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput(f"page_token {token!r} is not a token this server issued") from None
    if fingerprint != _fingerprint(query) or offset < 0:
        raise InvalidInput("page_token belongs to a list request with another filter or sort_by")
    return offset


def _predicates(text: str) -> list[dict]:
    if not text:
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"filter is not JSON: {error}") from None
    predicates = document.get("predicates", []) if isinstance(document, dict) else None
    if not isinstance(predicates, list) or not all(isinstance(p, dict) for p in predicates):
        raise InvalidInput(
            'filter must be {"predicates": [{"key": ..., "operation": ..., "stringValue": ...}]}'
        )
    return predicates


def _operation(predicate: dict) -> str:
    operation = predicate.get("operation", "EQUALS")
    name = OPERATIONS.get(operation) if isinstance(operation, int) else str(operation).upper()
    if name not in OPERATIONS.values():
        raise InvalidInput(
            f"filter operation {operation!r} is unknown; use one of {', '.join(OPERATIONS.values())}"
        )
    return name


def _value(predicate: dict):
    for snake, camel in (
        ("string_value", "stringValue"),
        ("int_value", "intValue"),
        ("long_value", "longValue"),
        ("timestamp_value", "timestampValue"),
    ):
        for key in (snake, camel):
            if key in predicate:
                value = predicate[key]
                return _timestamp(value) if snake == "timestamp_value" else value
    for snake, camel in (
        ("string_values", "stringValues"),
        ("int_values", "intValues"),
        ("long_values", "longValues"),
    ):
        for key in (snake, camel):
            if key in predicate:
                values = predicate[key]
                return values.get("values", []) if isinstance(values, dict) else values
    raise InvalidInput(
        f"filter predicate on {predicate.get('key')!r} has no value (stringValue, intValue, ...)"
    )


def _timestamp(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidInput(f"filter timestamp {value!r} is not RFC 3339") from None


def _column(key, columns: dict[str, InstrumentedAttribute]) -> InstrumentedAttribute:
    if key not in columns:
        raise InvalidInput(f"cannot filter or sort on {key!r}; use one of {', '.join(sorted(columns))}")
    return columns[key]


def _condition(predicate: dict, columns: dict[str, InstrumentedAttribute]):
    column = _column(predicate.get("key"), columns)
    operation, value = _operation(predicate), _value(predicate)
    if column.key.endswith("_at") and isinstance(value, str):
        value = _timestamp(value)
    if operation == "IN":
        return column.in_(value if isinstance(value, list) else [value])
    if operation == "IS_SUBSTRING":
        return column.contains(str(value))
    return {
        "EQUALS": column.__eq__,
        "NOT_EQUALS": column.__ne__,
        "GREATER_THAN": column.__gt__,
        "GREATER_THAN_EQUALS": column.__ge__,
        "LESS_THAN": column.__lt__,
        "LESS_THAN_EQUALS": column.__le__,
    }[operation](value)


def _ordering(
    sort_by: str, columns: dict[str, InstrumentedAttribute], default: InstrumentedAttribute
) -> list:
    if not sort_by:
        return [default.asc()]
    words = sort_by.split()
    if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise InvalidInput(f"sort_by {sort_by!r} must be '<field>' or '<field> desc'")
    column = _column(words[0], columns)
    descending = len(words) == 2 and words[1].lower() == "desc"
    return [column.desc() if descending else column.asc()]
