"""`replicas`: the split is the ratio of ready pods, so the weight is the replica counts of the two Deployments.

Without a mesh the routed Service sends each connection to any pod of either track. The split
splits `replicaCount` pods as the chart does (model-server.replicas): at least one canary pod while
the weight is above 0, at least one stable pod while it is below 100. It can only approximate a
weight: `achievable_weight` says what a weight becomes. get_weight reads the Deployments' spec,
the split Kubernetes converges to.
"""

from __future__ import annotations

from kubernetes import client

from mlplatform.errors import ConfigError
from mlplatform.routers.base import KubernetesRouter, check_weight, percent

DEFAULT_REPLICAS = 2


class ReplicasRouter(KubernetesRouter):
    name = "replicas"

    def get_weight(self) -> int:
        stable = self._replicas("stable")
        canary = self._replicas("canary") if self._exists("canary") else 0
        return percent(canary, stable + canary)

    def set_weight(self, weight: int) -> None:
        counts = self.replica_counts(check_weight(weight))
        if counts["canary"] and not self._exists("canary"):
            raise ConfigError(f"Deployment {self.object_name('canary')} not found in namespace {self.namespace} "
                              "(the chart renders it when modelServer.canary.enabled is true)")
        for track, replicas in counts.items():
            if track == "canary" and not self._exists("canary"):
                continue
            self._scale(track, replicas)

    def achievable_weight(self, weight: int) -> int:
        counts = self.replica_counts(check_weight(weight))
        return percent(counts["canary"], counts["stable"] + counts["canary"])

    def replica_counts(self, weight: int) -> dict[str, int]:
        """{"stable": n, "canary": m} for `weight`, exactly as the chart computes them."""
        total = int(self.values.get("replicaCount", DEFAULT_REPLICAS))
        canary = (total * weight + 50) // 100
        if weight > 0 and canary < 1:
            canary = 1
        if weight < 100 and canary >= total:
            canary = total - 1
        return {"stable": total - canary, "canary": canary}

    def _replicas(self, track: str) -> int:
        deployment = self._read(track)
        return deployment.spec.replicas if deployment.spec.replicas is not None else 1

    def _scale(self, track: str, replicas: int) -> None:
        deployment = self._read(track)
        deployment.spec.replicas = replicas
        with self.kubernetes(self._what(track)):
            self._api().replace_namespaced_deployment(self.object_name(track), self.namespace, deployment)

    def _exists(self, track: str) -> bool:
        try:
            self._read(track)
        except ConfigError:
            return False
        return True

    def _read(self, track: str) -> client.V1Deployment:
        with self.kubernetes(self._what(track)):
            return self._api().read_namespaced_deployment(self.object_name(track), self.namespace)

    def _api(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.context.api_client)

    def _what(self, track: str) -> str:
        return f"Deployment {self.object_name(track)}"
