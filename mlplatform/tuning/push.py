"""`report_metrics()`: a trial reports its metrics to the tuning service (collector kind Push).

    from mlplatform.tuning import report_metrics
    report_metrics({"accuracy": 0.93, "loss": 0.21})

The service starts every trial with KATIB_TRIAL_NAME, MLP_TUNING_URL and MLP_TRIAL_TOKEN set (the
trial's own token, which a service in multi-user mode asks for), so inside a trial no argument is needed. Only the standard library is used: trial images need nothing else installed.
Each call is one observation; calling it once per epoch gives early stopping its intermediate values.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping


def report_metrics(
    metrics: Mapping[str, float],
    *,
    trial_name: str | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Send `metrics` for this trial; raises RuntimeError when the service refuses them or is unreachable."""
    trial_name = trial_name or os.environ.get("KATIB_TRIAL_NAME")
    url = (url or os.environ.get("MLP_TUNING_URL") or "").rstrip("/")
    token = token or os.environ.get("MLP_TRIAL_TOKEN")
    if not trial_name or not url:
        raise RuntimeError(
            "report_metrics() needs KATIB_TRIAL_NAME and MLP_TUNING_URL, which the tuning service "
            "sets in every trial; outside a trial pass trial_name= and url="
        )
    body = json.dumps(
        {
            "metrics": {name: float(value) for name, value in metrics.items()},
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/trials/{trial_name}/metrics",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            pass
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        raise RuntimeError(
            f"the tuning service refused the metrics of {trial_name}: HTTP {error.code} {detail}"
        ) from None
    except OSError as error:
        raise RuntimeError(f"cannot reach the tuning service at {url}: {error}") from None
