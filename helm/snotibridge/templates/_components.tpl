{{/*
Per service: its own variables, volumes and mounts, and extra ports. Each
template takes the root context. The variable names are the envconfig tags
of the service's Config; tools/deploycheck fails when one is not read.
*/}}

{{/* <svc>.env: name: value, or name: {valueFrom: ...}. */}}
{{- define "snotibridge.extraEnv" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
{{- if kindIs "map" $v }}
  valueFrom:
    {{- toYaml $v.valueFrom | nindent 4 }}
{{- else }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* GOMEMLIMIT (Go runtime, not envconfig): the container's memory limit
in bytes, so the GC works harder before the kernel's OOM killer does. */}}
{{- define "snotibridge.memLimitEnv" -}}
{{- if and .resources.limits .resources.limits.memory }}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      containerName: {{ .service }}
      resource: limits.memory
{{- end }}
{{- end -}}

{{/* ingest */}}
{{- define "snotibridge.env.ingest" -}}
{{- $s := .Values.ingest.snoti -}}
{{- if .Values.snotiSim.enabled }}
- name: SNOTI_ADDR
  value: {{ printf "%s-snoti-sim:2017" (include "snotibridge.fullname" .) | quote }}
- name: SNOTI_PROTOCOL
  value: v1
- name: SNOTI_ENTERPRISE_ID
  value: sim-enterprise
- name: SNOTI_ENTERPRISE_SECRET
  value: sim-secret
- name: SNOTI_CA_FILE
  value: /etc/snotibridge/snoti-ca/ca.crt
{{- else }}
- name: SNOTI_ADDR
  value: {{ $s.addr | quote }}
- name: SNOTI_PROTOCOL
  value: {{ $s.protocol | quote }}
{{- with $s.enterpriseId }}
- name: SNOTI_ENTERPRISE_ID
  value: {{ . | quote }}
{{- end }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "SNOTI_ENTERPRISE_SECRET" "ref" $s.enterpriseSecret) }}
{{- if or $s.products.value $s.products.existingSecret }}
- name: SNOTI_PRODUCTS_FILE
  value: /etc/snotibridge/snoti-products/products.json
{{- end }}
{{- if $s.caSecret.name }}
- name: SNOTI_CA_FILE
  value: /etc/snotibridge/snoti-ca/{{ $s.caSecret.key }}
{{- end }}
{{- with $s.serverName }}
- name: SNOTI_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $s.insecureSkipVerify }}
- name: SNOTI_INSECURE_SKIP_VERIFY
  value: "true"
{{- end }}
{{- end }}
- name: SNOTI_PREFETCH
  value: {{ $s.prefetch | quote }}
- name: SNOTI_CONNECTIONS
  value: {{ $s.connections | quote }}
- name: SNOTI_HEARTBEAT
  value: {{ $s.heartbeat | quote }}
- name: TOPIC_EVENTS
  value: {{ .Values.topics.events | quote }}
- name: TOPIC_INVALID
  value: {{ .Values.topics.invalid | quote }}
{{- with .Values.ingest.commands }}
{{- if .enabled }}
- name: COMMANDS_ENABLED
  value: "true"
{{- with .path }}
- name: COMMANDS_PATH
  value: {{ . | quote }}
{{- end }}
- name: COMMANDS_CONCURRENCY
  value: {{ .concurrency | quote }}
- name: COMMANDS_DEDUPE_WINDOW
  value: {{ .dedupeWindow | quote }}
- name: TOPIC_COMMANDS
  value: {{ $.Values.topics.commands | quote }}
- name: TOPIC_COMMAND_RESULTS
  value: {{ $.Values.topics.commandResults | quote }}
- name: TOPIC_COMMANDS_DLQ
  value: {{ $.Values.topics.commandsDLQ | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "snotibridge.volumes.ingest" -}}
{{- $s := .Values.ingest.snoti -}}
{{- if .Values.snotiSim.enabled }}
- name: snoti-ca
  secret:
    secretName: {{ include "snotibridge.fullname" . }}-snoti-sim-tls
    items:
      - key: ca.crt
        path: ca.crt
{{- else }}
{{- if or $s.products.value $s.products.existingSecret }}
- name: snoti-products
  secret:
    secretName: {{ include "snotibridge.secretName" (dict "root" . "ref" $s.products) }}
    defaultMode: 0440
    items:
      - key: {{ $s.products.key }}
        path: products.json
{{- end }}
{{- if $s.caSecret.name }}
- name: snoti-ca
  secret:
    secretName: {{ $s.caSecret.name }}
    items:
      - key: {{ $s.caSecret.key }}
        path: {{ $s.caSecret.key }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "snotibridge.mounts.ingest" -}}
{{- $s := .Values.ingest.snoti -}}
{{- if or .Values.snotiSim.enabled $s.caSecret.name }}
- name: snoti-ca
  mountPath: /etc/snotibridge/snoti-ca
  readOnly: true
{{- end }}
{{- if and (not .Values.snotiSim.enabled) (or $s.products.value $s.products.existingSecret) }}
- name: snoti-products
  mountPath: /etc/snotibridge/snoti-products
  readOnly: true
{{- end }}
{{- end -}}

{{/* decoder */}}
{{- define "snotibridge.env.decoder" -}}
- name: CODECS_DIR
  value: /etc/snotibridge/codecs
- name: TOPIC_EVENTS
  value: {{ .Values.topics.events | quote }}
- name: TOPIC_TELEMETRY
  value: {{ .Values.topics.telemetry | quote }}
- name: TOPIC_DLQ
  value: {{ .Values.topics.decoderDLQ | quote }}
- name: GROUP_ID
  value: {{ .Values.decoder.groupId | quote }}
{{- end -}}

{{/* A ConfigMap mounted as a folder (no subPath): updates swap its ..data
link and the services reload. */}}
{{- define "snotibridge.volumes.decoder" -}}
- name: codecs
  configMap:
    name: {{ .Values.decoder.codecs.existingConfigMap | default (printf "%s-codecs" (include "snotibridge.fullname" .)) }}
{{- end -}}

{{- define "snotibridge.mounts.decoder" -}}
- name: codecs
  mountPath: /etc/snotibridge/codecs
  readOnly: true
{{- end -}}

{{/* enos-forwarder */}}
{{- define "snotibridge.env.enosForwarder" -}}
{{- $v := .Values.enosForwarder -}}
{{- if .Values.sinkSim.enabled }}
- name: ENOS_APIM_URL
  value: {{ printf "http://%s-sink-sim:8090" (include "snotibridge.fullname" .) | quote }}
- name: ENOS_API_URL
  value: {{ printf "http://%s-sink-sim:8090" (include "snotibridge.fullname" .) | quote }}
# sink-sim serves plain HTTP inside the release: a trial, no real secret.
- name: ENOS_ALLOW_INSECURE_HTTP
  value: "true"
- name: ENOS_ORG_ID
  value: sim-org
- name: ENOS_ACCESS_KEY
  value: sim-access-key
- name: ENOS_SECRET_KEY
  value: sim-secret-key
{{- else }}
- name: ENOS_APIM_URL
  value: {{ $v.enos.apimUrl | quote }}
- name: ENOS_API_URL
  value: {{ $v.enos.apiUrl | quote }}
- name: ENOS_ORG_ID
  value: {{ $v.enos.orgId | quote }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "ENOS_ACCESS_KEY" "ref" $v.enos.accessKey) }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "ENOS_SECRET_KEY" "ref" $v.enos.secretKey) }}
{{- end }}
- name: ENOS_MAPPING_FILE
  value: /etc/snotibridge/mapping/{{ $v.mapping.key }}
- name: TOPIC_TELEMETRY
  value: {{ .Values.topics.telemetry | quote }}
- name: TOPIC_EVENTS
  value: {{ .Values.topics.events | quote }}
- name: TOPIC_DLQ
  value: {{ .Values.topics.enosDLQ | quote }}
- name: GROUP_ID
  value: {{ $v.groupId | quote }}
{{- end -}}

{{- define "snotibridge.volumes.enosForwarder" -}}
- name: mapping
  configMap:
    name: {{ .Values.enosForwarder.mapping.existingConfigMap | default (printf "%s-enos-mapping" (include "snotibridge.fullname" .)) }}
{{- end -}}

{{- define "snotibridge.mounts.enosForwarder" -}}
- name: mapping
  mountPath: /etc/snotibridge/mapping
  readOnly: true
{{- end -}}

{{/* energisme-forwarder */}}
{{- define "snotibridge.env.energismeForwarder" -}}
{{- $v := .Values.energismeForwarder -}}
{{- if .Values.sinkSim.enabled }}
- name: ENERGISME_URL
  value: {{ printf "http://%s-sink-sim:8090/push" (include "snotibridge.fullname" .) | quote }}
- name: ENERGISME_ALLOW_INSECURE_HTTP
  value: "true"
- name: ENERGISME_TOKEN
  value: sim-token
{{- else }}
- name: ENERGISME_URL
  value: {{ $v.energisme.url | quote }}
{{- include "snotibridge.secretEnv" (dict "root" . "name" "ENERGISME_TOKEN" "ref" $v.energisme.token) }}
{{- end }}
- name: ENERGISME_SOURCE
  value: {{ $v.energisme.source | quote }}
- name: ENERGISME_MAPPING_FILE
  value: /etc/snotibridge/mapping/{{ $v.mapping.key }}
{{- with $v.sftp }}
{{- if .addr }}
- name: ENERGISME_SFTP_ADDR
  value: {{ .addr | quote }}
- name: ENERGISME_SFTP_USER
  value: {{ .user | quote }}
- name: ENERGISME_SFTP_DIR
  value: {{ .dir | quote }}
{{- include "snotibridge.secretEnv" (dict "root" $ "name" "ENERGISME_SFTP_PASSWORD" "ref" .password) }}
{{- if or .privateKey.value .privateKey.existingSecret }}
- name: ENERGISME_SFTP_KEY_FILE
  value: /etc/snotibridge/sftp-key/id_key
{{- end }}
{{- if .knownHosts }}
- name: ENERGISME_SFTP_KNOWN_HOSTS
  value: /etc/snotibridge/mapping/known_hosts
{{- end }}
- name: ENERGISME_FILE_INTERVAL
  value: {{ .fileInterval | quote }}
- name: ENERGISME_FILE_FORMAT
  value: {{ .fileFormat | quote }}
{{- end }}
{{- end }}
- name: TOPIC_EVENTS
  value: {{ .Values.topics.events | quote }}
- name: TOPIC_TELEMETRY
  value: {{ .Values.topics.telemetry | quote }}
- name: TOPIC_DLQ
  value: {{ .Values.topics.energismeDLQ | quote }}
- name: GROUP_ID
  value: {{ $v.groupId | quote }}
- name: FILES_GROUP_ID
  value: {{ $v.filesGroupId | quote }}
{{- end -}}

{{- define "snotibridge.volumes.energismeForwarder" -}}
{{- $v := .Values.energismeForwarder -}}
- name: mapping
  configMap:
    name: {{ $v.mapping.existingConfigMap | default (printf "%s-energisme-mapping" (include "snotibridge.fullname" .)) }}
{{- if and $v.sftp.addr (or $v.sftp.privateKey.value $v.sftp.privateKey.existingSecret) }}
- name: sftp-key
  secret:
    secretName: {{ include "snotibridge.secretName" (dict "root" . "ref" $v.sftp.privateKey) }}
    defaultMode: 0440
    items:
      - key: {{ $v.sftp.privateKey.key }}
        path: id_key
{{- end }}
{{- end -}}

{{- define "snotibridge.mounts.energismeForwarder" -}}
{{- $v := .Values.energismeForwarder -}}
- name: mapping
  mountPath: /etc/snotibridge/mapping
  readOnly: true
{{- if and $v.sftp.addr (or $v.sftp.privateKey.value $v.sftp.privateKey.existingSecret) }}
- name: sftp-key
  mountPath: /etc/snotibridge/sftp-key
  readOnly: true
{{- end }}
{{- end -}}

{{/* snoti-sim */}}
{{- define "snotibridge.env.snotiSim" -}}
- name: SNOTI_SIM_ADDR
  value: "0.0.0.0:2017"
- name: SNOTI_SIM_CONTROL_ADDR
  value: "0.0.0.0:8081"
- name: SNOTI_SIM_CERT_FILE
  value: /etc/snotibridge/tls/tls.crt
- name: SNOTI_SIM_KEY_FILE
  value: /etc/snotibridge/tls/tls.key
- name: SNOTI_SIM_DEVICES
  value: {{ .Values.snotiSim.devices | quote }}
- name: SNOTI_SIM_RATE
  value: {{ .Values.snotiSim.rate | quote }}
{{- end -}}

{{- define "snotibridge.volumes.snotiSim" -}}
- name: tls
  secret:
    secretName: {{ include "snotibridge.fullname" . }}-snoti-sim-tls
    defaultMode: 0440
{{- end -}}

{{- define "snotibridge.mounts.snotiSim" -}}
- name: tls
  mountPath: /etc/snotibridge/tls
  readOnly: true
{{- end -}}

{{- define "snotibridge.ports.snotiSim" -}}
- name: snoti
  containerPort: 2017
- name: control
  containerPort: 8081
{{- end -}}

{{/* sink-sim */}}
{{- define "snotibridge.env.sinkSim" -}}
- name: SINK_SIM_ADDR
  value: ":8090"
- name: SINK_SIM_ENOS_ORG_ID
  value: sim-org
- name: SINK_SIM_SFTP_ADDR
  value: ":2022"
- name: SINK_SIM_SFTP_ROOT
  value: /data/sftp
- name: SINK_SIM_SFTP_HOST_KEY_FILE
  value: /data/ssh_host_ed25519_key
- name: SINK_SIM_SFTP_KNOWN_HOSTS_FILE
  value: /data/known_hosts
{{- end -}}

{{- define "snotibridge.volumes.sinkSim" -}}
- name: data
  emptyDir: {}
{{- end -}}

{{- define "snotibridge.mounts.sinkSim" -}}
- name: data
  mountPath: /data
{{- end -}}

{{- define "snotibridge.ports.sinkSim" -}}
- name: emulators
  containerPort: 8090
- name: sftp
  containerPort: 2022
{{- end -}}

{{/* Services with no port but http. */}}
{{- define "snotibridge.ports.ingest" -}}{{- end -}}
{{- define "snotibridge.ports.decoder" -}}{{- end -}}
{{- define "snotibridge.ports.enosForwarder" -}}{{- end -}}
{{- define "snotibridge.ports.energismeForwarder" -}}{{- end -}}
