"""kfp.Client against the pipeline controller, for the register hook and the smoke check; and the token the
hooks send to a multi-user (auth.mode kubernetes) pipeline controller or tuning service."""

from __future__ import annotations

import os
import warnings

from mlplatform.auth.token_file import TOKEN_PATH_VARIABLE, TokenFile


def kfp_client(host: str, token: TokenFile | None = None):
    """A kfp.Client for `host`, without the SDK's warning about server versions (ours speaks v2beta1); with
    `token`, every request carries it (read now, so a missing token fails here, naming its path)."""
    import kfp

    credentials = None
    if token is not None:
        token.read()
        credentials = token.kfp_credentials()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=host, credentials=credentials)


def caller_token(values: dict, values_key: str) -> TokenFile | None:
    """The token a hook sends to the component at `values_key` (pipelineController, tuningService): needed
    when its auth.mode is kubernetes (the chart projects one at $KF_PIPELINES_SA_TOKEN_PATH); otherwise sent
    only when that variable names a file (a service in token mode)."""
    mode = ((values.get(values_key) or {}).get("auth") or {}).get("mode")
    if mode == "kubernetes" or os.environ.get(TOKEN_PATH_VARIABLE):
        return TokenFile.from_env()
    return None


def api_error_line(error) -> str:
    """A kfp_server_api ApiException as one line: status, reason and the start of the body."""
    body = (error.body.decode(errors="replace") if isinstance(error.body, bytes) else str(error.body or "")).strip()
    return f"HTTP {error.status} {error.reason or ''}".strip() + (f": {body[:200]}" if body else "")
