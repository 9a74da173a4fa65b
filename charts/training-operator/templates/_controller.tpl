{{/*
What the operator does in each watched namespace, and nothing more:
  - the jobs: read and watch them, keep their finalizers (ownerReferences that block deletion) and delete
    them when ttlSecondsAfterFinished has passed; their status through the status subresource;
  - the replicas: one batch Job per replica and one headless Service per replica, created together
    (gang start: every replica's Job and Service exist before any reports Running), deleted by cleanPodPolicy;
  - the replicas' pods and their logs, read for replicaStatuses and `kubectl logs`-like access;
  - Events on the jobs (Created, Running, Succeeded, Failed), as Kubeflow's operator records them.
*/}}
{{- define "training-operator.controllerRules" -}}
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs, tfjobs]
  verbs: [get, list, watch, update, patch, delete]
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs/status, tfjobs/status]
  verbs: [get, update, patch]
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs/finalizers, tfjobs/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
