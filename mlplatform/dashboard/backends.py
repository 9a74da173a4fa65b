"""Calls to the platform's public APIs on behalf of the person viewing a page.

Each request carries the viewer's bearer token when there is one (multi-user mode); the services
check it, so the dashboard sees exactly what its viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


class BackendProblem(Exception):
    """A backend that is not configured, does not answer, or refuses; the message says which and why."""

    def __init__(self, message: str, status: int = 502):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Backend:
    title: str             # what a person calls it: "the pipeline controller"
    flag: str              # how to configure it: "--pipelines-url"
    url: str | None
    token: str | None = None
    timeout: float = 10.0

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._send("GET", path, params=params).json()

    def text(self, path: str) -> str:
        return self._send("GET", path).text

    def content(self, path: str, params: dict | None = None) -> bytes:
        return self._send("GET", path, params=params).content

    def post(self, path: str, body: dict | None = None, params: dict | None = None) -> dict | list:
        answer = self._send("POST", path, json=body if body is not None else {}, params=params)
        return answer.json() if answer.content else {}

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        if not self.url:
            raise BackendProblem(f"{self.title} is not configured (start the dashboard with {self.flag} URL)", 503)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            answer = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as error:
            raise BackendProblem(f"{self.title} at {self.url} did not answer: {error}") from None
        if answer.status_code >= 400:
            raise BackendProblem(f"{self.title} answered {answer.status_code}: {_message(answer)}",
                                 answer.status_code if answer.status_code in (401, 403, 404) else 502)
        return answer


def _message(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body.get("detail") or body)[:300]
    return str(body)[:300]
