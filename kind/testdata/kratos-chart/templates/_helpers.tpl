{{- define "kratos.image" -}}
{{ printf "%s/%s:%s" .Values.image.registry .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end -}}
{{- define "kratos.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "kratos.env" -}}
- {name: DSN, valueFrom: {secretKeyRef: {name: {{ .Release.Name }}, key: dsn}}}
- {name: COURIER_SMTP_CONNECTION_URI, valueFrom: {secretKeyRef: {name: {{ .Release.Name }}, key: smtpConnectionURI}}}
{{- end -}}
