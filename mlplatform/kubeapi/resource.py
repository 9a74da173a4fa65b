"""`Resource`: what a service implements to expose one kind of object through the Kubernetes REST shape.

The REST layer handles paths, selectors, patches, resourceVersions and errors; a Resource only answers
for its objects as whole manifests (dicts with apiVersion, kind, metadata, spec and status). Methods a
resource does not allow raise MethodNotAllowed, which is what the base class does.
"""

from __future__ import annotations

from mlplatform.kubeapi.errors import MethodNotAllowed


class Resource:
    group: str
    version: str
    kind: str
    plural: str
    short_names: tuple[str, ...] = ()       # discovery: `kubectl get <short name>`
    printer_columns: tuple[dict, ...] = ()  # `kubectl get`'s columns after Name: the CRD's additionalPrinterColumns

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def list(self, namespace: str | None) -> list[dict]:
        """Every object in `namespace` (None: in every namespace)."""
        raise NotImplementedError

    def get(self, namespace: str, name: str) -> dict:
        """The object; raises NotFound."""
        raise NotImplementedError

    def create(self, namespace: str, body: dict) -> dict:
        raise MethodNotAllowed(f"{self.plural} cannot be created through this API")

    def update(self, namespace: str, name: str, body: dict) -> dict:
        """Replace the object's spec and metadata with `body` (a PUT, or a patch already applied)."""
        raise MethodNotAllowed(f"{self.plural} cannot be changed through this API")

    def update_status(self, namespace: str, name: str, body: dict) -> dict:
        raise MethodNotAllowed(f"the status of {self.plural} is written by the service that runs them")

    def delete(self, namespace: str, name: str) -> None:
        raise MethodNotAllowed(f"{self.plural} cannot be deleted through this API")
