#!/usr/bin/env bash
# Local Apicurio Registry (in-memory H2 storage) without Docker, for tests:
# its Confluent-compatible API is served under /apis/ccompat/v7.
#
#   registry.sh fetch          build the registry from Maven Central into the cache (network once)
#   registry.sh jar            print the path of the runnable jar (fetching first if needed)
#   registry.sh run PORT       exec the registry in the foreground on 127.0.0.1:PORT
#
# The cache lives in $SNOTIBRIDGE_CACHE (default <repo>/.cache). Later runs
# need no network: the build is reused while pom.xml and src/ are unchanged.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SNOTIBRIDGE_CACHE:-$root/.cache}"
version="$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$here/pom.xml")"
dir="$cache/registry/$version"
stamp="$dir/.sources.sha256"

die() { echo "registry.sh: $*" >&2; exit 1; }

sources_sum() {
	(cd "$here" && find pom.xml src -type f | sort | xargs sha256sum) | sha256sum | cut -d' ' -f1
}

fetch() {
	local want build
	want="$(sources_sum)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		return 0
	fi
	command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven) to build Apicurio Registry"
	command -v java >/dev/null || die "java not found: install Java 17+ to run Apicurio Registry"
	echo "registry.sh: building Apicurio Registry $version from Maven Central into $dir" >&2
	build="$(mktemp -d)"
	trap 'rm -rf "$build"' RETURN
	cp -r "$here/pom.xml" "$here/src" "$build/"
	mvn -B -q -Dstyle.color=never -f "$build/pom.xml" -Dmaven.repo.local="$cache/m2" package >&2 ||
		die "building Apicurio Registry $version failed (see the Maven output above)"
	rm -rf "$dir.tmp" "$dir"
	mkdir -p "$dir.tmp"
	cp -r "$build/target/lib" "$dir.tmp/lib"
	cp "$build/target/local-registry-1-runner.jar" "$dir.tmp/registry.jar"
	mv "$dir.tmp" "$dir"
	echo "$want" >"$stamp"
}

run() {
	local port="$1"
	fetch
	# 127.0.0.1 only; the UI and metrics are not needed by tests.
	QUARKUS_HTTP_HOST=127.0.0.1 HTTP_PORT="$port" exec java -Xms128m -Xmx"${REGISTRY_HEAP:-512m}" \
		-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
		-Dregistry.rules.global.compatibility="${REGISTRY_COMPATIBILITY:-BACKWARD}" \
		-Dquarkus.log.level="${REGISTRY_LOG_LEVEL:-WARN}" \
		-jar "$dir/registry.jar"
}

cmd="${1:-}"
shift || true
case "$cmd" in
fetch) fetch ;;
jar) fetch; echo "$dir/registry.jar" ;;
run) (($# == 1)) || die "usage: registry.sh run PORT"; run "$1" ;;
*) die "unknown command '${cmd}': use fetch, jar or run" ;;
esac
