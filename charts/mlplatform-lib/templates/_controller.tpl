{{/*
Services that act as the controller of custom resources in a set of namespaces (the tuning service
for Katib's objects, the training operator for PyTorchJob and TFJob), from their values:
  controller.namespaces     the namespaces watched; empty means the release namespace
  controller.allNamespaces  every namespace, through a ClusterRole (the Role per namespace otherwise)
*/}}

{{/* The --watch-namespaces value: "*" (all), the list, or the release namespace. */}}
{{- define "mlplatform-lib.controller.watchedNamespaces" -}}
{{- if .Values.controller.allNamespaces -}}
*
{{- else -}}
{{- .Values.controller.namespaces | default (list .Release.Namespace) | join "," -}}
{{- end -}}
{{- end -}}

{{/*
The controller's grant, bound to the chart's service account: (dict "context" $ "rules" <YAML list of rules>).
A Role and RoleBinding named <fullname>-controller in each watched namespace, or with allNamespaces a
ClusterRole and ClusterRoleBinding. Renders nothing without rbac.create.
*/}}
{{- define "mlplatform-lib.controller.rbac" -}}
{{- $context := .context -}}
{{- $rules := .rules -}}
{{- if $context.Values.rbac.create }}
{{- /* <release>-<component>-controller, the release cut first: two controllers' names never collide. */}}
{{- $name := include "mlplatform-lib.componentName" (list $context (printf "%s-controller" (include "mlplatform-lib.name" $context))) }}
{{- $subject := dict "kind" "ServiceAccount" "name" (include "mlplatform-lib.serviceAccountName" $context) "namespace" $context.Release.Namespace }}
{{- if $context.Values.controller.allNamespaces }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ $name }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
rules: {{- $rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $name }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - {{- toYaml $subject | nindent 4 }}
{{- else }}
{{- range $namespace := $context.Values.controller.namespaces | default (list $context.Release.Namespace) }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ $namespace }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
rules: {{- $rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ $namespace }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - {{- toYaml $subject | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
