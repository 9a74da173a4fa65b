{{/*
A namespaced Role and its RoleBinding to the chart's service account: (dict "context" $ "rules" <list>).
*/}}
{{- define "mlplatform-lib.role" -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "mlplatform-lib.fullname" .context }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
rules: {{- toYaml .rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "mlplatform-lib.fullname" .context }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "mlplatform-lib.fullname" .context }}
subjects:
  - kind: ServiceAccount
    name: {{ include "mlplatform-lib.serviceAccountName" .context }}
    namespace: {{ .context.Release.Namespace }}
{{- end -}}
