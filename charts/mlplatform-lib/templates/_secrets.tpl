{{/*
A generated secret value that survives upgrades: (dict "context" $ "secret" "name" "key" "root-password").
The value already in the cluster is kept (lookup); a new one is generated only on first install.
`helm template` has no cluster, so it always generates. Returns the base64 value for `data:`.
*/}}
{{- define "mlplatform-lib.secrets.generateOnce" -}}
{{- $existing := lookup "v1" "Secret" .context.Release.Namespace .secret | default dict -}}
{{- $data := get $existing "data" | default dict -}}
{{- get $data .key | default (randAlphaNum 32 | b64enc) -}}
{{- end -}}
