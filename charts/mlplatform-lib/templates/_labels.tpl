{{/*
Selector labels: name and instance only, so an upgrade never changes an immutable selector.
*/}}
{{- define "mlplatform-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlplatform-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Kubernetes recommended labels every object carries. */}}
{{- define "mlplatform-lib.labels" -}}
{{ include "mlplatform-lib.selectorLabels" . }}
app.kubernetes.io/component: {{ include "mlplatform-lib.name" . }}
app.kubernetes.io/part-of: mlplatform
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ include "mlplatform-lib.chart" . }}
{{- end -}}

{{/* The pod template labels: the recommended labels plus the chart's podLabels. */}}
{{- define "mlplatform-lib.podLabels" -}}
{{ include "mlplatform-lib.labels" . }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Prometheus scrape annotations (contracts §1): (dict "port" 8082 "path" "/metrics").
*/}}
{{- define "mlplatform-lib.metricsAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: {{ .path | quote }}
{{- end -}}
