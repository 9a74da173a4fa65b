{{/*
A Service: (dict "context" $ "ports" (dict "http" 8888) "name" <default fullname> "selector" <extra selector labels>).
Ports are the contract ports (contracts §1); targetPort is the container port of the same name.
*/}}
{{- define "mlplatform-lib.service" -}}
{{- $context := .context -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name | default (include "mlplatform-lib.fullname" $context) }}
  namespace: {{ $context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
  {{- with $context.Values.service.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $context.Values.service.type }}
  selector: {{- include "mlplatform-lib.policySelector" . | nindent 4 }}
  ports:
    {{- range $portName, $port := .ports }}
    - name: {{ $portName }}
      port: {{ $port }}
      targetPort: {{ $portName }}
      protocol: TCP
    {{- end }}
{{- end -}}
