"""Kubernetes `Status` errors: the code, reason and message a real API server answers with."""

from __future__ import annotations


class KubeError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, causes: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.causes = causes or []

    def status(self, kind: str | None = None, name: str | None = None) -> dict:
        details = {}
        if name:
            details["name"] = name
        if kind:
            details["kind"] = kind
        if self.causes:
            details["causes"] = [_cause(cause) for cause in self.causes]
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": details,
            "code": self.code,
        }


def _cause(text: str) -> dict:
    """`spec.x: cannot be changed` -> field spec.x, as kubectl prints it ("The Experiment "e" is invalid: spec.x: ...")."""
    field, separator, message = text.partition(": ")
    if separator and field and " " not in field:
        return {"field": field, "message": message}
    return {"message": text}


class BadRequest(KubeError):
    code, reason = 400, "BadRequest"


class NotFound(KubeError):
    code, reason = 404, "NotFound"


class Unauthorized(KubeError):
    code, reason = 401, "Unauthorized"


class Forbidden(KubeError):
    code, reason = 403, "Forbidden"


def refusal(code: int, message: str) -> KubeError:
    """A 401 or 403 of multi-user mode, as the API server's Status."""
    return (Unauthorized if code == 401 else Forbidden)(message)


class MethodNotAllowed(KubeError):
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(KubeError):
    code, reason = 409, "AlreadyExists"


class Conflict(KubeError):
    code, reason = 409, "Conflict"


class UnsupportedMediaType(KubeError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(KubeError):
    code, reason = 422, "Invalid"
