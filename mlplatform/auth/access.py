"""Authentication (TokenReview) and authorization (SubjectAccessReview), through the kubernetes client,
with a short cache; and TokenAuth, the same questions answered from a static token file."""

from __future__ import annotations

import csv
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

VERBS = ("get", "list", "create", "update", "delete")


@dataclass(frozen=True)
class User:
    username: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    group: str
    plural: str


PIPELINE_RUNS = Resource("pipelines.kubeflow.org", "runs")
PIPELINE_EXPERIMENTS = Resource("pipelines.kubeflow.org", "experiments")
PIPELINES = Resource("pipelines.kubeflow.org", "pipelines")
KATIB_EXPERIMENTS = Resource("kubeflow.org", "experiments")


class TtlCache:
    """Answers kept for `seconds`; at most `size` of them (the oldest go first)."""

    def __init__(self, seconds: float, size: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key, compute: Callable[[], object]):
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                return found[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (now + self.seconds, value)
        return value


class KubernetesAuth:
    """auth.mode kubernetes: the cluster decides, through TokenReview and SubjectAccessReview."""

    def __init__(self, api_client: client.ApiClient, cache_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.authentication = client.AuthenticationV1Api(api_client)
        self.authorization = client.AuthorizationV1Api(api_client)
        self._users = TtlCache(cache_seconds, clock=clock)
        self._decisions = TtlCache(cache_seconds, clock=clock)

    def authenticate(self, token: str) -> User | None:
        key = hashlib.sha256(token.encode()).hexdigest()   # the cache never holds a token itself
        return self._users.get(key, lambda: self._token_review(token))

    def allowed(self, user: User, verb: str, resource: Resource, namespace: str, name: str = "") -> bool:
        key = (user, verb, resource, namespace, name)
        return self._decisions.get(key, lambda: self._access_review(user, verb, resource, namespace, name))

    def _token_review(self, token: str) -> User | None:
        review = self.authentication.create_token_review(
            client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token)))
        status = review.status
        if not status or not status.authenticated or not status.user:
            return None
        return User(status.user.username, tuple(status.user.groups or ()))

    def _access_review(self, user: User, verb: str, resource: Resource, namespace: str, name: str) -> bool:
        attributes = client.V1ResourceAttributes(group=resource.group, resource=resource.plural, verb=verb,
                                                 namespace=namespace, name=name or None)
        review = self.authorization.create_subject_access_review(client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(user=user.username, groups=list(user.groups),
                                                  resource_attributes=attributes)))
        return bool(review.status and review.status.allowed)


class TokenAuth:
    """auth.mode token (local mode, tests): a CSV of `token,user,namespace[;namespace...]`; a user may do
    everything in the namespaces of its line and nothing elsewhere."""

    def __init__(self, grants: dict[str, tuple[User, frozenset[str]]]):
        self.grants = grants

    @classmethod
    def from_file(cls, path: str | Path) -> TokenAuth:
        grants = {}
        for number, row in enumerate(csv.reader(Path(path).read_text().splitlines()), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 3 or not all(part.strip() for part in row):
                raise ValueError(f"{path}:{number}: expected token,user,namespace[;namespace...]")
            token, username, namespaces = (part.strip() for part in row)
            grants[token] = (User(username), frozenset(namespaces.split(";")))
        return cls(grants)

    def authenticate(self, token: str) -> User | None:
        found = self.grants.get(token)
        return found[0] if found else None

    def allowed(self, user: User, verb: str, resource: Resource, namespace: str, name: str = "") -> bool:
        return any(granted_user == user and namespace in namespaces
                   for granted_user, namespaces in self.grants.values())
