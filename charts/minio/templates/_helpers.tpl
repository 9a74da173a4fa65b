{{/* The Secret with the root credentials: auth.existingSecret, global.s3.existingSecret, else the chart's own. */}}
{{- define "minio.secretName" -}}
{{- .Values.auth.existingSecret | default (include "mlplatform-lib.s3.secretName" .) -}}
{{- end -}}

{{/* Whether the chart creates the secret. */}}
{{- define "minio.createSecret" -}}
{{- eq (include "minio.secretName" .) (include "mlplatform-lib.fullname" .) | ternary "true" "" -}}
{{- end -}}

{{/* The drives MinIO serves: /data alone, or every pod's /data in distributed mode. */}}
{{- define "minio.volumes" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if eq $replicas 1 -}}
/data
{{- else -}}
{{- printf "http://%s-{0...%d}.%s.%s.svc.%s/data" (include "mlplatform-lib.fullname" .) (sub $replicas 1) (include "mlplatform-lib.fullname.suffixed" (list . "headless")) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}
{{- end -}}
