"""What the services' OpenAPI documents say beyond FastAPI's defaults (DESIGN §10, "Input"): every
request body and every status, so clients and fuzzers can use them.

    @app.post("/things", responses=errors(400, 409, 413), openapi_extra=request_body(THING, "application/json"))
    answer_validation_with_400(app)   # the services answer 400 where FastAPI documents 422

The error body is the union both services send: KFP's google.rpc.Status (`code`, `message`, `details`,
plus `error`) and the tuning service's `{"error", "problems"}`; mlplatform.inputs.BodyLimit sends all of them.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what is wrong, in one line"},
        "message": {"type": "string"},
        "code": {"type": "integer", "description": "the google.rpc.Code (KFP's API)"},
        "details": {"type": "array", "items": {}},
        "problems": {"type": "array", "items": {"type": "string"}, "description": "every problem found"},
    },
}

DESCRIPTIONS = {
    400: "bad input: the message names every problem (a bad field, a query parameter, a limit crossed)",
    401: "no bearer token, or one the cluster does not accept (auth.mode kubernetes)",
    403: "the token's user may not do this in this namespace",
    404: "no such object",
    409: "a conflict with the object's state (a taken name, a finished trial)",
    413: "the request body is over the service's limit (--max-body-bytes, --max-upload-bytes)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and the error body."""
    return {
        status: {"description": DESCRIPTIONS[status],
                 "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status in statuses
    }


def request_body(schema: dict, *content_types: str, description: str = "") -> dict:
    """`openapi_extra=` describing a body the route reads itself (from the raw request)."""
    return {"requestBody": {"required": True, "description": description,
                            "content": {content_type: {"schema": schema} for content_type in content_types}}}


def answer_validation_with_400(app) -> None:
    """Drop FastAPI's 422 from every operation: these services answer a request that fails validation
    with 400 and the error body (documented per route through `errors`)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if responses.pop("422", None) is not None:
                        responses.setdefault("400", errors(400)[400])
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
