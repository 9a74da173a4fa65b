{{/*
Wiring between the components of a release (contracts §1, §4). Each default names the object the
sibling chart creates in the same release, so the umbrella needs no configuration; global.s3 points
every S3 client elsewhere.
*/}}

{{/* The S3 endpoint: global.s3.endpoint, else the release's MinIO. */}}
{{- define "mlplatform-lib.s3.endpoint" -}}
{{- $s3 := (.Values.global | default dict).s3 | default dict -}}
{{- $s3.endpoint | default (include "mlplatform-lib.componentUrl" (list . "minio" 9000)) -}}
{{- end -}}

{{/* The Secret with the S3 credentials (keys root-user, root-password): global.s3.existingSecret, else the release's MinIO secret. */}}
{{- define "mlplatform-lib.s3.secretName" -}}
{{- $s3 := (.Values.global | default dict).s3 | default dict -}}
{{- $s3.existingSecret | default (include "mlplatform-lib.componentName" (list . "minio")) -}}
{{- end -}}

{{/* AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the S3 secret. */}}
{{- define "mlplatform-lib.s3.credentialsEnv" -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "mlplatform-lib.s3.secretName" . }}
      key: root-user
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mlplatform-lib.s3.secretName" . }}
      key: root-password
{{- end -}}

{{/*
MLP_DB_URL: (dict "context" $ "file" "pipelines.db"). The `uri` key of database.existingSecret,
else SQLite on the data volume at /data.
*/}}
{{- define "mlplatform-lib.databaseEnv" -}}
- name: MLP_DB_URL
{{- with .context.Values.database.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: uri
{{- else }}
  value: sqlite:////data/{{ .file }}
{{- end }}
{{- end -}}
