{{/* What the controller does with Katib's objects, with the PyTorchJob and TFJob trials it creates (controller.trainingJobs), and, multi-user, with PipelineRun trials' runs. */}}
{{- define "tuning-service.controllerRules" -}}
- apiGroups: [kubeflow.org]
  resources: [experiments, trials, suggestions]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [kubeflow.org]
  resources: [experiments/status, trials/status, suggestions/status]
  verbs: [get, update, patch]
{{- if .Values.controller.trainingJobs }}
- apiGroups: [kubeflow.org]
  resources: [pytorchjobs, tfjobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
{{- end }}
{{- if eq .Values.auth.mode "kubernetes" }}
{{- /* Multi-user: PipelineRun trials call the pipeline controller with this ServiceAccount's token. */}}
{{ include "mlplatform-lib.pipelineTrialRules" . }}
{{- end }}
{{- end -}}
