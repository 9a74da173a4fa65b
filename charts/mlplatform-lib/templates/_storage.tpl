{{/*
storageClassName for (dict "persistence" .Values.persistence "context" $): persistence.storageClass,
else global.storageClass; "-" means "" (no dynamic provisioning); unset means the cluster default.
*/}}
{{- define "mlplatform-lib.storageClass" -}}
{{- $global := .context.Values.global | default dict -}}
{{- $class := .persistence.storageClass | default $global.storageClass -}}
{{- if $class -}}
storageClassName: {{ eq $class "-" | ternary "" $class | quote }}
{{- end -}}
{{- end -}}

{{/* The claim a single-replica workload mounts for its state: the chart's own or persistence.existingClaim. */}}
{{- define "mlplatform-lib.claimName" -}}
{{- .Values.persistence.existingClaim | default (include "mlplatform-lib.fullname" .) -}}
{{- end -}}

{{/* The chart's PersistentVolumeClaim, kept on uninstall: it holds the component's state. */}}
{{- define "mlplatform-lib.persistentVolumeClaim" -}}
{{- if and .Values.persistence.enabled (not .Values.persistence.existingClaim) -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "mlplatform-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  accessModes: {{- toYaml .Values.persistence.accessModes | nindent 4 }}
  {{- with include "mlplatform-lib.storageClass" (dict "persistence" .Values.persistence "context" .) }}
  {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .Values.persistence.size | quote }}
{{- end -}}
{{- end -}}

{{/* The state volume: the claim when persistence is on, else an emptyDir (state lost with the pod). */}}
{{- define "mlplatform-lib.dataVolume" -}}
- name: data
{{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "mlplatform-lib.claimName" . }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}

{{/* A StatefulSet's claim template named `data`, one claim per pod, from .Values.persistence. */}}
{{- define "mlplatform-lib.volumeClaimTemplate" -}}
- metadata:
    name: data
    labels: {{- include "mlplatform-lib.selectorLabels" . | nindent 6 }}
  spec:
    accessModes: {{- toYaml .Values.persistence.accessModes | nindent 6 }}
    {{- with include "mlplatform-lib.storageClass" (dict "persistence" .Values.persistence "context" .) }}
    {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ .Values.persistence.size | quote }}
{{- end -}}
