{{/*
Pod securityContext from the chart's ids (its podSecurityContext values) plus the settings no chart may loosen.
*/}}
{{- define "mlplatform-lib.podSecurityContext" -}}
{{- $context := deepCopy (. | default dict) -}}
{{- $_ := set $context "runAsNonRoot" true -}}
{{- $_ := set $context "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml $context -}}
{{- end -}}

{{/* Container securityContext: fixed, for every container of every chart. */}}
{{- define "mlplatform-lib.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
