{{/* The namespaces whose Experiments the service drives: "*" (all), the list, or the release namespace. */}}
{{- define "tuning-service.watchedNamespaces" -}}
{{- if .Values.controller.allNamespaces -}}
*
{{- else -}}
{{- .Values.controller.namespaces | default (list .Release.Namespace) | join "," -}}
{{- end -}}
{{- end -}}

{{/* What the controller does with Katib's objects. */}}
{{- define "tuning-service.controllerRules" -}}
- apiGroups: [kubeflow.org]
  resources: [experiments, trials, suggestions]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [kubeflow.org]
  resources: [experiments/status, trials/status, suggestions/status]
  verbs: [get, update, patch]
{{- end -}}
