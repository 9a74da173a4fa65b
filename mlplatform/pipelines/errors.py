"""Errors the API turns into 4xx answers. Each message says what is wrong, for the person who sent it."""

from __future__ import annotations


class ApiError(Exception):
    status_code = 400
    grpc_code = 3  # INVALID_ARGUMENT; KFP answers with google.rpc.Status codes

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(ApiError):
    """The request (a pipeline package, a run, a filter, a parameter) cannot be used as given."""


class NotFound(ApiError):
    status_code = 404
    grpc_code = 5


class AlreadyExists(ApiError):
    status_code = 409
    grpc_code = 6


class FailedPrecondition(ApiError):
    """The request is well formed but the object's state does not allow it (retrying a running run)."""

    status_code = 409
    grpc_code = 9
