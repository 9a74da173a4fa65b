"""TokenReview and SubjectAccessReview, as the Kubernetes API server answers them.

    server.reviews.add_token("alice-token", "alice", groups=["team-a"])
    POST /apis/authentication.k8s.io/v1/tokenreviews          {"spec": {"token": ...}}
    POST /apis/authorization.k8s.io/v1/subjectaccessreviews   {"spec": {"user", "groups", "resourceAttributes"}}

Authentication: the tokens added here (a static token file, as kube-apiserver's --token-auth-file).
Authorization: RBAC, evaluated over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the
store. A RoleBinding grants its rules in its namespace only; a ClusterRoleBinding everywhere. Rules match
on apiGroups, resources (`plural` or `plural/subresource`), verbs and resourceNames, with `*` wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.kubeapi import errors

AUTHENTICATION = ("authentication.k8s.io", "v1", "tokenreviews")
AUTHORIZATION = ("authorization.k8s.io", "v1", "subjectaccessreviews")


@dataclass(frozen=True)
class UserInfo:
    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""


@dataclass
class Reviews:
    server: object   # the KubeApiServer: its objects() reads the RBAC objects
    tokens: dict[str, UserInfo] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"tokenreviews": 0, "subjectaccessreviews": 0})

    def add_token(self, token: str, username: str, groups: list[str] | tuple[str, ...] = ()) -> None:
        self.tokens[token] = UserInfo(username, (*groups, "system:authenticated"), uid=f"uid-{username}")

    def answer(self, plural: str, body: object) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise errors.bad_request(f"a {plural[:-1]} needs a spec")
        self.counts[plural] += 1
        status = self._token_review(body["spec"]) if plural == "tokenreviews" else self._access_review(body["spec"])
        kind = "TokenReview" if plural == "tokenreviews" else "SubjectAccessReview"
        group, version, _ = AUTHENTICATION if plural == "tokenreviews" else AUTHORIZATION
        return {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": {}, "spec": body["spec"],
                "status": status}

    def _token_review(self, spec: dict) -> dict:
        user = self.tokens.get(spec.get("token") or "")
        if user is None:
            return {"authenticated": False, "error": "invalid bearer token"}
        return {"authenticated": True,
                "user": {"username": user.username, "uid": user.uid, "groups": list(user.groups)}}

    def _access_review(self, spec: dict) -> dict:
        attributes = spec.get("resourceAttributes")
        if not isinstance(attributes, dict):
            raise errors.bad_request("only resourceAttributes are supported in a subjectaccessreview")
        subjects = self._subject_keys(spec.get("user") or "", spec.get("groups") or [])
        namespace = attributes.get("namespace") or ""
        for binding in self._bindings(namespace):
            if not subjects & {_subject_key(subject, binding) for subject in binding.get("subjects") or []}:
                continue
            for rule in self._rules(binding):
                if _rule_allows(rule, attributes):
                    where = f"in namespace {namespace}" if binding["kind"] == "RoleBinding" else "cluster-wide"
                    return {"allowed": True,
                            "reason": f"RBAC: allowed by {binding['kind']} {binding['metadata']['name']} {where}"}
        return {"allowed": False, "reason": ""}

    @staticmethod
    def _subject_keys(user: str, groups: list[str]) -> set[tuple[str, str]]:
        return {("User", user), *(("Group", group) for group in groups)}

    def _bindings(self, namespace: str) -> list[dict]:
        cluster = self.server.objects("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
        local = self.server.objects("rbac.authorization.k8s.io/v1", "RoleBinding", namespace) if namespace else []
        return [*local, *cluster]

    def _rules(self, binding: dict) -> list[dict]:
        reference = binding.get("roleRef") or {}
        namespace = binding["metadata"].get("namespace", "") if reference.get("kind") == "Role" else ""
        role = self.server.get("rbac.authorization.k8s.io/v1", reference.get("kind", ""), reference.get("name", ""),
                               namespace)
        return (role or {}).get("rules") or []


def _subject_key(subject: dict, binding: dict) -> tuple[str, str]:
    """A binding's subject as ("User"|"Group", name); a ServiceAccount is the user Kubernetes makes of it."""
    if subject.get("kind") == "ServiceAccount":
        namespace = subject.get("namespace") or binding["metadata"].get("namespace", "")
        return "User", f"system:serviceaccount:{namespace}:{subject.get('name')}"
    return subject.get("kind", ""), subject.get("name", "")


def _rule_allows(rule: dict, attributes: dict) -> bool:
    resource = attributes.get("resource") or ""
    if attributes.get("subresource"):
        resource = f"{resource}/{attributes['subresource']}"
    return (_matches(rule.get("apiGroups"), attributes.get("group") or "")
            and _matches(rule.get("resources"), resource)
            and _matches(rule.get("verbs"), attributes.get("verb") or "")
            and (not rule.get("resourceNames") or attributes.get("name") in rule["resourceNames"]))


def _matches(allowed: list[str] | None, value: str) -> bool:
    return bool(allowed) and ("*" in allowed or value in allowed)
