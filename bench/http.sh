#!/bin/sh
# HTTP kernel download: gridbootd against nginx serving the same 4 MiB file
# in the same run, with wrk (and a small per-machine iPXE script, generated
# by gridbootd on each request, against nginx serving its bytes as a file), between two network namespaces joined by a
# veth pair. One connection and 100 at once; MiB/s is the median of RUNS
# runs of DUR seconds. nginx runs twice: with one worker (gridbootd is one
# event loop on one core) and with worker_processes auto (one per core);
# the ratio is printed against both. Needs root, wrk, nginx.
set -u
cd "$(dirname "$0")/.."
GRIDBOOTD=${GRIDBOOTD:-$PWD/build/gridbootd}
RUNS=${RUNS:-5}
DUR=${DUR:-3}
SNS=gbhttps$$
CNS=gbhttpc$$
T=$(mktemp -d /tmp/gridboot-bench.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$SNS" 2>/dev/null
	ip netns del "$CNS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in wrk nginx ip curl; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "bench/http.sh: $tool missing (sh tests/install-deps.sh)"; exit 1; }
done
[ -x "$GRIDBOOTD" ] || { echo "bench/http.sh: build $GRIDBOOTD first (make)"; exit 1; }

ip netns add "$SNS" && ip netns add "$CNS" || exit 1
ip link add gbhs$$ type veth peer name gbhc$$ || exit 1
ip link set gbhs$$ netns "$SNS"
ip link set gbhc$$ netns "$CNS"
ip -n "$SNS" addr add 10.78.0.1/24 dev gbhs$$
ip -n "$CNS" addr add 10.78.0.2/24 dev gbhc$$
for ns in "$SNS" "$CNS"; do ip -n "$ns" link set lo up; done
ip -n "$SNS" link set gbhs$$ up
ip -n "$CNS" link set gbhc$$ up
sleep 1

# nginx's workers run as nobody: everything they read must be world-readable.
chmod 755 "$T"
mkdir -p "$T/files/amd64" "$T/state" "$T/nginx"
chmod -R 755 "$T/files"
head -c 4194304 /dev/urandom >"$T/files/amd64/9pc64"
chmod 644 "$T/files/amd64/9pc64"

cat >"$T/grid.cfg" <<CFG
grid = { name = "bench"; server = "10.78.0.1"; files = "$T/files"; state = "$T/state";
  http_port = 8081; tftp_port = 16969; dhcp_port = 16767; proxy_port = 14011; };
networks = ( { subnet = "10.78.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; }; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.78.0.11"; role = "cpu"; } );
CFG
nginx_conf() {	# WORKERS PORT
	cat >"$T/nginx/nginx$2.conf" <<CONF
worker_processes $1;
daemon off;
pid $T/nginx/nginx$2.pid;
error_log $T/nginx/error$2.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server {
		listen 10.78.0.1:$2;
		location /files/ { alias $T/files/; }
	}
}
CONF
}
nginx_conf 1 8082
nginx_conf auto 8083
sx() { ip netns exec "$SNS" "$@"; }
cx() { ip netns exec "$CNS" "$@"; }

# Started directly, not through sx: a backgrounded shell function is a
# subshell, and $! would name it rather than the server.
ip netns exec "$SNS" "$GRIDBOOTD" serve -c "$T/grid.cfg" -d -l warn >"$T/gridbootd.log" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$SNS" nginx -c "$T/nginx/nginx8082.conf" >/dev/null 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$SNS" nginx -c "$T/nginx/nginx8083.conf" >/dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 1
cx curl -fsS "http://10.78.0.1:8081/ipxe/525400000011.ipxe" -o "$T/files/cpu1.ipxe"
chmod 644 "$T/files/cpu1.ipxe"

url() { echo "http://10.78.0.1:$1/files/amd64/9pc64"; }
# The small case: the machine's iPXE script, generated per request by
# gridbootd, against nginx serving the same bytes from a file.
surl() {
	if [ "$1" = 8081 ]; then echo "http://10.78.0.1:8081/ipxe/525400000011.ipxe"
	else echo "http://10.78.0.1:$1/files/cpu1.ipxe"; fi
}
for port in 8081 8082 8083; do
	if ! cx curl -fsS "$(url $port)" -o "$T/check.$port" ||
	    ! cmp -s "$T/check.$port" "$T/files/amd64/9pc64"; then
		echo "bench/http.sh: port $port does not serve the kernel"; cat "$T/gridbootd.log"; exit 1
	fi
done

# wrk's "Transfer/sec: 812.34MB" (its MB is MiB) -> MiB/s.
mibs() {
	awk '/^Transfer\/sec:/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+/, "", v);
		if (u == "GB") v *= 1024; else if (u == "KB") v /= 1024; else if (u == "B") v /= 1048576;
		printf "%.1f\n", v }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
one() {	# PORT CONNS RUN: one wrk run, MiB/s
	threads=1
	[ "$2" -gt 1 ] && threads=2
	cx wrk -t"$threads" -c"$2" -d"${DUR}s" "$(url "$1")" >"$T/wrk.$1.$2.$3"
	mibs <"$T/wrk.$1.$2.$3"
}

echo "HTTP 4 MiB kernel over veth, wrk, median of $RUNS x ${DUR}s, servers interleaved (MiB/s)"
printf '%-12s %12s %12s %12s %10s %10s\n' clients gridbootd nginx-1w nginx-auto ratio-1w ratio-auto
for c in 1 100; do
	# Interleaved rounds, so load from elsewhere on the machine hits
	# every server alike.
	i=0
	: >"$T/g" ; : >"$T/n1"; : >"$T/na"
	while [ $i -lt "$RUNS" ]; do
		one 8081 $c $i >>"$T/g"
		one 8082 $c $i >>"$T/n1"
		one 8083 $c $i >>"$T/na"
		i=$((i + 1))
	done
	g=$(median <"$T/g")
	n1=$(median <"$T/n1")
	na=$(median <"$T/na")
	printf '%-12s %12s %12s %12s %10s %10s\n' "$c" "$g" "$n1" "$na" \
	    "$(awk -v a="$g" -v b="$n1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')" \
	    "$(awk -v a="$g" -v b="$na" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
done
# Requests per second for the small generated file.
rps() {	# PORT CONNS RUN
	threads=1
	[ "$2" -gt 1 ] && threads=2
	cx wrk -t"$threads" -c"$2" -d"${DUR}s" "$(surl "$1")" >"$T/wrk.s$1.$2.$3"
	awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$T/wrk.s$1.$2.$3"
}
echo
echo "HTTP $(wc -c <"$T/files/cpu1.ipxe")-byte iPXE script (generated by gridbootd, a file for nginx), requests/s"
printf '%-12s %12s %12s %12s %10s %10s\n' clients gridbootd nginx-1w nginx-auto ratio-1w ratio-auto
for c in 1 100; do
	i=0
	: >"$T/g" ; : >"$T/n1"; : >"$T/na"
	while [ $i -lt "$RUNS" ]; do
		rps 8081 $c $i >>"$T/g"
		rps 8082 $c $i >>"$T/n1"
		rps 8083 $c $i >>"$T/na"
		i=$((i + 1))
	done
	g=$(median <"$T/g")
	n1=$(median <"$T/n1")
	na=$(median <"$T/na")
	printf '%-12s %12s %12s %12s %10s %10s\n' "$c" "$g" "$n1" "$na" \
	    "$(awk -v a="$g" -v b="$n1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')" \
	    "$(awk -v a="$g" -v b="$na" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
done
# A fast wrong answer is no answer: show any errors wrk saw.
for f in "$T"/wrk.*; do
	grep -H -E "Non-2xx|Socket errors" "$f" | sed "s|$T/||"
done
echo "targets: kernel ratio >= 0.9, small generated file >= 0.8 (../shared/perf-targets.md)"
grep -E "error|warn" "$T/gridbootd.log" | head -5
exit 0
