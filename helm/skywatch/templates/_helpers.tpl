{{/* Chart name, truncated to Kubernetes' 63 characters. */}}
{{- define "skywatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: <release>-skywatch, or the release name when it already says so. */}}
{{- define "skywatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Common labels; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "skywatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: skywatch
{{- end }}

{{/* Selector labels; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "skywatch.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "skywatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret with the credentials: always the operator's own (existingSecret). */}}
{{- define "skywatch.secretName" -}}
{{- required "existingSecret is required: create a Secret with DJANGO_SECRET_KEY, DATABASE_URL and REDIS_URL (README, Deployment) and set existingSecret to its name" .Values.existingSecret }}
{{- end }}

{{- define "skywatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "skywatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "skywatch.allowedHosts" -}}
{{- $hosts := .Values.config.allowedHosts | default .Values.ingress.host }}
{{- required "config.allowedHosts (or ingress.host) is required: Django refuses every other Host" $hosts }}
{{- end }}

{{/* Non-secret settings as KEY: "value" lines, for the ConfigMap and the hook Job alike. */}}
{{- define "skywatch.configData" -}}
DJANGO_ENV: "prod"
DJANGO_ALLOWED_HOSTS: {{ include "skywatch.allowedHosts" . | quote }}
DJANGO_CSRF_TRUSTED_ORIGINS: {{ .Values.config.csrfTrustedOrigins | default (printf "https://%s" (include "skywatch.allowedHosts" . | splitList "," | first)) | quote }}
{{- if .Values.ingress.enabled }}
FORWARDED_ALLOW_IPS: {{ required "config.trustedProxies is required with the ingress: the addresses or networks of the ingress controller's pods (e.g. 10.0.0.0/8), whose X-Forwarded-For is believed" .Values.config.trustedProxies | quote }}
{{- else if .Values.config.trustedProxies }}
FORWARDED_ALLOW_IPS: {{ .Values.config.trustedProxies | quote }}
{{- end }}
WEATHER_PROVIDER: {{ .Values.config.weatherProvider | quote }}
WEATHER_REFRESH_SECONDS: {{ .Values.config.weatherRefreshSeconds | quote }}
{{- with .Values.config.providerRateLimit }}
PROVIDER_RATE_LIMIT: {{ . | quote }}
{{- end }}
OPENWEATHER_API_KEY_FILE: "/etc/skywatch/secrets/openweather-api-key"
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
SENTRY_ENVIRONMENT: {{ .Values.config.sentryEnvironment | quote }}
SENTRY_RELEASE: {{ printf "skywatch@%s" (default .Chart.AppVersion .Values.image.tag) | quote }}
SENTRY_TRACES_SAMPLE_RATE: {{ .Values.config.sentryTracesSampleRate | quote }}
METRICS_PORT: {{ ternary (toString .Values.metrics.port) "" .Values.metrics.enabled | quote }}
{{- range $name, $value := .Values.config.extraEnv }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Credentials from existingSecret, each by key; SENTRY_DSN may be absent. */}}
{{- define "skywatch.secretEnv" -}}
{{- $secret := include "skywatch.secretName" . -}}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secretKeys.djangoSecretKey }}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secretKeys.databaseUrl }}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secretKeys.redisUrl }}}
- name: SENTRY_DSN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secretKeys.sentryDsn }}, optional: true}
{{- end }}

{{/* A component's container environment; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.containerEnv" -}}
{{- $values := index .root.Values .component -}}
envFrom:
  - configMapRef:
      name: {{ include "skywatch.fullname" .root }}
env:
{{- include "skywatch.secretEnv" .root | nindent 2 }}
{{- if eq .component "web" }}
  - name: WEB_CONCURRENCY
    value: {{ $values.concurrency | quote }}
{{- else if eq .component "worker" }}
  - name: CELERY_WORKER_CONCURRENCY
    value: {{ $values.concurrency | quote }}
{{- end }}
{{- with $values.extraEnv }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "skywatch.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: provider-key
  mountPath: /etc/skywatch/secrets
  readOnly: true
{{- end }}

{{/* /tmp for the read-only root filesystem; the OpenWeather key as a file, when present. */}}
{{- define "skywatch.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: provider-key
  secret:
    secretName: {{ include "skywatch.secretName" . }}
    optional: true
    items:
      - key: {{ .Values.secretKeys.openweatherApiKey }}
        path: openweather-api-key
{{- end }}

{{/* Pod-level fields shared by every component; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.podSpec" -}}
{{- $values := index .root.Values .component -}}
serviceAccountName: {{ include "skywatch.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds | default 30 }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "skywatch.volumes" .root | nindent 2 }}
{{- end }}

{{/* Pod annotations: a config checksum, so a changed ConfigMap rolls the pods. */}}
{{- define "skywatch.podAnnotations" -}}
checksum/config: {{ include "skywatch.configData" .root | sha256sum }}
{{- with (index .root.Values .component).podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A component's HorizontalPodAutoscaler; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.hpa" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "skywatch.fullname" .root }}-{{ .component }}
  labels:
    {{- include "skywatch.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "skywatch.fullname" .root }}-{{ .component }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/* A component's PodDisruptionBudget; call with (dict "root" $ "component" "web"). */}}
{{- define "skywatch.pdb" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "skywatch.fullname" .root }}-{{ .component }}
  labels:
    {{- include "skywatch.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "skywatch.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* Pods that serve /metrics carry this label: the metrics Service selects them by it. */}}
{{- define "skywatch.metricsPodLabels" -}}
{{- if .root.Values.metrics.enabled }}
skywatch.io/metrics: "true"
{{- end }}
{{- end }}

{{/* The metrics port of a container, as a `ports:` entry (nothing when metrics are off). */}}
{{- define "skywatch.metricsContainerPort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
{{- end }}
{{- end }}
