{{/*
The platform services that run work as Kubernetes Jobs through the runner interface: the pipeline
controller and the tuning service. Both charts render these with their own command and port.
*/}}

{{/* The service account the task and trial pods run as (MLP_TASK_SERVICE_ACCOUNT). */}}
{{- define "mlplatform-lib.runner.taskServiceAccountName" -}}
{{- .Values.tasks.serviceAccount.name | default (include "mlplatform-lib.fullname.suffixed" (list . "task")) -}}
{{- end -}}

{{/* The task ServiceAccount: no API access and no token. */}}
{{- define "mlplatform-lib.runner.taskServiceAccount" -}}
{{- if .Values.tasks.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mlplatform-lib.runner.taskServiceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{/* Run Jobs, read their pods and logs: all the runner does with the API. */}}
{{- define "mlplatform-lib.runner.rbac" -}}
{{- if .Values.rbac.create -}}
{{- $rules := list
  (dict "apiGroups" (list "batch") "resources" (list "jobs") "verbs" (list "create" "get" "list" "watch" "patch" "delete"))
  (dict "apiGroups" (list "") "resources" (list "pods") "verbs" (list "get" "list" "watch"))
  (dict "apiGroups" (list "") "resources" (list "pods/log") "verbs" (list "get"))
-}}
{{- include "mlplatform-lib.role" (dict "context" . "rules" $rules) -}}
{{- end -}}
{{- end -}}

{{/* The runner's settings (contracts §3), as the service's environment. */}}
{{- define "mlplatform-lib.runner.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "mlplatform-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" . | nindent 4 }}
data:
  MLP_S3_ENDPOINT: {{ include "mlplatform-lib.s3.endpoint" . | quote }}
  MLP_S3_SECRET: {{ include "mlplatform-lib.s3.secretName" . | quote }}
  MLP_TASK_IMAGE: {{ .Values.tasks.image | default (include "mlplatform-lib.image" (dict "image" .Values.image "context" .)) | quote }}
  MLP_TASK_SERVICE_ACCOUNT: {{ include "mlplatform-lib.runner.taskServiceAccountName" . | quote }}
{{- end -}}

{{/*
The service's Deployment: (dict "context" $ "port" 8888 "dbFile" "pipelines.db" "command" <list>).
A singleton: it schedules the work, so two replicas would run it twice; Recreate frees the volume first.
"taskSettings" false (default true): a controller whose pods come from the user's objects (the training
operator) has no runner ConfigMap and no S3 credentials.
*/}}
{{- define "mlplatform-lib.runner.deployment" -}}
{{- $context := .context -}}
{{- $values := $context.Values -}}
{{- $name := include "mlplatform-lib.name" $context -}}
{{- $taskSettings := ternary true .taskSettings (not (hasKey . "taskSettings")) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mlplatform-lib.fullname" $context }}
  namespace: {{ $context.Release.Namespace }}
  labels: {{- include "mlplatform-lib.labels" $context | nindent 4 }}
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels: {{- include "mlplatform-lib.selectorLabels" $context | nindent 6 }}
  template:
    metadata:
      labels: {{- include "mlplatform-lib.podLabels" $context | nindent 8 }}
      annotations:
        {{- if $taskSettings }}
        checksum/config: {{ include "mlplatform-lib.checksum" (list $context "/configmap.yaml") }}
        {{- end }}
        {{- include "mlplatform-lib.metricsAnnotations" (dict "port" .port "path" "/metrics") | nindent 8 }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "mlplatform-lib.podSpec" (dict "context" $context "callsApi" true) | nindent 6 }}
      containers:
        - name: {{ $name }}
          image: {{ include "mlplatform-lib.image" (dict "image" $values.image "context" $context) }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          command: {{- toYaml .command | nindent 12 }}
          {{- if $taskSettings }}
          envFrom:
            - configMapRef:
                name: {{ include "mlplatform-lib.fullname" $context }}
          {{- end }}
          env:
            {{- include "mlplatform-lib.databaseEnv" (dict "context" $context "file" .dbFile) | nindent 12 }}
            {{- if $taskSettings }}
            {{- include "mlplatform-lib.s3.credentialsEnv" $context | nindent 12 }}
            {{- end }}
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: MLP_RELEASE_NAME   # multi-user mode: tasks run as <release>-<namespace>-runner (values.profiles)
              value: {{ $context.Release.Name | quote }}
            {{- include "mlplatform-lib.writableEnv" $context | nindent 12 }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          {{- include "mlplatform-lib.probe" (dict "name" "livenessProbe" "settings" $values.livenessProbe "httpGet" (dict "path" "/healthz" "port" "http")) | nindent 10 }}
          {{- include "mlplatform-lib.probe" (dict "name" "readinessProbe" "settings" $values.readinessProbe "httpGet" (dict "path" "/readyz" "port" "http")) | nindent 10 }}
          resources: {{- toYaml $values.resources | nindent 12 }}
          securityContext: {{- include "mlplatform-lib.containerSecurityContext" $context | nindent 12 }}
          volumeMounts:
            {{- include "mlplatform-lib.writableVolumeMounts" $context | nindent 12 }}
            {{- if not $values.database.existingSecret }}
            - name: data
              mountPath: /data
            {{- end }}
      volumes:
        {{- include "mlplatform-lib.writableVolumes" $context | nindent 8 }}
        {{- if not $values.database.existingSecret }}
        {{- include "mlplatform-lib.dataVolume" $context | nindent 8 }}
        {{- end }}
{{- end -}}
