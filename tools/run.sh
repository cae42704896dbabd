#!/usr/bin/env bash
# make run: the whole pipeline on this machine, no Docker. Starts the local
# Apache Kafka broker, creates the topics, and runs snoti-sim (a simulated
# fleet), ingest, decoder, enos-forwarder, energisme-forwarder and sink-sim
# (EnOS, Energisme push and SFTP emulators), wired with the example codec and
# mapping files. Prints one progress line per stage every few seconds.
# Ctrl-C stops everything in order (input first) and leaves nothing behind.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run_dir="$root/.run"
logs="$run_dir/logs"
mkdir -p "$logs"
interval="${RUN_PROGRESS_INTERVAL:-5}"
kafka_port="${KAFKA_PORT:-9092}"
kafka_cport="${KAFKA_CPORT:-9093}"
brokers="127.0.0.1:$kafka_port"

# name → HTTP port (health, readiness, metrics)
declare -A port=([snoti-sim]=9105 [sink-sim]=9106 [ingest]=9101 [decoder]=9102 [enos-forwarder]=9103 [energisme-forwarder]=9104)
order=(sink-sim snoti-sim enos-forwarder energisme-forwarder decoder ingest) # start order; stop is the reverse
declare -A pid=()

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

stop_all() {
	trap - INT TERM EXIT
	echo
	say "stopping (input first): ingest, decoder, forwarders, simulators"
	for ((i = ${#order[@]} - 1; i >= 0; i--)); do
		local n="${order[$i]}" p="${pid[${order[$i]}]:-}"
		[[ -n "$p" ]] || continue
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
			kill -0 "$p" 2>/dev/null && { say "$n did not stop in 30s, killing"; kill -KILL "$p" 2>/dev/null || true; }
		fi
		wait "$p" 2>/dev/null || true
		say "$n stopped"
	done
	tools/kafka/kafka.sh stop "$root/.cache/kafka/dev" || true
	say "all stopped; logs in $logs"
}
# Children run in sessions of their own (setsid), so a Ctrl-C reaches only
# this script, which stops them one by one in order.
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

say "starting Apache Kafka on $brokers"
tools/kafka/kafka.sh start "$root/.cache/kafka/dev" "$kafka_port" "$kafka_cport"

say "building services"
make --no-print-directory build >/dev/null

export KAFKA_BROKERS="$brokers" LOG_FORMAT="${LOG_FORMAT:-json}" LOG_LEVEL="${LOG_LEVEL:-info}"
say "creating topics"
bin/bridgectl topics ensure

start() {
	local n="$1"
	shift
	setsid env HTTP_ADDR="127.0.0.1:${port[$n]}" "$@" "bin/$n" >>"$logs/$n.log" 2>&1 &
	pid[$n]=$!
	say "started $n (pid ${pid[$n]}, log .run/logs/$n.log, metrics http://127.0.0.1:${port[$n]}/metrics)"
}

start sink-sim SINK_SIM_ADDR=127.0.0.1:8090 SINK_SIM_SFTP_ADDR=127.0.0.1:2022 \
	SINK_SIM_SFTP_ROOT="$run_dir/sink-sim/sftp" SINK_SIM_SFTP_HOST_KEY_FILE="$run_dir/sink-sim/ssh_host_ed25519_key" \
	SINK_SIM_SFTP_KNOWN_HOSTS_FILE="$run_dir/sink-sim/known_hosts"
start snoti-sim SNOTI_SIM_ADDR=127.0.0.1:2017 SNOTI_SIM_CONTROL_ADDR=127.0.0.1:9115 SNOTI_SIM_CA_OUT="$run_dir/snoti-sim/ca.pem" \
	SNOTI_SIM_DEVICES="${SIM_DEVICES:-200}" SNOTI_SIM_RATE="${SIM_RATE:-500}"

wait_file() {
	for _ in $(seq 1 150); do [[ -s "$1" ]] && return 0; sleep 0.2; done
	say "$1 did not appear; see $logs"
	exit 1
}
wait_file "$run_dir/snoti-sim/ca.pem"
wait_file "$run_dir/sink-sim/known_hosts"

start enos-forwarder ENOS_APIM_URL=http://127.0.0.1:8090 ENOS_API_URL=http://127.0.0.1:8090 \
	ENOS_ACCESS_KEY=sim-access-key ENOS_SECRET_KEY=sim-secret-key ENOS_ORG_ID=sim-org \
	ENOS_MAPPING_FILE=services/enos-forwarder/mapping.example.json
start energisme-forwarder ENERGISME_URL=http://127.0.0.1:8090/push ENERGISME_TOKEN=sim-token \
	ENERGISME_MAPPING_FILE=services/energisme-forwarder/mapping.example.json \
	ENERGISME_SFTP_ADDR=127.0.0.1:2022 ENERGISME_SFTP_USER=energisme ENERGISME_SFTP_PASSWORD=energisme \
	ENERGISME_SFTP_KNOWN_HOSTS="$run_dir/sink-sim/known_hosts" ENERGISME_SFTP_DIR=/ ENERGISME_FILE_INTERVAL=1m
start decoder CODECS_DIR=services/decoder/codecs
start ingest SNOTI_ADDR=127.0.0.1:2017 SNOTI_PROTOCOL=v1 SNOTI_ENTERPRISE_ID=sim-enterprise \
	SNOTI_ENTERPRISE_SECRET=sim-secret SNOTI_CA_FILE="$run_dir/snoti-sim/ca.pem" SNOTI_PREFETCH=1000

# metric NAME [LABEL_FILTER] sums a metric of a service's /metrics.
metric() {
	local n="$1" name="$2" filter="${3:-}"
	curl -fsS --max-time 2 "http://127.0.0.1:${port[$n]}/metrics" 2>/dev/null |
		awk -v name="$name" -v filter="$filter" '
			$1 ~ "^"name"({|$)" && (filter == "" || index($1, filter) > 0) { s += $NF }
			END { printf "%.0f", s }'
}

declare -A last=()
# rate KEY VALUE sets RATE to the per-second change since the last call
# (no subshell: it must remember the last value).
rate() {
	local k="$1" v="$2" prev="${last[$1]:-}"
	last[$k]="$v"
	if [[ -n "$prev" ]]; then RATE=$(((v - prev) / interval)); else RATE="-"; fi
}

say "pipeline running; progress every ${interval}s (Ctrl-C stops everything)"
while true; do
	sleep "$interval"
	for n in "${order[@]}"; do
		kill -0 "${pid[$n]}" 2>/dev/null || { say "$n exited; see $logs/$n.log"; exit 1; }
	done
	pushed=$(metric ingest snoti_pushes_total)
	acked=$(metric ingest ingest_acks_total)
	invalid=$(metric ingest ingest_invalid_lines_total)
	rate pushed "$pushed"
	pushed_rate=$RATE
	rate acked "$acked"
	say "$(printf '%-20s' ingest) pushes ${pushed_rate}/s, ACKed after Kafka ${RATE}/s (total $acked), invalid lines $invalid  http://127.0.0.1:${port[ingest]}/metrics"
	for n in decoder enos-forwarder energisme-forwarder; do
		done_=$(metric "$n" snotibridge_consumer_messages_total)
		lag=$(metric "$n" snotibridge_consumer_lag)
		dlq=$(metric "$n" snotibridge_consumer_dead_letters_total)
		retries=$(metric "$n" snotibridge_consumer_retries_total)
		rate "$n" "$done_"
		say "$(printf '%-20s' "$n") ${RATE}/s (total $done_), lag $lag, retries $retries, DLQ $dlq  http://127.0.0.1:${port[$n]}/metrics"
	done
	enos=$(curl -fsS --max-time 2 http://127.0.0.1:8090/sim/enos/stats 2>/dev/null | tr -d '\n' | head -c 200)
	energisme=$(curl -fsS --max-time 2 http://127.0.0.1:8090/sim/energisme/stats 2>/dev/null | tr -d '\n' | head -c 200)
	files=$(find "$run_dir/sink-sim/sftp" -type f 2>/dev/null | wc -l)
	say "$(printf '%-20s' sink-sim) EnOS ${enos:-?}; Energisme ${energisme:-?}; SFTP files $files"
done
