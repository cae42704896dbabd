#!/usr/bin/env bash
# Local Apache Kafka (KRaft, single combined broker/controller) without Docker.
#
#   kafka.sh fetch                         resolve the broker jars into the cache (network once)
#   kafka.sh format DIR PORT CPORT         write DIR's config and format its storage if new (the tool is exec'd)
#   kafka.sh run   DIR PORT CPORT          format DIR if new, then exec the broker in the foreground
#   kafka.sh start DIR PORT CPORT          start in the background, wait until it accepts connections
#   kafka.sh stop  DIR                     stop a broker started with start (SIGTERM, then SIGKILL)
#   kafka.sh with-broker DIR PORT CPORT -- CMD…   fresh broker for the duration of CMD (given
#                                          KAFKA_BROKERS, and KAFKA_BROKER_PID for its CPU figures)
#   kafka.sh class CLASS ARGS…             run a Kafka tool class (e.g. org.apache.kafka.tools.ProducerPerformance)
#
# The cache lives in $SNOTIBRIDGE_CACHE (default <repo>/.cache). Second and
# later runs need no network: the jars are reused while pom.xml is unchanged.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SNOTIBRIDGE_CACHE:-$root/.cache}"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="$cache/kafka/$version/libs"
stamp="$libs/.pom.sha256"
heap="${KAFKA_HEAP:-768m}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
	local want
	want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		return 0
	fi
	command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven) to fetch Apache Kafka"
	command -v java >/dev/null || die "java not found: install Java 17+ to run Apache Kafka"
	echo "kafka.sh: resolving Apache Kafka $version from Maven Central into $libs" >&2
	rm -rf "$libs.tmp"
	mvn -B -q -Dstyle.color=never -f "$here/pom.xml" -Dmaven.repo.local="$cache/m2" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >&2
	rm -rf "$libs"
	mv "$libs.tmp" "$libs"
	echo "$want" >"$stamp"
}

classpath() { echo "$libs/*"; }

# A node of a cluster (pkg/kafkatest's Cluster) sets KAFKA_NODE_ID,
# KAFKA_QUORUM_VOTERS (id@host:cport,…), KAFKA_CLUSTER_ID (the same on every
# node) and KAFKA_EXTRA_CONFIG (lines appended to server.properties; a later
# key overrides an earlier one). Unset: a single combined node.
write_config() {
	local dir="$1" port="$2" cport="$3"
	mkdir -p "$dir/data"
	cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=${KAFKA_QUORUM_VOTERS:-1@127.0.0.1:$cport}
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
log.retention.hours=168
${KAFKA_EXTRA_CONFIG:-}
PROPS
	# Test harnesses add listeners (TLS, client certificates) here; a key
	# given again overrides the one above.
	if [[ -f "$dir/extra.properties" ]]; then
		cat "$dir/extra.properties" >>"$dir/server.properties"
	fi
}

format_if_new() {
	local dir="$1"
	if [[ -f "$dir/data/meta.properties" ]]; then
		return 0
	fi
	local id="${KAFKA_CLUSTER_ID:-}"
	[[ -n "$id" ]] || id="$(java -cp "$(classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
	java -cp "$(classpath)" kafka.tools.StorageTool format --cluster-id="$id" -c "$dir/server.properties" >/dev/null 2>&1 ||
		die "formatting KRaft storage in $dir failed"
}

# The cluster id goes as --cluster-id=ID, in one argument: an id is 22
# characters of URL-safe base64, and one in 64 random ones starts with '-',
# which the storage tool takes for an option after -t ("argument
# --cluster-id/-t: expected one argument").
#
# format_exec: format DIR's storage in this process (exec), so that a
# supervisor holding this process holds the formatting JVM itself, not a
# grandchild that could outlive it.
format_exec() {
	local dir="$1" port="$2" cport="$3"
	fetch
	write_config "$dir" "$port" "$cport"
	[[ -f "$dir/data/meta.properties" ]] && exit 0
	[[ -n "${KAFKA_CLUSTER_ID:-}" ]] || die "format: set KAFKA_CLUSTER_ID (kafka.sh run formats with a random one)"
	exec java -cp "$libs/*" kafka.tools.StorageTool format --cluster-id="$KAFKA_CLUSTER_ID" -c "$dir/server.properties"
}

run() {
	local dir="$1" port="$2" cport="$3"
	fetch
	write_config "$dir" "$port" "$cport"
	format_if_new "$dir"
	exec java -Xms256m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dorg.slf4j.simpleLogger.defaultLogLevel="${KAFKA_LOG_LEVEL:-warn}" \
		-Dorg.slf4j.simpleLogger.showDateTime=true \
		-cp "$(classpath)" kafka.Kafka "$dir/server.properties"
}

wait_port() {
	local port="$1" pid="$2" log="$3" deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
	while ((SECONDS < deadline)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "broker exited during start (log: $log)"; }
		sleep 0.2
	done
	tail -n 30 "$log" >&2
	die "broker did not accept connections on 127.0.0.1:$port within ${KAFKA_START_TIMEOUT:-120}s"
}

# ours DIR PID: is PID the broker of DIR (the JVM with DIR's
# server.properties, or this script's run DIR before it execs it)? A pid
# file outlives its process and pids are reused: never trust one alone.
ours() {
	local dir="$1" pid="$2" args
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	args="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
	if grep -qx 'kafka.Kafka' <<<"$args" && grep -qxF "$dir/server.properties" <<<"$args"; then
		return 0
	fi
	grep -q 'kafka.sh$' <<<"$args" && grep -qx run <<<"$args" && grep -qxF "$dir" <<<"$args"
}

start() {
	local dir="$1" port="$2" cport="$3"
	if [[ -f "$dir/kafka.pid" ]]; then
		if ours "$dir" "$(cat "$dir/kafka.pid")"; then
			echo "kafka.sh: broker already running (pid $(cat "$dir/kafka.pid")) on 127.0.0.1:$port" >&2
			return 0
		fi
		echo "kafka.sh: ignoring stale $dir/kafka.pid (pid $(cat "$dir/kafka.pid") is not this directory's broker)" >&2
		rm -f "$dir/kafka.pid"
	fi
	fetch
	mkdir -p "$dir"
	# A session of its own: a Ctrl-C in the caller's terminal must not reach
	# the broker (the caller stops it with kafka.sh stop, after its clients).
	setsid nohup "$here/kafka.sh" run "$dir" "$port" "$cport" >"$dir/kafka.log" 2>&1 &
	echo $! >"$dir/kafka.pid"
	wait_port "$port" "$!" "$dir/kafka.log"
	echo "kafka.sh: Apache Kafka $version up on 127.0.0.1:$port (pid $(cat "$dir/kafka.pid"), log $dir/kafka.log)" >&2
}

stop() {
	local dir="$1" pid
	[[ -f "$dir/kafka.pid" ]] || { echo "kafka.sh: no broker pid in $dir" >&2; return 0; }
	pid="$(cat "$dir/kafka.pid")"
	if ! ours "$dir" "$pid"; then
		echo "kafka.sh: stale $dir/kafka.pid (pid $pid is not this directory's broker): removed, nothing stopped" >&2
		rm -f "$dir/kafka.pid"
		return 0
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "kafka.sh: broker did not stop within 30s, killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$dir/kafka.pid"
	echo "kafka.sh: broker stopped" >&2
}

cmd="${1:-}"
shift || true
case "$cmd" in
fetch) fetch ;;
run) (($# == 3)) || die "usage: kafka.sh run DIR PORT CPORT"; run "$@" ;;
format) (($# == 3)) || die "usage: kafka.sh format DIR PORT CPORT"; format_exec "$@" ;;
start) (($# == 3)) || die "usage: kafka.sh start DIR PORT CPORT"; start "$@" ;;
stop) (($# == 1)) || die "usage: kafka.sh stop DIR"; stop "$1" ;;
with-broker)
	(($# >= 5)) && [[ "$4" == "--" ]] || die "usage: kafka.sh with-broker DIR PORT CPORT -- CMD…"
	dir="$1" port="$2" cport="$3"
	shift 4
	stop "$dir" 2>/dev/null || true
	rm -rf "$dir"
	start "$dir" "$port" "$cport"
	trap 'stop "$dir"' EXIT
	KAFKA_BROKERS="127.0.0.1:$port" KAFKA_BROKER_PID="$(cat "$dir/kafka.pid")" "$@"
	;;
class)
	fetch
	exec java -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$(classpath)" "$@"
	;;
*) die "unknown command '${cmd}': use fetch, format, run, start, stop, with-broker or class" ;;
esac
