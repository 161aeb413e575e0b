#!/usr/bin/env bash
# Benchmarks the mTLS sidecar proxy: warden proxy next to HAProxy, stunnel
# and direct access, in one run, and writes the results into the section
# between the proxy-bench markers of docs/benchmarks.md, leaving the rest of
# the page alone.
#
#   wrk --HTTP--> outbound sidecar --mTLS, TLS 1.3--> inbound sidecar --HTTP--> nginx
#
# Load modes (wrk, closed loop, after a warm-up with keep-alive):
#   keepalive  -t2 -c32 on persistent connections
#   close      -t2 -c32 with "Connection: close": a new TCP connection per
#              request, and a new mTLS handshake for the layer-4 chains
#   c1         -t1 -c1 on one persistent connection: latency without load
# Repetitions are interleaved: every contender once, then again. In the
# first repetition, each inbound is tested with good and hostile client
# certificates before the load. At the end, each chain keeps
# BENCH_PROXY_IDLE_CONNECTIONS idle connections open for the memory table.
# Everything listens on 127.0.0.1. The script stops only the processes it
# started, by pid, and removes its temporary directory.
#
# usage: bench/proxy.sh BUILD_DIR
#
# Environment (defaults in brackets):
#   BENCH_PROXY_CONTENDERS  [direct haproxy haproxy-http stunnel warden-tcp warden-http]
#                           warden-* are skipped with a notice when
#                           BUILD_DIR/warden has no proxy command, unless
#                           the variable names them explicitly
#   BENCH_PROXY_MODES       [keepalive close c1]
#   BENCH_PROXY_REPS        [3] repetitions of each contender and mode; the
#                           report gives the median
#   BENCH_PROXY_SECONDS     [10] length of one measured run
#   BENCH_PROXY_WARMUP      [2] seconds of keep-alive load before measuring
#   BENCH_PROXY_THREADS     [1] threads (HAProxy nbthread, warden --workers)
#                           of each proxy process; stunnel runs a thread per
#                           connection
#   BENCH_PROXY_WRK_THREADS [2], BENCH_PROXY_WRK_CONNECTIONS [32]
#   BENCH_PROXY_IDLE_CONNECTIONS [10000] idle connections for the memory
#                           table; 0 skips it
#   BENCH_PROXY_PAYLOAD_BYTES [1024] size of the file nginx serves
#   BENCH_PROXY_PORT_BASE   [17400] the first free ports from here on are used
#   BENCH_PROXY_KEEP_WORK   [empty] when set, keep the work directory (configs,
#                           logs, wrk output) instead of removing it
#   BENCH_OUTPUT            [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/proxy.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
HELPERS=$REPO/bench/proxy
WARDEN=$BUILD_DIR/warden
PYTHON=/usr/bin/python3

DEFAULT_CONTENDERS="direct haproxy haproxy-http stunnel warden-tcp warden-http"
CONTENDERS=${BENCH_PROXY_CONTENDERS:-$DEFAULT_CONTENDERS}
MODES=${BENCH_PROXY_MODES:-keepalive close c1}
REPS=${BENCH_PROXY_REPS:-3}
RUN_SECONDS=${BENCH_PROXY_SECONDS:-10}
WARMUP_SECONDS=${BENCH_PROXY_WARMUP:-2}
PROXY_THREADS=${BENCH_PROXY_THREADS:-1}
WRK_THREADS=${BENCH_PROXY_WRK_THREADS:-2}
WRK_CONNECTIONS=${BENCH_PROXY_WRK_CONNECTIONS:-32}
IDLE_CONNECTIONS=${BENCH_PROXY_IDLE_CONNECTIONS:-10000}
PAYLOAD_BYTES=${BENCH_PROXY_PAYLOAD_BYTES:-1024}
PORT_BASE=${BENCH_PROXY_PORT_BASE:-17400}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}

CLIENT_ID=spiffe://example.org/client
SERVER_ID=spiffe://example.org/server
SERVER_NAME=inbound.example.org
# Idle connections must outlive the time it takes to open all of them.
IDLE_TIMEOUT_SECONDS=600
# Connections the idle-connection client opens at once.
IDLE_CONCURRENCY=128
CLOCK_TICKS=$(getconf CLK_TCK)

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/proxy.sh: error: %s\n' "$*" >&2; exit 1; }

for number in "$REPS" "$RUN_SECONDS" "$WARMUP_SECONDS" "$PROXY_THREADS" "$WRK_THREADS" \
	"$WRK_CONNECTIONS" "$IDLE_CONNECTIONS" "$PAYLOAD_BYTES" "$PORT_BASE"; do
	[[ $number =~ ^[0-9]+$ ]] || fail "'$number' is not a whole number; check the BENCH_PROXY_* variables"
done
((REPS >= 1 && RUN_SECONDS >= 1 && PROXY_THREADS >= 1)) ||
	fail "BENCH_PROXY_REPS, BENCH_PROXY_SECONDS and BENCH_PROXY_THREADS must be at least 1"
for mode in $MODES; do
	case $mode in keepalive | close | c1) ;; *) fail "unknown mode '$mode' (expected keepalive, close or c1)" ;; esac
done
for tool in openssl curl wrk nginx haproxy stunnel4 ss "$PYTHON"; do
	command -v "$tool" >/dev/null || fail "$tool is required: run 'scripts/install-deps.sh bench'"
done

# warden's contenders need a binary with the proxy command.
WARDEN_NOTE=""
if ! "$WARDEN" proxy --help >/dev/null 2>&1; then
	if [[ -n ${BENCH_PROXY_CONTENDERS:-} && " $CONTENDERS " == *" warden-"* ]]; then
		fail "$WARDEN has no working 'proxy' command; build it with 'ninja -C $BUILD_DIR'"
	fi
	kept=""
	for name in $CONTENDERS; do [[ $name == warden-* ]] || kept="$kept $name"; done
	CONTENDERS=${kept# }
	WARDEN_NOTE="$WARDEN has no proxy command, so warden was not measured."
	progress "$WARDEN_NOTE"
fi
for name in $CONTENDERS; do
	case $name in
	direct | haproxy | haproxy-http | stunnel | warden-tcp | warden-http) ;;
	*) fail "unknown contender '$name' (expected one of: $DEFAULT_CONTENDERS)" ;;
	esac
done

# Each idle connection costs the outbound and the inbound two descriptors
# each (client side and upstream side), nginx and the client one. Raising
# the hard limit needs CAP_SYS_RESOURCE. Without it, the idle-connection
# count is lowered to what the limit allows.
FILES_NEEDED=$((2 * IDLE_CONNECTIONS + 1024))
if (($(ulimit -Hn) < FILES_NEEDED)); then
	ulimit -Hn "$FILES_NEEDED" 2>/dev/null || true
fi
ulimit -Sn "$(ulimit -Hn)"
FILE_LIMIT=$(ulimit -Hn)
# Connections one proxy process can hold: HAProxy's maxconn, nginx's
# worker_connections. HAProxy refuses to start when 2 x maxconn plus its
# listeners exceed the open-file limit.
MAX_CONNECTIONS=$(((FILE_LIMIT - 256) / 2))
((MAX_CONNECTIONS > IDLE_CONNECTIONS + 4096)) && MAX_CONNECTIONS=$((IDLE_CONNECTIONS + 4096))
IDLE_NOTE=""
if ((IDLE_CONNECTIONS > MAX_CONNECTIONS - 64)); then
	IDLE_NOTE="The idle-connection test asked for $IDLE_CONNECTIONS connections, but the open-file limit of $FILE_LIMIT per process (not raisable here) leaves room for $((MAX_CONNECTIONS - 64)), since each proxy needs two descriptors per connection."
	IDLE_CONNECTIONS=$((MAX_CONNECTIONS - 64))
	progress "$IDLE_NOTE"
fi

WORK=$(mktemp -d /tmp/warden-bench-proxy-XXXXXX)
PKI=$WORK/pki
RUN_DIR=$WORK/run
RAW_DIR=$WORK/raw
mkdir -p "$RUN_DIR/www" "$RUN_DIR/nginx-temp" "$RAW_DIR"
# nginx's worker drops root privileges and must reach the served file.
chmod 755 "$WORK" "$RUN_DIR" "$RUN_DIR/www"

# Process bookkeeping: pid -> role (backend, inbound, outbound, client) and
# pid -> label (the log file's name).
declare -A ROLE_OF=() LABEL_OF=()

spawn() {
	local role=$1 label=$2
	shift 2
	"$@" >"$RUN_DIR/$label.log" 2>&1 &
	ROLE_OF[$!]=$role
	LABEL_OF[$!]=$label
	LAST_PID=$!
}

# Stops one process: SIGTERM, then SIGKILL after 5 s. A crash on the way
# out (a signal other than TERM or KILL) is written to incidents.txt, which
# the report lists.
stop_pid() {
	local pid=$1 i status=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || status=$?
	if ((status > 128 && status != 128 + 15 && status != 128 + 9)); then
		echo "${LABEL_OF[$pid]} died of signal $((status - 128)) ($(kill -l $((status - 128)))) while being stopped${STOP_CONTEXT:+ $STOP_CONTEXT}." >>"$WORK/incidents.txt"
	fi
	unset "ROLE_OF[$pid]" "LABEL_OF[$pid]"
}

stop_roles() {
	local pid role
	for pid in "${!ROLE_OF[@]}"; do
		for role in "$@"; do
			if [[ ${ROLE_OF[$pid]} == "$role" ]]; then
				stop_pid "$pid"
				break
			fi
		done
	done
}

cleanup() {
	local pid
	for pid in "${!ROLE_OF[@]}"; do stop_pid "$pid"; done
	if [[ -n ${BENCH_PROXY_KEEP_WORK:-} ]]; then
		progress "kept the work directory $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# True when anything on the machine uses TCP port $1 (any state).
port_busy() { [[ -n $(ss -Htan "( sport = :$1 )") ]]; }

# Prints the first free port from $1 on. The ports stay below the
# ephemeral range (32768 and up on Linux by default), so no client
# connection of the run can take them.
next_free_port() {
	local port=$1
	while port_busy "$port"; do
		port=$((port + 1))
		((port < 32768)) || fail "no free port between $PORT_BASE and 32767"
	done
	echo "$port"
}

BACKEND_PORT=$(next_free_port "$PORT_BASE")
INBOUND_PORT=$(next_free_port $((BACKEND_PORT + 1)))
OUTBOUND_PORT=$(next_free_port $((INBOUND_PORT + 1)))

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until port $1 accepts connections, or fails showing the logs.
wait_for_port() {
	local port=$1 i pid
	for ((i = 0; i < 200; i++)); do
		port_accepts "$port" && return 0
		for pid in "${!ROLE_OF[@]}"; do
			kill -0 "$pid" 2>/dev/null && continue
			tail -n 5 "$RUN_DIR"/*.log >&2 || true
			fail "process $pid (${ROLE_OF[$pid]}) exited before port $port opened"
		done
		sleep 0.05
	done
	tail -n 5 "$RUN_DIR"/*.log >&2 || true
	fail "nothing accepts connections on port $port after 10 s"
}

# Process $1 and its direct children (nginx workers, forked proxy workers).
process_tree() {
	echo "$1"
	ps -o pid= --ppid "$1" 2>/dev/null || true
}

# CPU time (utime + stime, clock ticks) of every process with role $1.
role_ticks() {
	local role=$1 pid member total=0 ticks
	for pid in "${!ROLE_OF[@]}"; do
		[[ ${ROLE_OF[$pid]} == "$role" ]] || continue
		for member in $(process_tree "$pid"); do
			# Fields 14 and 15 of /proc/PID/stat. The command name in field 2
			# may contain spaces, so the count starts after its closing bracket.
			ticks=$(sed 's/^.*) //' "/proc/$member/stat" 2>/dev/null | awk '{ print $12 + $13 }') || ticks=0
			total=$((total + ${ticks:-0}))
		done
	done
	echo "$total"
}

# Resident memory (VmRSS, KiB) and thread count of every process with role $1.
role_memory() {
	local role=$1 pid member rss_total=0 thread_total=0 rss threads
	for pid in "${!ROLE_OF[@]}"; do
		[[ ${ROLE_OF[$pid]} == "$role" ]] || continue
		for member in $(process_tree "$pid"); do
			rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$member/status" 2>/dev/null) || rss=0
			threads=$(awk '/^Threads:/ { print $2 }' "/proc/$member/status" 2>/dev/null) || threads=0
			rss_total=$((rss_total + ${rss:-0}))
			thread_total=$((thread_total + ${threads:-0}))
		done
	done
	echo "$rss_total $thread_total"
}

# nginx needs one descriptor per held connection, so its connection table
# can be almost as large as the open-file limit. The room matters because
# nginx 1.22 closes idle keep-alive connections when its table runs low
# (warning "worker_connections are not enough, reusing connections"), which
# would cut the held connections short.
start_backend() {
	head -c "$PAYLOAD_BYTES" /dev/urandom >"$RUN_DIR/www/payload.bin"
	chmod 644 "$RUN_DIR/www/payload.bin"
	cat >"$RUN_DIR/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $FILE_LIMIT;
pid $RUN_DIR/nginx.pid;
error_log $RUN_DIR/nginx-error.log warn;
events {
    worker_connections $((FILE_LIMIT - 128));
}
http {
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout ${IDLE_TIMEOUT_SECONDS}s;
    keepalive_requests 100000000;
    client_body_temp_path $RUN_DIR/nginx-temp/body;
    proxy_temp_path $RUN_DIR/nginx-temp/proxy;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        root $RUN_DIR/www;
    }
}
EOF
	nginx -t -q -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf"
	spawn backend nginx nginx -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" -c "$RUN_DIR/nginx.conf"
	wait_for_port "$BACKEND_PORT"
}

# shellcheck source=bench/proxy/contenders.sh
source "$HELPERS/contenders.sh"

start_contender() {
	local name=$1
	ENTRY_PORT=""
	"contender_${name//-/_}"
	if [[ $name != direct ]]; then
		wait_for_port "$INBOUND_PORT"
		wait_for_port "$OUTBOUND_PORT"
	fi
	wait_for_port "$ENTRY_PORT"
}

run_wrk() {
	local mode=$1 seconds=$2 output=$3 options=()
	case $mode in
	keepalive) options=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS") ;;
	close) options=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -H "Connection: close") ;;
	c1) options=(-t1 -c1) ;;
	esac
	wrk "${options[@]}" -d"${seconds}s" --latency \
		"http://127.0.0.1:$ENTRY_PORT/payload.bin" >"$output" 2>&1 ||
		fail "wrk failed on port $ENTRY_PORT: $(tail -n 3 "$output")"
}

# Prints "requests seconds p50_ms p99_ms socket_errors non_2xx" from wrk's
# report in $1.
parse_wrk() {
	awk '
	function to_ms(value) {
		if (value ~ /us$/) return substr(value, 1, length(value) - 2) / 1000
		if (value ~ /ms$/) return substr(value, 1, length(value) - 2) + 0
		if (value ~ /m$/) return substr(value, 1, length(value) - 1) * 60000
		if (value ~ /s$/) return substr(value, 1, length(value) - 1) * 1000
		return value + 0
	}
	/ requests in / { requests = $1; seconds = $4; sub(/s,$/, "", seconds) }
	$1 == "50%" { p50 = to_ms($2) }
	$1 == "99%" { p99 = to_ms($2) }
	/Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	END { printf "%d %s %.3f %.3f %d %d\n", requests, seconds, p50, p99, errors, non2xx }' "$1"
}

measure() {
	local rep=$1 name=$2 mode=$3 raw in_before out_before in_after out_after
	raw=$RAW_DIR/$name-$mode-$rep.txt
	in_before=$(role_ticks inbound)
	out_before=$(role_ticks outbound)
	run_wrk "$mode" "$RUN_SECONDS" "$raw"
	in_after=$(role_ticks inbound)
	out_after=$(role_ticks outbound)
	read -r requests seconds p50 p99 errors non2xx < <(parse_wrk "$raw")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$name" "$mode" \
		"$requests" "$seconds" "$p50" "$p99" "$errors" "$non2xx" \
		$((in_after - in_before)) $((out_after - out_before)) >>"$WORK/results.tsv"
	progress "  $mode: $(awk -v r="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }') req/s," \
		"p50 $p50 ms, p99 $p99 ms, socket errors $errors, non-2xx $non2xx"
}

# Appends one row "contender check expected observed verdict" to checks.tsv.
record_check() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/checks.tsv"
	progress "  check $2: $4 ($5)"
}

# Sends one GET to the inbound over mTLS with the client certificate $1
# (none when empty) and prints the HTTP status or curl's error.
inbound_request() {
	local identity=$1 options=() status message
	[[ -n $identity ]] && options=(--cert "$PKI/$identity.crt" --key "$PKI/$identity.key")
	if status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$PKI/ca.crt" \
		--resolve "$SERVER_NAME:$INBOUND_PORT:127.0.0.1" "${options[@]}" \
		"https://$SERVER_NAME:$INBOUND_PORT/payload.bin" 2>"$WORK/curl.err"); then
		echo "HTTP $status"
	else
		message=$(head -n 1 "$WORK/curl.err" | sed 's/^curl: //')
		echo "rejected: ${message:0:110}"
	fi
}

# A refusal is any outcome but HTTP 200.
refusal_verdict() { [[ $1 == "HTTP 200" ]] && echo FAIL || echo PASS; }

run_checks() {
	local name=$1 observed verdict
	observed=$(curl -sS -o "$WORK/entry.out" -w 'HTTP %{http_code}' --max-time 5 \
		"http://127.0.0.1:$ENTRY_PORT/payload.bin" 2>&1) || true
	verdict=FAIL
	[[ $observed == "HTTP 200" ]] && cmp -s "$WORK/entry.out" "$RUN_DIR/www/payload.bin" && verdict=PASS
	record_check "$name" entry "HTTP 200, the file's bytes" "$observed" "$verdict"
	[[ $verdict == PASS ]] || fail "$name does not serve the file through port $ENTRY_PORT; see $RUN_DIR/*.log"
	[[ $name == direct ]] && return 0

	observed=$(inbound_request client)
	verdict=FAIL
	[[ $observed == "HTTP 200" ]] && verdict=PASS
	record_check "$name" good-client "HTTP 200" "$observed" "$verdict"

	observed=$(inbound_request "")
	record_check "$name" no-client-cert refused "$observed" "$(refusal_verdict "$observed")"

	observed=$(inbound_request rogue-client)
	record_check "$name" rogue-ca refused "$observed" "$(refusal_verdict "$observed")"

	observed=$(inbound_request intruder)
	verdict=$(refusal_verdict "$observed")
	[[ $name == stunnel && $verdict == FAIL ]] && verdict="FAIL: stunnel cannot check a URI SAN"
	record_check "$name" wrong-id refused "$observed" "$verdict"

	observed=$(openssl s_client -brief -connect "127.0.0.1:$INBOUND_PORT" -servername "$SERVER_NAME" \
		-CAfile "$PKI/ca.crt" -cert "$PKI/client.crt" -key "$PKI/client.key" </dev/null 2>&1 |
		awk -F': ' '/^Protocol version/ { v = $2 } /^Ciphersuite/ { c = $2 } /^Server Temp Key/ { k = $2 }
			END { printf "%s, %s, %s", v, c, k }')
	record_check "$name" negotiated "TLS 1.3" "$observed" "$([[ $observed == TLSv1.3* ]] && echo PASS || echo FAIL)"
}

# Appends to idle-notes.tsv the distinct log messages of the running
# proxies that tell of a limit or a rejected connection (stunnel logs "too
# many clients" when its client limit is reached), with their counts and
# without timestamps.
record_limit_messages() {
	local name=$1 pid
	for pid in "${!ROLE_OF[@]}"; do
		[[ ${ROLE_OF[$pid]} == inbound || ${ROLE_OF[$pid]} == outbound ]] || continue
		{ grep -iE 'too many|limit|reject|refus|accept.*fail' "$RUN_DIR/${LABEL_OF[$pid]}.log" || true; } |
			sed -E 's/^[0-9.:T -]+//' | sort | uniq -c | sort -rn | head -n 3 |
			while read -r count message; do
				printf '%s\t%s\t%s\t%s\n' "$name" "${LABEL_OF[$pid]}" "$count" "$message" >>"$WORK/idle-notes.tsv"
			done
	done
}

# Opens IDLE_CONNECTIONS keep-alive connections through the chain, keeps
# them idle and records the proxies' memory before and during that time.
measure_idle_memory() {
	local name=$1 status=$WORK/idle-status.json final=$WORK/idle-final.json client i
	local in_idle out_idle in_held out_held in_threads out_threads mtls_open backend_open
	rm -f "$status" "$final"
	read -r in_idle _ < <(role_memory inbound)
	read -r out_idle _ < <(role_memory outbound)
	spawn client idle-client "$PYTHON" "$HELPERS/idle_conns.py" --port "$ENTRY_PORT" \
		--count "$IDLE_CONNECTIONS" --concurrency "$IDLE_CONCURRENCY" --path /payload.bin --timeout 240 \
		--status-file "$status" --final-file "$final"
	client=$LAST_PID
	for ((i = 0; i < 2600; i++)); do
		[[ -f $status ]] && break
		kill -0 "$client" 2>/dev/null || fail "the idle-connection client exited: $(tail -n 3 "$RUN_DIR/idle-client.log")"
		sleep 0.1
	done
	[[ -f $status ]] || fail "the idle-connection client wrote no status in 260 s"
	# Let the proxies finish their work on the last connections.
	sleep 2
	read -r in_held in_threads < <(role_memory inbound)
	read -r out_held out_threads < <(role_memory outbound)
	# Connections open on the two inner hops: a proxy that pools or closes
	# idle upstream connections holds fewer than the client opened.
	mtls_open=$(ss -Htn state established "( dport = :$INBOUND_PORT )" | wc -l)
	backend_open=$(ss -Htn state established "( dport = :$BACKEND_PORT )" | wc -l)
	stop_pid "$client"
	[[ -f $final ]] || fail "the idle-connection client wrote no final status"
	record_limit_messages "$name"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$IDLE_CONNECTIONS" \
		"$(tr -d '\n' <"$status")" "$(tr -d '\n' <"$final")" \
		"$in_idle" "$out_idle" "$in_held" "$out_held" "$in_threads" "$out_threads" \
		"$mtls_open" "$backend_open" >>"$WORK/memory.tsv"
	progress "  $(awk '{ print $0 }' "$status"); RSS inbound $((in_held / 1024)) MiB," \
		"outbound $((out_held / 1024)) MiB"
}

write_machine_facts() {
	{
		printf 'nproc\t%s\n' "$(nproc)"
		printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		printf 'memory\t%s\n' "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		printf 'kernel\t%s\n' "$(uname -r)"
		printf 'openssl\t%s\n' "$(openssl version)"
		printf 'haproxy\t%s\n' "$(haproxy -v | head -n 1 | awk '{ print $3 }')"
		printf 'stunnel\t%s\n' "$(stunnel4 -version 2>&1 | awk '/^stunnel [0-9]/ { print $2; exit }')"
		printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's|.*nginx/||')"
		printf 'wrk\t%s\n' "$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
		printf 'build_type\t%s\n' "$(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null |
			"$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
			2>/dev/null || echo unknown)"
		printf 'loadavg\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)"
		printf 'tcp_tw_reuse\t%s\n' "$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
		printf 'files\t%s\n' "$(ulimit -n)"
	} >"$WORK/machine.tsv"
}

COMMAND="bench/proxy.sh $BUILD_DIR"
overrides=$(env | grep -E '^BENCH_(PROXY_[A-Z_]+|OUTPUT)=' | sort | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STOP_CONTEXT=""

progress "contenders: $CONTENDERS; modes: $MODES; $REPS reps of ${RUN_SECONDS} s"
progress "ports: nginx $BACKEND_PORT, inbound $INBOUND_PORT, outbound $OUTBOUND_PORT"
progress "generating the test PKI"
"$HELPERS/make_pki.sh" "$PKI"
write_machine_facts
start_backend
: >"$WORK/results.tsv"
: >"$WORK/checks.tsv"
: >"$WORK/memory.tsv"
: >"$WORK/incidents.txt"
: >"$WORK/idle-notes.tsv"

for ((rep = 1; rep <= REPS; rep++)); do
	for name in $CONTENDERS; do
		progress "rep $rep/$REPS: $name"
		start_contender "$name"
		((rep == 1)) && run_checks "$name"
		run_wrk keepalive "$WARMUP_SECONDS" "$RAW_DIR/$name-warmup-$rep.txt"
		for mode in $MODES; do
			measure "$rep" "$name" "$mode"
			sleep 1
		done
		stop_roles inbound outbound
		sleep 1
	done
done

# Read before the idle-connection test: stunnel's thread per connection
# raises the load average by thousands of tasks.
printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/machine.tsv"

if ((IDLE_CONNECTIONS > 0)); then
	for name in $CONTENDERS; do
		[[ $name == direct ]] && continue
		progress "idle connections: $name holds $IDLE_CONNECTIONS"
		start_contender "$name"
		measure_idle_memory "$name"
		STOP_CONTEXT="after holding the idle connections"
		stop_roles inbound outbound
		STOP_CONTEXT=""
		sleep 1
	done
fi
stop_roles backend

REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
"$PYTHON" "$HELPERS/report.py" --work "$WORK" --output "$OUTPUT" --command "$COMMAND" \
	--started "$STARTED" --revision "$REVISION" --threads "$PROXY_THREADS" \
	--seconds "$RUN_SECONDS" --warmup "$WARMUP_SECONDS" --reps "$REPS" \
	--wrk "$WRK_THREADS,$WRK_CONNECTIONS" --payload "$PAYLOAD_BYTES" \
	--clock-ticks "$CLOCK_TICKS" --idle-concurrency "$IDLE_CONCURRENCY" --contenders "$CONTENDERS" --modes "$MODES" \
	--note "$WARDEN_NOTE" --idle-note "$IDLE_NOTE"
progress "results written to $OUTPUT"
