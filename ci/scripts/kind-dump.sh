#!/usr/bin/env bash
# What a failed kind job needs to be debugged: pods, events, descriptions and logs of the platform namespaces.
set -uo pipefail
kubectl get pods --all-namespaces -o wide
kubectl get events --all-namespaces --sort-by=.lastTimestamp | tail -n 100
for namespace in $(kubectl get namespaces -o name | sed -n 's|^namespace/\(mlplatform.*\)|\1|p'); do
  echo "=== namespace $namespace"
  kubectl get all,jobs,pvc --namespace "$namespace"
  kubectl describe pods --namespace "$namespace"
  for pod in $(kubectl get pods --namespace "$namespace" -o name); do
    echo "--- logs of $pod"
    kubectl logs "$pod" --namespace "$namespace" --all-containers --prefix --tail=200
    kubectl logs "$pod" --namespace "$namespace" --all-containers --prefix --tail=50 --previous 2>/dev/null
  done
done
exit 0
