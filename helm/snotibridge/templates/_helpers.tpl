{{/* Names and labels. */}}
{{- define "snotibridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "snotibridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "snotibridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "snotibridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "snotibridge.labels" -}}
{{ include "snotibridge.selectorLabels" . }}
app.kubernetes.io/part-of: snotibridge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The services, in start order: values key, program (services/<name>). */}}
{{- define "snotibridge.components" -}}
ingest: ingest
decoder: decoder
enosForwarder: enos-forwarder
energismeForwarder: energisme-forwarder
snotiSim: snoti-sim
sinkSim: sink-sim
{{- end -}}

{{/* The consumer services (values key: program): KEDA scales them on their group's lag. */}}
{{- define "snotibridge.consumers" -}}
decoder: decoder
enosForwarder: enos-forwarder
energismeForwarder: energisme-forwarder
{{- end -}}

{{- define "snotibridge.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s/%s:%s" .root.Values.image.registry .root.Values.image.repository .service $tag -}}
{{- end -}}

{{- define "snotibridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "snotibridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
A variable read from a secret reference {value, existingSecret, key}: from
existingSecret when set, else from the chart's Secret when value is set,
else nothing. Call with (dict "root" $ "name" "VAR" "ref" $ref "secret" name)
where secret optionally names the chart-managed Secret to use.
*/}}
{{- define "snotibridge.secretEnv" -}}
{{- $ref := .ref -}}
{{- if or $ref.existingSecret $ref.value }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.existingSecret | default .secret | default (include "snotibridge.fullname" .root) }}
      key: {{ $ref.key }}
{{- end }}
{{- end -}}

{{/* The secret name a secret reference resolves to. */}}
{{- define "snotibridge.secretName" -}}
{{- .ref.existingSecret | default (include "snotibridge.fullname" .root) -}}
{{- end -}}

{{/* SASL mechanism names as KEDA's Kafka scaler spells them. */}}
{{- define "snotibridge.kedaSasl" -}}
{{- $m := dict "" "none" "plain" "plaintext" "scram-sha-256" "scram_sha256" "scram-sha-512" "scram_sha512" -}}
{{- get $m . -}}
{{- end -}}

{{/* Variables every service reads: Kafka, logs, HTTP, shutdown. */}}
{{- define "snotibridge.baseEnv" -}}
{{- include "snotibridge.kafkaEnv" (dict "root" . "secret" "") }}
- name: HTTP_ADDR
  value: ":8080"
- name: SHUTDOWN_TIMEOUT
  value: {{ .Values.shutdownTimeout | quote }}
{{- end -}}

{{/*
Kafka and log variables (bridgectl reads these, not HTTP_ADDR). Call with
(dict "root" $ "secret" name): secret names the chart-managed Secret holding
SASL credentials ("" for the chart's main Secret).
*/}}
{{- define "snotibridge.kafkaEnv" -}}
{{- $secret := .secret -}}
{{- with .root -}}
- name: KAFKA_BROKERS
  value: {{ join "," .Values.kafka.brokers | quote }}
- name: LOG_LEVEL
  value: {{ .Values.log.level | quote }}
- name: LOG_FORMAT
  value: {{ .Values.log.format | quote }}
{{- if .Values.kafka.tls.enabled }}
- name: KAFKA_TLS_ENABLED
  value: "true"
{{- if .Values.kafka.tls.caSecret.name }}
- name: KAFKA_TLS_CA_FILE
  value: /etc/snotibridge/kafka-ca/{{ .Values.kafka.tls.caSecret.key }}
{{- end }}
{{- with .Values.kafka.tls.clientCertSecret }}
{{- if .name }}
- name: KAFKA_TLS_CERT_FILE
  value: /etc/snotibridge/kafka-client/{{ .certKey }}
- name: KAFKA_TLS_KEY_FILE
  value: /etc/snotibridge/kafka-client/{{ .keyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ . | quote }}
{{- end }}
{{- if .Values.kafka.sasl.mechanism }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "KAFKA_SASL_USERNAME" "ref" .Values.kafka.sasl.username "secret" $secret) }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "KAFKA_SASL_PASSWORD" "ref" .Values.kafka.sasl.password "secret" $secret) }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "snotibridge.kafkaVolumeMounts" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/snotibridge/kafka-ca
  readOnly: true
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.clientCertSecret.name }}
- name: kafka-client-cert
  mountPath: /etc/snotibridge/kafka-client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "snotibridge.kafkaVolumes" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: {{ .Values.kafka.tls.caSecret.key }}
{{- end }}
{{- with .Values.kafka.tls.clientCertSecret }}
{{- if and $.Values.kafka.tls.enabled .name }}
- name: kafka-client-cert
  secret:
    secretName: {{ .name }}
    items:
      - key: {{ .certKey }}
        path: {{ .certKey }}
      - key: {{ .keyKey }}
        path: {{ .keyKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Checks run once per render. */}}
{{- define "snotibridge.validate" -}}
{{- $sasl := .Values.kafka.sasl -}}
{{- if and $sasl.mechanism (not (and (or $sasl.username.value $sasl.username.existingSecret) (or $sasl.password.value $sasl.password.existingSecret))) -}}
{{- fail "kafka.sasl.mechanism is set: set kafka.sasl.username and kafka.sasl.password (value or existingSecret)" -}}
{{- end -}}
{{- if and $sasl.mechanism (not .Values.kafka.tls.enabled) -}}
{{- fail (printf "kafka.sasl.mechanism=%s without kafka.tls.enabled=true: the credentials and every record would cross the network unencrypted; set kafka.tls.enabled=true (and kafka.tls.caSecret for a private CA)" $sasl.mechanism) -}}
{{- end -}}
{{- if and .Values.kafka.tls.clientCertSecret.name (not .Values.kafka.tls.enabled) -}}
{{- fail "kafka.tls.clientCertSecret.name is set but kafka.tls.enabled is false: set kafka.tls.enabled=true" -}}
{{- end -}}
{{- range $key, $svc := include "snotibridge.consumers" . | fromYaml -}}
{{- $keda := (index $.Values $key).autoscaling.keda -}}
{{- if and (index $.Values $key).enabled $keda.enabled -}}
{{- if gt (int $keda.maxReplicas) (int $.Values.topics.partitions) -}}
{{- fail (printf "%s.autoscaling.keda.maxReplicas=%d: must be at most topics.partitions (%d); consumers beyond the partition count stay idle" $key (int $keda.maxReplicas) (int $.Values.topics.partitions)) -}}
{{- end -}}
{{- if gt (int $keda.minReplicas) (int $keda.maxReplicas) -}}
{{- fail (printf "%s.autoscaling.keda.minReplicas=%d: must be at most maxReplicas (%d)" $key (int $keda.minReplicas) (int $keda.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- if gt (int (index $.Values $key).replicas) (int $.Values.topics.partitions) -}}
{{- fail (printf "%s.replicas=%d: must be at most topics.partitions (%d)" $key (int (index $.Values $key).replicas) (int $.Values.topics.partitions)) -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor) -}}
{{- fail (printf "topics.minInsyncReplicas=%d: must be at most topics.replicationFactor (%d)" (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor)) -}}
{{- end -}}
{{- end -}}
