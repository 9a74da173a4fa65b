{{/*
What the operator does in each watched namespace, and nothing more:
  - the jobs: read and watch them, own their replicas (ownerReferences that block deletion need the
    finalizers subresource) and delete them when ttlSecondsAfterFinished has passed; their status through
    the status subresource only;
  - the replicas: one batch Job and one headless Service per replica, created together (gang start: each
    pod's init container waits until every peer's Service name resolves, which needs no API access),
    deleted by cleanPodPolicy;
  - the replicas' pods, read for replicaStatuses (users read logs with their own rights);
  - Events on the jobs (Created, Running, Succeeded, Failed), as Kubeflow's operator records them.
*/}}
{{- define "training-operator.controllerRules" -}}
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs, tfjobs]
  verbs: [get, list, watch, delete]
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs/status, tfjobs/status]
  verbs: [get, update, patch]
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs/finalizers, tfjobs/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
