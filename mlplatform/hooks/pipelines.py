"""kfp.Client against the pipeline controller, for the register hook and the smoke check."""

from __future__ import annotations

import warnings


def kfp_client(host: str):
    """A kfp.Client for `host`, without the SDK's warning about server versions (ours speaks v2beta1)."""
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=host)


def api_error_line(error) -> str:
    """A kfp_server_api ApiException as one line: status, reason and the start of the body."""
    body = (error.body.decode(errors="replace") if isinstance(error.body, bytes) else str(error.body or "")).strip()
    return f"HTTP {error.status} {error.reason or ''}".strip() + (f": {body[:200]}" if body else "")
