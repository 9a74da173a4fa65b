"""`nginx`: ingress-nginx canary weights, the `canary-weight` annotation of the release's canary Ingress."""

from __future__ import annotations

from kubernetes import client

from mlplatform.routers.base import KubernetesRouter, check_weight, percent

PREFIX = "nginx.ingress.kubernetes.io/"
CANARY, WEIGHT, WEIGHT_TOTAL = PREFIX + "canary", PREFIX + "canary-weight", PREFIX + "canary-weight-total"


class IngressNginxRouter(KubernetesRouter):
    name = "nginx"

    def get_weight(self) -> int:
        annotations = self._read().metadata.annotations or {}
        if annotations.get(CANARY) != "true":
            return 0
        return percent(int(annotations.get(WEIGHT, 0)), int(annotations.get(WEIGHT_TOTAL, 100)))

    def set_weight(self, weight: int) -> None:
        weight = check_weight(weight)
        ingress = self._read()
        annotations = ingress.metadata.annotations or {}
        total = int(annotations.get(WEIGHT_TOTAL, 100))
        ingress.metadata.annotations = {**annotations, CANARY: "true", WEIGHT: str(round(weight * total / 100))}
        with self.kubernetes(self._what()):
            self._api().replace_namespaced_ingress(self.object_name("canary"), self.namespace, ingress)

    def _read(self) -> client.V1Ingress:
        missing = " (the chart renders it when modelServer.router.type is nginx and modelServer.canary.enabled is true)"
        with self.kubernetes(self._what(), missing=missing):
            return self._api().read_namespaced_ingress(self.object_name("canary"), self.namespace)

    def _api(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.context.api_client)

    def _what(self) -> str:
        return f"canary Ingress {self.object_name('canary')}"
