{{- define "helmgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "helmgate.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "helmgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
The container securityContext of a process that runs helm/kubectl: .Values.securityContext plus, unless the
configuration turns the render sandbox off, .Values.sandbox.securityContext (the seccomp and AppArmor profiles
that let helmgate create its user/mount/pid/net namespaces). Helm reads `off` as false: both mean off.
*/}}
{{- define "helmgate.rendererSecurityContext" -}}
{{- $sc := deepCopy .Values.securityContext -}}
{{- $render := default dict .Values.config.render -}}
{{- $off := false -}}
{{- if hasKey $render "sandbox" -}}
{{- $v := toString $render.sandbox -}}
{{- $off = or (eq $v "off") (eq $v "false") -}}
{{- end -}}
{{- if not $off -}}
{{- $sc = mergeOverwrite $sc (deepCopy .Values.sandbox.securityContext) -}}
{{- end -}}
{{- toYaml $sc -}}
{{- end -}}
