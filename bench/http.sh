#!/bin/sh
# HTTP kernel download: gridbootd against nginx serving the same 4 MiB file
# in the same run, with wrk; then a small per-machine iPXE script, generated
# by gridbootd on each request, against nginx serving its bytes as a file;
# then that small file served as a file by both. Between two network
# namespaces joined by a veth pair. One connection and 100 at once; MiB/s
# or requests/s is the median of RUNS runs of DUR seconds. gridbootd runs
# twice: with its default grid.http_workers (one thread per core) and with
# http_workers = 0 (on its event loop); nginx twice: with one worker and
# with worker_processes auto (one per core, its default in Debian). The
# ratios are the default gridbootd's against each nginx. Needs root, wrk,
# nginx.
set -u
cd "$(dirname "$0")/.."
GRIDBOOTD=${GRIDBOOTD:-$PWD/build/gridbootd}
RUNS=${RUNS:-5}
DUR=${DUR:-3}
T=$(mktemp -d /tmp/gridboot-bench.XXXXXX)
BENCH_TMP=$T
. bench/lib.sh
bench_init http
bench_need bench/http.sh wrk nginx ip curl
[ -x "$GRIDBOOTD" ] || { echo "bench/http.sh: build $GRIDBOOTD first (make)"; exit 1; }
bench_link 10.78.0.2/24 10.78.0.1/24
sleep 1

# nginx's workers run as nobody: everything they read must be world-readable.
chmod 755 "$T"
mkdir -p "$T/files/amd64" "$T/state" "$T/nginx"
chmod -R 755 "$T/files"
head -c 4194304 /dev/urandom >"$T/files/amd64/9pc64"
chmod 644 "$T/files/amd64/9pc64"

cat >"$T/grid.cfg" <<CFG
grid = { name = "bench"; server = "10.78.0.1"; files = "$T/files"; state = "$T/state";
  http_port = 8081; tftp_port = 16969; dhcp_port = 16767; proxy_port = 14011;
  http_per_source = 1000;   # wrk's 100 connections come from one address
  loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.78.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; }; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.78.0.11"; role = "cpu"; } );
CFG
# The same on the event loop alone, on other ports and its own state.
mkdir -p "$T/state0"
sed -e 's/http_port = 8081; tftp_port = 16969; dhcp_port = 16767; proxy_port = 14011;/http_port = 8084; tftp_port = 16970; dhcp_port = 16768; proxy_port = 14012; p9_port = 15641; auth_port = 15671; rcpu_port = 17991; http_workers = 0;/' \
    -e "s|state = \"$T/state\"|state = \"$T/state0\"|" "$T/grid.cfg" >"$T/grid0.cfg"
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

bench_serve "$GRIDBOOTD" serve -c "$T/grid.cfg" -d -l warn >"$T/gridbootd.log" 2>&1
bench_serve "$GRIDBOOTD" serve -c "$T/grid0.cfg" -d -l warn >"$T/gridbootd0.log" 2>&1
bench_serve nginx -c "$T/nginx/nginx8082.conf" >/dev/null 2>&1
bench_serve nginx -c "$T/nginx/nginx8083.conf" >/dev/null 2>&1
sleep 1
cx curl -fsS "http://10.78.0.1:8081/ipxe/525400000011.ipxe" -o "$T/files/cpu1.ipxe"
chmod 644 "$T/files/cpu1.ipxe"

url() { echo "http://10.78.0.1:$1/files/amd64/9pc64"; }
# The small case: the machine's iPXE script, generated per request by
# gridbootd, against nginx serving the same bytes from a file.
surl() {
	case $1 in
	8081 | 8084) echo "http://10.78.0.1:$1/ipxe/525400000011.ipxe" ;;
	*) echo "http://10.78.0.1:$1/files/cpu1.ipxe" ;;
	esac
}
# The static case: the same small file, as a file, from every server.
furl() { echo "http://10.78.0.1:$1/files/cpu1.ipxe"; }
for port in 8081 8082 8083 8084; do
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
# wrk MODE PORT CONNS RUN: one wrk run; prints MiB/s (MODE big: the
# kernel) or requests/s (MODE small: the iPXE script).
wrk_run() {
	threads=1
	[ "$3" -gt 1 ] && threads=2
	out=$T/wrk.$1.$2.$3.$4
	case $1 in
	big)
		cx wrk -t"$threads" -c"$3" -d"${DUR}s" "$(url "$2")" >"$out"
		mibs <"$out" ;;
	small)
		cx wrk -t"$threads" -c"$3" -d"${DUR}s" "$(surl "$2")" >"$out"
		awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$out" ;;
	static)
		cx wrk -t"$threads" -c"$3" -d"${DUR}s" "$(furl "$2")" >"$out"
		awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$out" ;;
	esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# table MODE: 1 and 100 connections, RUNS interleaved rounds (so load
# from elsewhere on the machine hits every server alike), medians.
table() {
	printf '%-8s %10s %10s %10s %10s %9s %10s\n' clients gridbootd gb-loop nginx-1w nginx-auto \
	    ratio-1w ratio-auto
	for c in 1 100; do
		i=0
		: >"$T/g"; : >"$T/g0"; : >"$T/n1"; : >"$T/na"
		while [ $i -lt "$RUNS" ]; do
			wrk_run "$1" 8081 $c $i >>"$T/g"
			wrk_run "$1" 8084 $c $i >>"$T/g0"
			wrk_run "$1" 8082 $c $i >>"$T/n1"
			wrk_run "$1" 8083 $c $i >>"$T/na"
			i=$((i + 1))
		done
		g=$(median <"$T/g")
		g0=$(median <"$T/g0")
		n1=$(median <"$T/n1")
		na=$(median <"$T/na")
		printf '%-8s %10s %10s %10s %10s %9s %10s\n' "$c" "$g" "$g0" "$n1" "$na" \
		    "$(ratio "$g" "$n1")" "$(ratio "$g" "$na")"
	done
}

echo "HTTP 4 MiB kernel over veth, wrk, median of $RUNS x ${DUR}s, servers interleaved (MiB/s)"
table big
echo
echo "HTTP $(wc -c <"$T/files/cpu1.ipxe")-byte iPXE script (generated by gridbootd, a file for nginx), requests/s"
table small
echo
echo "HTTP the same $(wc -c <"$T/files/cpu1.ipxe") bytes as a static file from every server, requests/s"
table static
# A fast wrong answer is no answer: show any errors wrk saw.
for f in "$T"/wrk.*; do
	grep -H -E "Non-2xx|Socket errors" "$f" | sed "s|$T/||"
done
echo "gb-loop: gridbootd with grid.http_workers = 0 (one thread); ratios are the default gridbootd's"
echo "targets (issue 23): small static file at 100 connections >= 1.0x nginx-auto, 1 connection no slower than before"
grep -E "error|warn" "$T/gridbootd.log" | head -5
exit 0
