{{/*
auth.mode kubernetes: the service asks the API server who a token is (TokenReview) and whether that
user may act in a namespace (SubjectAccessReview). Both are cluster-scoped creates with no object to name,
so they need a ClusterRole; it grants those two creates and nothing else, to the chart's service account.
Renders nothing unless auth.mode is kubernetes and rbac.create is on.
*/}}
{{- define "mlplatform-lib.authReviewRbac" -}}
{{- if and (eq .Values.auth.mode "kubernetes") .Values.rbac.create }}
{{- /* <release>-<component>-auth-reviews, the release cut first: two services' grants never collide. */}}
{{- $name := include "mlplatform-lib.componentName" (list . (printf "%s-auth-reviews" (include "mlplatform-lib.name" .))) }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ $name }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
    mlplatform.io/purpose: auth-reviews
rules:
  - apiGroups: ["authentication.k8s.io"]
    resources: ["tokenreviews"]
    verbs: ["create"]
  - apiGroups: ["authorization.k8s.io"]
    resources: ["subjectaccessreviews"]
    verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $name }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ include "mlplatform-lib.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
{{- end -}}

{{/*
What the tuning service's ServiceAccount may do on a multi-user pipeline controller for PipelineRun trials, in
an experiment's namespace (the runs' KFP experiment found or made, a named pipeline found, the run created, read
and terminated): rules for a Role, as YAML.
*/}}
{{- define "mlplatform-lib.pipelineTrialRules" -}}
- apiGroups: [pipelines.kubeflow.org]
  resources: [runs]
  verbs: [get, create, update]
- apiGroups: [pipelines.kubeflow.org]
  resources: [experiments]
  verbs: [get, list, create]
- apiGroups: [pipelines.kubeflow.org]
  resources: [pipelines]
  verbs: [get, list]
{{- end -}}
