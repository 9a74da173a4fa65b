{{/*
The pod-level settings every workload shares: (dict "context" $ "callsApi" true|false).
Only pods that call the Kubernetes API get a service account token.
*/}}
{{- define "mlplatform-lib.podSpec" -}}
{{- $values := .context.Values -}}
serviceAccountName: {{ include "mlplatform-lib.serviceAccountName" .context }}
automountServiceAccountToken: {{ .callsApi }}
{{- include "mlplatform-lib.imagePullSecrets" .context }}
securityContext: {{- include "mlplatform-lib.podSecurityContext" $values.podSecurityContext | nindent 2 }}
{{- with $values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
{{- if $values.affinity }}
  {{- toYaml $values.affinity | nindent 2 }}
{{- else }}
  {{- /* Spread replicas over nodes when the scheduler can. */}}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels: {{- include "mlplatform-lib.selectorLabels" .context | nindent 14 }}
{{- end }}
{{- with $values.topologySpreadConstraints }}
topologySpreadConstraints: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A probe: (dict "name" "livenessProbe" "settings" .Values.livenessProbe "httpGet" (dict "path" "/healthz" "port" "http")). */}}
{{- define "mlplatform-lib.probe" -}}
{{- if .settings.enabled -}}
{{ .name }}:
  httpGet: {{- toYaml .httpGet | nindent 4 }}
{{- toYaml (omit .settings "enabled") | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* HOME for every container: a read-only root filesystem needs it on an emptyDir. */}}
{{- define "mlplatform-lib.homeDir" -}}
/home/mlplatform
{{- end -}}

{{- define "mlplatform-lib.writableEnv" -}}
- name: HOME
  value: {{ include "mlplatform-lib.homeDir" . }}
{{- end -}}

{{- define "mlplatform-lib.writableVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: home
  mountPath: {{ include "mlplatform-lib.homeDir" . }}
{{- end -}}

{{- define "mlplatform-lib.writableVolumes" -}}
- name: tmp
  emptyDir: {}
- name: home
  emptyDir: {}
{{- end -}}

{{/* A checksum annotation that rolls the pods when a rendered template changes: (list $ "/configmap.yaml"). */}}
{{- define "mlplatform-lib.checksum" -}}
{{- $context := index . 0 -}}
{{- include (print $context.Template.BasePath (index . 1)) $context | sha256sum -}}
{{- end -}}
