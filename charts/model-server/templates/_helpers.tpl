{{/* The models a track serves: the canary's own, else the stable ones. */}}
{{- define "model-server.models" -}}
{{- $models := .context.Values.models -}}
{{- if and (eq .track "canary") .context.Values.canary.models -}}
{{- $models = .context.Values.canary.models -}}
{{- end -}}
{{- toJson $models -}}
{{- end -}}

{{/*
The pods of each track, as JSON {"stable": n, "canary": n} (null: the autoscaler decides).
The replicas router splits replicaCount by canary.weight, keeping at least one pod on each
track that gets traffic; the other routers run replicaCount stable and canary.replicas canary pods.
*/}}
{{- define "model-server.replicas" -}}
{{- $values := .Values -}}
{{- $weight := int $values.canary.weight -}}
{{- $total := int $values.replicaCount -}}
{{- if not $values.canary.enabled -}}
{{- dict "stable" ($values.autoscaling.enabled | ternary nil $total) "canary" 0 | toJson -}}
{{- else if eq $values.router.type "replicas" -}}
{{- $canary := div (add (mul $total $weight) 50) 100 | int -}}
{{- if and (gt $weight 0) (lt $canary 1) }}{{ $canary = 1 }}{{ end -}}
{{- if and (lt $weight 100) (ge $canary $total) }}{{ $canary = sub $total 1 | int }}{{ end -}}
{{- dict "stable" (sub $total $canary) "canary" $canary | toJson -}}
{{- else -}}
{{- dict "stable" ($values.autoscaling.enabled | ternary nil $total) "canary" $values.canary.replicas | toJson -}}
{{- end -}}
{{- end -}}

{{/* Refuse values the templates cannot honour, naming the key. */}}
{{- define "model-server.validate" -}}
{{- $values := .Values -}}
{{- if and (not $values.canary.enabled) (gt (int $values.canary.weight) 0) -}}
{{- include "mlplatform-lib.fail" (list . "canary.weight" "is above 0 but canary.enabled is false") -}}
{{- end -}}
{{- if and $values.autoscaling.enabled (eq $values.router.type "replicas") -}}
{{- include "mlplatform-lib.fail" (list . "autoscaling.enabled" "does not work with router.type replicas, which sets the replica counts itself; use gateway-api, istio or nginx") -}}
{{- end -}}
{{- if and $values.canary.enabled (eq $values.router.type "replicas") (lt (int $values.replicaCount) 2) -}}
{{- include "mlplatform-lib.fail" (list . "replicaCount" "must be at least 2 for a canary with router.type replicas, which splits the pods between the tracks") -}}
{{- end -}}
{{- range $key := list "models" "canary.models" -}}
{{- $names := list -}}
{{- range (eq $key "models" | ternary $values.models $values.canary.models) -}}
{{- if has .name $names -}}
{{- include "mlplatform-lib.fail" (list $ $key (printf "model name %q appears twice" .name)) -}}
{{- end -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The model-settings.json of each model, for the MLServer model repository. */}}
{{- define "model-server.modelSettings" -}}
{{- $settings := dict "name" .name "implementation" .implementation "parameters" (dict "uri" "./") -}}
{{- toPrettyJson $settings -}}
{{- end -}}

{{/* The selector labels of a track: (dict "context" $ "track" "stable"). Constant per Deployment. */}}
{{- define "model-server.trackSelectorLabels" -}}
{{ include "mlplatform-lib.selectorLabels" .context }}
track: {{ .track }}
{{- end -}}

{{/* An ingress-nginx Ingress to a track's Service: (dict "context" $ "name" .. "service" .. "annotations" ..). */}}
{{- define "model-server.ingress" -}}
{{- $nginx := .context.Values.router.nginx -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .name }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
  {{- with merge (deepCopy .annotations) $nginx.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $nginx.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with $nginx.tls }}
  tls: {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    - {{- with $nginx.host }}
      host: {{ . }}
      {{- end }}
      http:
        paths:
          - path: {{ $nginx.path }}
            pathType: Prefix
            backend:
              service:
                name: {{ .service }}
                port:
                  name: http
{{- end -}}
