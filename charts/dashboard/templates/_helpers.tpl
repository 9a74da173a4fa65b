{{/*
The backends the dashboard calls, as a JSON list of {flag, url, component, port}: each enabled
backends.<key>, at backends.<key>.url or else the Service of the release's component (contracts §1).
`component` is empty for a URL outside the release.
*/}}
{{- define "dashboard.backends" -}}
{{- $table := list
  (dict "key" "pipelines" "flag" "--pipelines-url" "component" "pipeline-controller" "port" 8888)
  (dict "key" "tuning" "flag" "--tuning-url" "component" "tuning-service" "port" 8585)
  (dict "key" "registry" "flag" "--registry-url" "component" "model-registry" "port" 5000)
  (dict "key" "prometheus" "flag" "--prometheus-url" "component" "prometheus" "port" 9090)
  (dict "key" "modelServer" "flag" "--model-server-url" "component" "model-server" "port" 8080) -}}
{{- $backends := list -}}
{{- range $table -}}
{{- $settings := index $.Values.backends .key -}}
{{- if $settings.enabled -}}
{{- if $settings.url -}}
{{- $url := urlParse $settings.url -}}
{{- $port := splitList ":" $url.host | rest | first | default (eq $url.scheme "https" | ternary "443" "80") -}}
{{- $backends = append $backends (dict "flag" .flag "url" $settings.url "component" "" "port" (int $port)) -}}
{{- else -}}
{{- $backends = append $backends (dict "flag" .flag "url" (include "mlplatform-lib.componentUrl" (list $ .component .port)) "component" .component "port" .port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $backends -}}
{{- end -}}
