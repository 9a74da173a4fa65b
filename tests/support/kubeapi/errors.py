"""API errors as the Kubernetes API server reports them: an HTTP code and a `Status` body."""

from __future__ import annotations


class ApiError(Exception):
    """A failed request. `status()` is the Kubernetes `Status` object the server answers with."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(resource, name: str) -> dict:
    return {"name": name, "group": resource.group, "kind": resource.plural}


def not_found(resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource.group_resource} "{name}" not found', _details(resource, name))


def already_exists(resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource.group_resource} "{name}" already exists',
                    _details(resource, name))


def conflict(resource, name: str, why: str = "the object has been modified; please apply your changes "
                                                 "to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource.group_resource} "{name}": {why}',
                    _details(resource, name))


def invalid(resource, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422: `causes` are (field, message) pairs, e.g. ("metadata.name", "Required value")."""
    kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    details = {"name": name, "group": resource.group, "kind": resource.kind,
               "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}
                          for field, message in causes]}
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}")


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def path_not_found(path: str) -> ApiError:
    return ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
