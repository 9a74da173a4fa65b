{{/*
The component name. Under the umbrella chart Helm renames a subchart to its alias
(pipelineController), so turn the alias back into the component name (pipeline-controller).
*/}}
{{- define "mlplatform-lib.name" -}}
{{- kebabcase .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
<prefix>-<suffix> in at most 63 characters: (list "prefix" "suffix"). The prefix is cut, never the
suffix, so a long release name cannot make two objects' names collide.
*/}}
{{- define "mlplatform-lib.join" -}}
{{- $suffix := index . 1 | toString -}}
{{- printf "%s-%s" (index . 0 | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{/*
The name of a component's objects in the release: (list $ "minio") -> <release>-minio,
(list $ "model-server" "stable") -> <release>-model-server-stable. Other charts use it to find them.
*/}}
{{- define "mlplatform-lib.componentName" -}}
{{- $context := index . 0 -}}
{{- if gt (len .) 2 -}}
{{- include "mlplatform-lib.join" (list (printf "%s-%s" $context.Release.Name (index . 1)) (index . 2)) -}}
{{- else -}}
{{- include "mlplatform-lib.join" (list $context.Release.Name (index . 1)) -}}
{{- end -}}
{{- end -}}

{{/* <release>-<component>, the base name of every object of the chart. */}}
{{- define "mlplatform-lib.fullname" -}}
{{- include "mlplatform-lib.componentName" (list . (include "mlplatform-lib.name" .)) -}}
{{- end -}}

{{/* <release>-<component>-<suffix>: (list $ "suffix"). */}}
{{- define "mlplatform-lib.fullname.suffixed" -}}
{{- $context := index . 0 -}}
{{- include "mlplatform-lib.componentName" (list $context (include "mlplatform-lib.name" $context) (index . 1)) -}}
{{- end -}}

{{/* The in-cluster URL of a component of the release: (list $ "model-registry" 5000), (list $ "model-server" 8080 "stable"). */}}
{{- define "mlplatform-lib.componentUrl" -}}
{{- $context := index . 0 -}}
{{- $name := include "mlplatform-lib.componentName" (concat (list $context (index . 1)) (slice . 3)) -}}
{{- printf "http://%s:%v" $name (index . 2) -}}
{{- end -}}

{{/* The chart label value: <component>-<version>. */}}
{{- define "mlplatform-lib.chart" -}}
{{- printf "%s-%s" (include "mlplatform-lib.name" .) .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A values key as the user writes it: (list $ "replicaCount") -> "replicaCount" for a chart installed
alone, "modelRegistry.replicaCount" under the umbrella chart (Helm names the subchart by its alias).
*/}}
{{- define "mlplatform-lib.valuesKey" -}}
{{- $context := index . 0 -}}
{{- if contains "/charts/" $context.Template.BasePath }}{{ $context.Chart.Name }}.{{ end }}{{ index . 1 -}}
{{- end -}}

{{/* Refuse values with an error that names the key: (list $ "replicaCount" "must be ..."). */}}
{{- define "mlplatform-lib.fail" -}}
{{- fail (printf "%s: %s" (include "mlplatform-lib.valuesKey" (list (index . 0) (index . 1))) (index . 2)) -}}
{{- end -}}
