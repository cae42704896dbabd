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

{{/* <registry>/<repository>/<service>:<tag>, pinned by image.digests.<service> when set. */}}
{{- define "snotibridge.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s/%s:%s" .root.Values.image.registry .root.Values.image.repository .service $tag -}}
{{- with index .root.Values.image.digests .service -}}
@{{ . }}
{{- end -}}
{{- end -}}

{{/* The chart's main Secret's data (key: base64), from the secret references given inline. */}}
{{- define "snotibridge.secretData" -}}
{{- $refs := list .Values.ingest.snoti.enterpriseSecret .Values.ingest.snoti.products .Values.enosForwarder.enos.accessKey .Values.enosForwarder.enos.secretKey .Values.energismeForwarder.energisme.token .Values.energismeForwarder.sftp.password .Values.energismeForwarder.sftp.privateKey -}}
{{- if .Values.kafka.sasl.mechanism -}}
{{- $refs = concat $refs (list .Values.kafka.sasl.username .Values.kafka.sasl.password) -}}
{{- end -}}
{{- $data := dict -}}
{{- range $refs -}}
{{- if and .value (not .existingSecret) -}}
{{- $_ := set $data .key (.value | b64enc) -}}
{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
The data of the ConfigMaps and Secrets this chart renders, as
"<Kind>/<name>": data. The simulator's generated certificate is what the
cluster holds (secret.yaml reuses it), or a constant before it exists, so
its checksum never changes at render.
*/}}
{{- define "snotibridge.renderedData" -}}
{{- $out := dict -}}
{{- range regexSplit "(?m)^---\\s*$" (include (print .Template.BasePath "/configmaps.yaml") .) -1 -}}
{{- $o := fromYaml . -}}
{{- if and $o $o.kind -}}
{{- $_ := set $out (printf "%s/%s" $o.kind $o.metadata.name) ($o.data | default dict) -}}
{{- end -}}
{{- end -}}
{{- $data := include "snotibridge.secretData" . | fromYaml -}}
{{- if $data -}}
{{- $_ := set $out (printf "Secret/%s" (include "snotibridge.fullname" .)) $data -}}
{{- end -}}
{{- if .Values.snotiSim.enabled -}}
{{- $name := printf "%s-snoti-sim-tls" (include "snotibridge.fullname" .) -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $_ := set $out (printf "Secret/%s" $name) (($live).data | default (dict "generated" "at install")) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
sha256 of what a pod uses: (dict "root" $ "rendered" renderedData "uses"
{env, volumes, envFrom}). Per key for secretKeyRef, configMapKeyRef and
volumes with items; whole objects otherwise. Objects the chart does not
render are read from the cluster (lookup; empty under helm template).
*/}}
{{- define "snotibridge.checksum" -}}
{{- $root := .root -}}
{{- $rendered := .rendered -}}
{{- $refs := list -}}
{{- range .uses.env -}}
{{- with .valueFrom -}}
{{- with .secretKeyRef }}{{ $refs = append $refs (list "Secret" .name .key) }}{{ end -}}
{{- with .configMapKeyRef }}{{ $refs = append $refs (list "ConfigMap" .name .key) }}{{ end -}}
{{- end -}}
{{- end -}}
{{- range .uses.envFrom -}}
{{- with .secretRef }}{{ $refs = append $refs (list "Secret" .name "") }}{{ end -}}
{{- with .configMapRef }}{{ $refs = append $refs (list "ConfigMap" .name "") }}{{ end -}}
{{- end -}}
{{- range .uses.volumes -}}
{{- $kind := "" }}{{ $name := "" }}{{ $items := list -}}
{{- with .secret }}{{ $kind = "Secret" }}{{ $name = .secretName }}{{ $items = .items | default list }}{{ end -}}
{{- with .configMap }}{{ $kind = "ConfigMap" }}{{ $name = .name }}{{ $items = .items | default list }}{{ end -}}
{{- if $kind -}}
{{- if $items -}}
{{- range $items }}{{ $refs = append $refs (list $kind $name .key) }}{{ end -}}
{{- else -}}
{{- $refs = append $refs (list $kind $name "") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $sum := dict -}}
{{- range $refs -}}
{{- $id := printf "%s/%s" (index . 0) (index . 1) -}}
{{- $data := dict -}}
{{- if hasKey $rendered $id -}}
{{- $data = index $rendered $id | default dict -}}
{{- else -}}
{{- $data = (lookup "v1" (index . 0) $root.Release.Namespace (index . 1)).data | default dict -}}
{{- end -}}
{{- if index . 2 -}}
{{- $_ := set $sum (printf "%s/%s" $id (index . 2)) (index $data (index . 2) | default "") -}}
{{- else -}}
{{- $_ := set $sum $id $data -}}
{{- end -}}
{{- end -}}
{{- toJson $sum | sha256sum -}}
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
{{- $sftp := .Values.energismeForwarder.sftp -}}
{{- if and .Values.energismeForwarder.enabled $sftp.addr (not $sftp.knownHosts) -}}
{{- fail (printf "energismeForwarder.sftp.addr=%s: set energismeForwarder.sftp.knownHosts to the server's known_hosts lines (e.g. ssh-keyscan -t ed25519 <host>); without them the forwarder refuses to start" $sftp.addr) -}}
{{- end -}}
{{- if gt (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor) -}}
{{- fail (printf "topics.minInsyncReplicas=%d: must be at most topics.replicationFactor (%d)" (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor)) -}}
{{- end -}}
{{- end -}}
