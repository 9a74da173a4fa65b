"""The Kubernetes API shape for our own resources (DESIGN section 10).

Kubeflow's SDKs (kubeflow-katib's KatibClient, the training SDK) talk to the Kubernetes API. In local
mode our services answer the same REST paths themselves:

    /apis/<group>/<version>/namespaces/<ns>/<plural>                 GET (list, or ?watch=true), POST
    /apis/<group>/<version>/<plural>                                  GET across namespaces (list, watch)
    /apis/<group>/<version>/namespaces/<ns>/<plural>/<name>          GET, PATCH, PUT, DELETE
    /apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/status   GET, PATCH, PUT

A service describes each resource with a `Resource` (resource.py): the one door into its own model.
`add_resource_routes` (routes.py) is the REST door and `watch_events` (watch.py) the watch loop; both
are generic, so the tuning service (Experiments, Trials, Suggestions) and the training operator
(PyTorchJob, TFJob) share them. Errors are Kubernetes `Status` objects, so the kubernetes client raises
`ApiException` with the code and reason a real API server would give.

kubectl also reads what a Resource describes: the discovery documents (/api, /apis, each group version's
APIResourceList, /version) and the OpenAPI v3 `kubectl apply` checks (discovery.py), and `kubectl get`'s
Tables of its `printer_columns` (table.py).
"""

from mlplatform.kubeapi.errors import (
    AlreadyExists,
    BadRequest,
    Invalid,
    KubeError,
    MethodNotAllowed,
    NotFound,
)
from mlplatform.kubeapi.resource import Resource
from mlplatform.kubeapi.routes import add_resource_routes

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "Invalid",
    "KubeError",
    "MethodNotAllowed",
    "NotFound",
    "Resource",
    "add_resource_routes",
]
