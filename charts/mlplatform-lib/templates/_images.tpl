{{/*
The image reference: (dict "image" .Values.image "context" $).
global.imageRegistry overrides every registry (air-gapped clusters); the tag defaults to appVersion.
*/}}
{{- define "mlplatform-lib.image" -}}
{{- $global := .context.Values.global | default dict -}}
{{- $registry := $global.imageRegistry | default .image.registry -}}
{{- $tag := .image.tag | default .context.Chart.AppVersion | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets from global.imagePullSecrets and the chart's imagePullSecrets (names or {name}). */}}
{{- define "mlplatform-lib.imagePullSecrets" -}}
{{- $global := .Values.global | default dict -}}
{{- $names := list -}}
{{- range concat ($global.imagePullSecrets | default list) (.Values.imagePullSecrets | default list) -}}
{{- if kindIs "map" . }}{{ $names = append $names .name }}{{ else }}{{ $names = append $names . }}{{ end -}}
{{- end -}}
{{- with uniq $names }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}
