{{/*
The policy objects every chart offers, switched by its values.
Each takes (dict "context" $ "name" <object name, default the fullname> "selector" <extra selector labels>).
*/}}

{{- define "mlplatform-lib.policySelector" -}}
{{- include "mlplatform-lib.selectorLabels" .context }}
{{- with .selector }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* PodDisruptionBudget (pdb.enabled): minAvailable when set, else maxUnavailable. */}}
{{- define "mlplatform-lib.podDisruptionBudget" -}}
{{- $pdb := .context.Values.pdb -}}
{{- if $pdb.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name | default (include "mlplatform-lib.fullname" .context) }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
spec:
  {{- if ne (toString ($pdb.minAvailable | default "")) "" }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels: {{- include "mlplatform-lib.policySelector" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* HorizontalPodAutoscaler (autoscaling.enabled) for the Deployment named .name. */}}
{{- define "mlplatform-lib.horizontalPodAutoscaler" -}}
{{- $autoscaling := .context.Values.autoscaling -}}
{{- if $autoscaling.enabled -}}
{{- $name := .name | default (include "mlplatform-lib.fullname" .context) -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $autoscaling.minReplicas }}
  maxReplicas: {{ $autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy (networkPolicy.enabled): ingress on .ports only, from pods of the release's namespace
and from networkPolicy.extraIngressFrom (e.g. the ingress controller's namespace).
With "egress" (a list of NetworkPolicyEgressRules, see mlplatform-lib.egressToComponent), egress is
restricted too: to DNS (port 53), those rules and networkPolicy.extraEgress; without it, egress stays open.
*/}}
{{- define "mlplatform-lib.networkPolicy" -}}
{{- $networkPolicy := .context.Values.networkPolicy -}}
{{- if $networkPolicy.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name | default (include "mlplatform-lib.fullname" .context) }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" .context | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- include "mlplatform-lib.policySelector" . | nindent 6 }}
  policyTypes: {{ hasKey . "egress" | ternary "[Ingress, Egress]" "[Ingress]" }}
  ingress:
    - from:
        - podSelector: {}
        {{- with $networkPolicy.extraIngressFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- range .ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
  {{- if hasKey . "egress" }}
  egress:
    {{- /* Name resolution, wherever the cluster's resolver runs (a pod, a node-local cache). */}}
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- with .egress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $networkPolicy.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/*
An egress rule to a component of the release: (list $ "prometheus" 9090) -> its pods on that port.
*/}}
{{- define "mlplatform-lib.egressToComponent" -}}
{{- $context := index . 0 -}}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: {{ index . 1 }}
          app.kubernetes.io/instance: {{ $context.Release.Name }}
  ports:
    - port: {{ index . 2 }}
      protocol: TCP
{{- end -}}
