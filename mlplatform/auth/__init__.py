"""Multi-user mode (DESIGN §10, "Auth"): who is asking, and may they do this in this namespace.

    auth = KubernetesAuth(mlplatform.kube.api_client())          # auth.mode: kubernetes
    auth = TokenAuth.from_file(path)                              # auth.mode: token (local mode, tests)
    user = auth.authenticate(token)                               # a TokenReview; None when not accepted
    auth.allowed(user, "list", PIPELINE_RUNS, "team-a")           # a SubjectAccessReview

    app.include_router(router, dependencies=[require(auth, PIPELINE_RUNS)])   # 401 / 403 per request

    TokenFile.from_env().headers()        # the platform's own calls: a ServiceAccount token from a file

Resources mirror Kubeflow's, so the same RBAC Roles serve KFP, Katib and mlplatform: runs, experiments
and pipelines in `pipelines.kubeflow.org`; Katib experiments in `kubeflow.org`. Answers are cached for
`cache_seconds` (10 s by default), as kube-apiserver's webhook authorizer caches them.
"""

from mlplatform.auth.access import (
    KATIB_EXPERIMENTS,
    PIPELINE_EXPERIMENTS,
    PIPELINE_RUNS,
    PIPELINES,
    KubernetesAuth,
    Resource,
    TokenAuth,
    User,
)
from mlplatform.auth.dependency import AuthFailed, authenticate, bearer_token, require, verb_for
from mlplatform.auth.token_file import MissingToken, TokenFile

__all__ = ["KATIB_EXPERIMENTS", "PIPELINES", "PIPELINE_EXPERIMENTS", "PIPELINE_RUNS", "AuthFailed",
           "KubernetesAuth", "MissingToken", "Resource", "TokenAuth", "TokenFile", "User", "authenticate",
           "bearer_token", "require", "verb_for"]
