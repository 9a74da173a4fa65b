{{/* The service account the pods run as. */}}
{{- define "mlplatform-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "mlplatform-lib.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount object. Tokens are mounted per pod (podSpec callsApi), never by default. */}}
{{- define "mlplatform-lib.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mlplatform-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}
