{{/*
The hook Jobs and their identities (contracts §5). Config and RBAC are pre-install/pre-upgrade
hooks at weight -10, so they exist before the first hook runs and stay for the post-install hooks
and `helm test`; before-hook-creation replaces them on every upgrade.
*/}}

{{- define "mlplatform.hookName" -}}
{{- include "mlplatform-lib.fullname.suffixed" (list .context .hook) -}}
{{- end -}}

{{- define "mlplatform.configName" -}}
{{- include "mlplatform-lib.fullname.suffixed" (list . "hooks") -}}
{{- end -}}

{{/* Labels of a hook's objects: (dict "context" $ "hook" "preflight"). */}}
{{- define "mlplatform.hookLabels" -}}
{{ include "mlplatform-lib.labels" .context }}
mlplatform.io/hook: {{ .hook }}
{{- end -}}

{{/* The annotations of the config and RBAC objects every hook needs first. */}}
{{- define "mlplatform.hookSetupAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}

{{/* A hook's ServiceAccount: (dict "context" $ "hook" "preflight"). Tokens are mounted per pod. */}}
{{- define "mlplatform.hookServiceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mlplatform.hookName" . }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform.hookLabels" . | nindent 4 }}
  annotations: {{- include "mlplatform.hookSetupAnnotations" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{/* A hook's namespaced Role and RoleBinding: (dict "context" $ "hook" "validate" "rules" <list>). */}}
{{- define "mlplatform.hookRole" -}}
{{- $name := include "mlplatform.hookName" . -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform.hookLabels" . | nindent 4 }}
  annotations: {{- include "mlplatform.hookSetupAnnotations" . | nindent 4 }}
rules: {{- toYaml .rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ .context.Release.Namespace }}
  labels: {{- include "mlplatform.hookLabels" . | nindent 4 }}
  annotations: {{- include "mlplatform.hookSetupAnnotations" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .context.Release.Namespace }}
{{- end -}}

{{/*
A hook Job: (dict "context" $ "hook" "preflight" "settings" .Values.hooks.preflight
"events" "pre-install,pre-upgrade" "weight" -5 "deletePolicy" "..." "command" (list ...)
"callsApi" bool "usesS3" bool "token" bool). "token": a projected ServiceAccount token for the
platform's multi-user services (mlplatform.callerToken).
*/}}
{{- define "mlplatform.hookJob" -}}
{{- $context := .context -}}
{{- $settings := .settings -}}
{{- $name := include "mlplatform.hookName" . -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $name }}
  namespace: {{ $context.Release.Namespace }}
  labels: {{- include "mlplatform.hookLabels" . | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .events }}
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: {{ .deletePolicy }}
spec:
  backoffLimit: {{ $settings.backoffLimit }}
  activeDeadlineSeconds: {{ $settings.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $settings.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels: {{- include "mlplatform.hookLabels" . | nindent 8 }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: {{ .callsApi }}
      {{- include "mlplatform-lib.imagePullSecrets" $context | nindent 6 }}
      securityContext: {{- include "mlplatform-lib.podSecurityContext" $context.Values.hooks.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .hook }}
          image: {{ include "mlplatform-lib.image" (dict "image" $context.Values.hooks.image "context" $context) }}
          imagePullPolicy: {{ $context.Values.hooks.image.pullPolicy }}
          command: {{- toYaml .command | nindent 12 }}
          env:
            - name: MLP_HOOK_CONFIG
              value: /etc/mlplatform/hooks.json
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- if .usesS3 }}
            - name: MLP_S3_ENDPOINT
              value: {{ include "mlplatform-lib.s3.endpoint" $context | quote }}
            {{- include "mlplatform-lib.s3.credentialsEnv" $context | nindent 12 }}
            {{- end }}
            {{- if .token }}
            - name: KF_PIPELINES_SA_TOKEN_PATH
              value: /var/run/secrets/kubeflow/pipelines/token
            {{- end }}
            {{- include "mlplatform-lib.writableEnv" $context | nindent 12 }}
          resources: {{- toYaml $settings.resources | nindent 12 }}
          securityContext: {{- include "mlplatform-lib.containerSecurityContext" $context | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/mlplatform
              readOnly: true
            {{- if .token }}
            - name: platform-token
              mountPath: /var/run/secrets/kubeflow/pipelines
              readOnly: true
            {{- end }}
            {{- include "mlplatform-lib.writableVolumeMounts" $context | nindent 12 }}
      volumes:
        - name: config
          configMap:
            name: {{ include "mlplatform.configName" $context }}
        {{- if .token }}
        {{- /* No audience: the API server's own, the one the services' TokenReview accepts (mlplatform.auth). */}}
        - name: platform-token
          projected:
            sources:
              - serviceAccountToken:
                  path: token
                  expirationSeconds: 3600
        {{- end }}
        {{- include "mlplatform-lib.writableVolumes" $context | nindent 8 }}
{{- end -}}

{{/* Whether any hook runs. */}}
{{- define "mlplatform.anyHook" -}}
{{- $hooks := .Values.hooks -}}
{{- if or $hooks.preflight.enabled $hooks.register.enabled (include "mlplatform.canaryAnalysisEnabled" .) $hooks.validate.enabled -}}true{{- end -}}
{{- end -}}

{{/* The canary analysis runs when there is a canary to analyse. */}}
{{- define "mlplatform.canaryAnalysisEnabled" -}}
{{- if and .Values.hooks.canaryAnalysis.enabled .Values.modelServer.enabled .Values.modelServer.canary.enabled -}}true{{- end -}}
{{- end -}}

{{/* Whether the pipeline controller, the tuning service, or either, is multi-user (auth.mode kubernetes). */}}
{{- define "mlplatform.pipelinesAuth" -}}
{{- if and .Values.pipelineController.enabled (eq (dig "auth" "mode" "none" .Values.pipelineController) "kubernetes") -}}true{{- end -}}
{{- end -}}

{{- define "mlplatform.tuningAuth" -}}
{{- if and .Values.tuningService.enabled (eq (dig "auth" "mode" "none" .Values.tuningService) "kubernetes") -}}true{{- end -}}
{{- end -}}

{{- define "mlplatform.callerToken" -}}
{{- if or (include "mlplatform.pipelinesAuth" .) (include "mlplatform.tuningAuth" .) -}}true{{- end -}}
{{- end -}}

{{/*
What a hook may do on the multi-user services, in the release namespace (their SubjectAccessReview asks):
(dict "context" $ "pipelines" (dict "<KFP resource>" (list verbs...)) "katib" (list verbs...)); a YAML list
of rules, empty when neither service is multi-user.
*/}}
{{- define "mlplatform.callerRules" -}}
{{- $rules := list }}
{{- if include "mlplatform.pipelinesAuth" .context }}
{{- range $resource, $verbs := .pipelines }}
{{- $rules = append $rules (dict "apiGroups" (list "pipelines.kubeflow.org") "resources" (list $resource) "verbs" $verbs) }}
{{- end }}
{{- end }}
{{- if include "mlplatform.tuningAuth" .context }}
{{- $rules = append $rules (dict "apiGroups" (list "kubeflow.org") "resources" (list "experiments") "verbs" .katib) }}
{{- end }}
{{- toYaml $rules }}
{{- end -}}
