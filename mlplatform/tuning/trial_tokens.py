"""Per-trial tokens for the Push collector (multi-user mode).

A trial carries no user token, so in token and kubernetes mode `POST /api/v1/trials/{trial}/metrics` takes
the trial's own: HMAC-SHA256 of the trial's name under a random key the service makes once and keeps in its
database (every replica and restart agrees). The service puts it in every trial's environment as
MLP_TRIAL_TOKEN; `report_metrics()` sends it as `Authorization: Bearer`. A token opens one trial's
metrics and nothing else; whoever may read the trial's Job in its namespace may read it, as they may
the trial's output.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from mlplatform.auth import AuthFailed
from mlplatform.tuning.store import Store

TRIAL_TOKEN_VARIABLE = "MLP_TRIAL_TOKEN"
KEY_NAME = "trial-token-key"


def trial_token(store: Store, trial: str) -> str:
    return hmac.new(store.secret(KEY_NAME).encode(), trial.encode(), hashlib.sha256).hexdigest()


def check_trial_token(request: Request, store: Store, trial: str) -> None:
    """401 unless the request carries `trial`'s token (before anything about the trial is looked up)."""
    scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthFailed(401, f"pushing metrics needs the trial's token: send Authorization: Bearer "
                              f"${TRIAL_TOKEN_VARIABLE} (report_metrics() does)")
    if not hmac.compare_digest(presented.strip(), trial_token(store, trial)):
        raise AuthFailed(401, f"the token is not trial {trial}'s")
