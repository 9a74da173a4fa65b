"""Traffic routers: set and read the canary's share of the model-server traffic.

Built-in routers (the `mlplatform.routers` entry points): `gateway-api`, `istio`, `nginx`, `replicas`
on Kubernetes, and `local-nginx` in local mode. `open_router(values, context)` builds the one that
`modelServer.router.type` names; see `base.Router` for the interface.
"""

from mlplatform.routers.base import Router, RouterContext, open_router

__all__ = ["Router", "RouterContext", "open_router"]
