{{/*
The Host headers MLflow accepts (MLFLOW_SERVER_ALLOWED_HOSTS, fnmatch patterns): its Service names,
localhost, the private pod IPs that probes and Prometheus use, and allowedHosts.
*/}}
{{- define "model-registry.allowedHosts" -}}
{{- $service := include "mlplatform-lib.fullname" . -}}
{{- $hosts := list $service (printf "%s:*" $service) (printf "%s.*" $service)
  "localhost" "localhost:*" "127.0.0.1:*" "10.*" "172.1[6-9].*" "172.2[0-9].*" "172.3[01].*" "192.168.*" -}}
{{- concat $hosts .Values.allowedHosts | join "," -}}
{{- end -}}

{{/* SQLite serves one pod from a ReadWriteOnce volume: refuse more without a database secret. */}}
{{- define "model-registry.checkScaling" -}}
{{- if not .Values.database.existingSecret -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- include "mlplatform-lib.fail" (list . "replicaCount" "more than 1 needs database.existingSecret (SQLite on a ReadWriteOnce volume serves one pod)") -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- include "mlplatform-lib.fail" (list . "autoscaling.enabled" "needs database.existingSecret (SQLite on a ReadWriteOnce volume serves one pod)") -}}
{{- end -}}
{{- end -}}
{{- end -}}
