#!/usr/bin/env bash
# Benchmarks `warden agent run` against a real `warden server`, both started
# from BUILD_DIR, and writes the results to docs/benchmarks-agent.md:
#   1. FetchX509SVID calls per second from concurrent clients, each on its
#      own connection, with the agent's CPU time (bench_agent fetch),
#   2. agent RSS before and after it caches one X.509-SVID per entry for
#      many entries,
#   3. time from deleting an entry on the server to the Workload API stream
#      message without it, at the default sync interval and at 1 s
#      (bench_agent update).
# Runs as root: the entries select unix:uid:0, so only root callers get
# their SVIDs, and the admin socket serves root. Every process it starts
# runs in a directory under /tmp and is stopped, by its pid, on exit.
#
# Environment:
#   BENCH_AGENT_THREADS      fetch clients (default 64)
#   BENCH_AGENT_SECONDS      fetch duration in seconds (default 10)
#   BENCH_AGENT_SVIDS        entries for the RSS run (default 10000)
#   BENCH_AGENT_MAX_SECONDS  time limit for creating those entries, and
#                            again for the agent to mint them (default 120)
#   BENCH_AGENT_ROUNDS       deletions per sync interval (default 10)
#   BENCH_AGENT_OUTPUT       the report (default docs/benchmarks-agent.md)
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/agent.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
THREADS=${BENCH_AGENT_THREADS:-64}
FETCH_SECONDS=${BENCH_AGENT_SECONDS:-10}
SVID_COUNT=${BENCH_AGENT_SVIDS:-10000}
MAX_SECONDS=${BENCH_AGENT_MAX_SECONDS:-120}
ROUNDS=${BENCH_AGENT_ROUNDS:-10}
OUTPUT=${BENCH_AGENT_OUTPUT:-$REPO/docs/benchmarks-agent.md}
TRUST_DOMAIN=bench.example
FAST_SYNC_SECONDS=1
PYTHON=/usr/bin/python3

WARDEN=$BUILD_DIR/warden
BENCH_AGENT=$BUILD_DIR/bench/bench_agent
ADMIN_HELPER=$REPO/bench/bench_admin.py

progress() { printf '[bench-agent %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/agent.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root: the entries select unix:uid:0 and the admin socket serves root"
for binary in "$WARDEN" "$BENCH_AGENT"; do
	[[ -x $binary ]] || fail "$binary not found or not executable: build it with" \
		"'meson setup $BUILD_DIR && ninja -C $BUILD_DIR warden bench/bench_agent'"
done
for tool in curl jq "$PYTHON"; do
	command -v "$tool" >/dev/null || fail "$tool is required but not installed"
done

# The agent's default sync interval, from its help text ("(default 5s)").
DEFAULT_SYNC_SECONDS=$("$WARDEN" agent run --help 2>&1 | grep -A1 -e '--sync-interval' |
	grep -o 'default [0-9]*s' | grep -o '[0-9]*' || true)
[[ -n $DEFAULT_SYNC_SECONDS ]] ||
	fail "could not read the default of --sync-interval from 'warden agent run --help'"

WORK=$(mktemp -d /tmp/warden-bench-agent-XXXXXX)
chmod 0755 "$WORK"
SERVER_PID=
SERVER_PORT=
ADMIN_SOCKET=$WORK/server/admin.sock
AGENT_PIDS=()

# stop_pid PID NAME: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
	local pid=$1 name=$2
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		progress "$name pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${AGENT_PIDS[@]}"; do
		stop_pid "$pid" agent
	done
	[[ -n $SERVER_PID ]] && stop_pid "$SERVER_PID" server
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
	mkdir -p "$WORK/server"
	"$WARDEN" server --trust-domain "$TRUST_DOMAIN" --data-dir "$WORK/server/data" \
		--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 --admin-socket "$ADMIN_SOCKET" >"$WORK/server/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 200); do
		kill -0 "$SERVER_PID" 2>/dev/null ||
			fail "warden server exited at start; its log:$(printf '\n')$(cat "$WORK/server/server.log")"
		SERVER_PORT=$(grep -o 'server started .*port=[0-9]*' "$WORK/server/server.log" |
			grep -o 'port=[0-9]*' | head -n1 | cut -d= -f2 || true)
		if [[ -n $SERVER_PORT && -S $ADMIN_SOCKET ]]; then
			progress "server started: pid $SERVER_PID, port $SERVER_PORT"
			admin 'http://x/v1/bundle?format=pem' >"$WORK/server/bundle.pem"
			return 0
		fi
		sleep 0.1
	done
	fail "warden server did not log 'server started' within 20 s; see $WORK/server/server.log"
}

admin() {
	curl --silent --show-error --fail-with-body --unix-socket "$ADMIN_SOCKET" "$@"
}

# create_entry SPIFFE_PATH PARENT_ID SELECTOR: creates one entry.
create_entry() {
	local reply
	reply=$(admin -X POST -H 'Content-Type: application/json' \
		-d "{\"spiffe_id\": \"spiffe://$TRUST_DOMAIN/$1\", \"parent_id\": \"$2\", \"selectors\": [\"$3\"]}" \
		http://x/v1/entries) || fail "creating entry $1 failed: $reply"
}

# Creates a join token; sets AGENT_ID, the SPIFFE ID it grants, and
# AGENT_TOKEN. Entries parented to AGENT_ID can be created before the agent
# attests.
new_agent_id() {
	local token
	token=$(admin -X POST http://x/v1/tokens) || fail "creating a join token failed: $token"
	AGENT_ID=$(jq -r .agent_id <<<"$token")
	AGENT_TOKEN=$(jq -r .token <<<"$token")
}

# start_agent NAME [warden agent run options]: starts an agent with the
# token of the last new_agent_id, its data directory and socket in
# $WORK/NAME, and waits for the SPIFFE_ENDPOINT_SOCKET line, which the agent
# prints after its first sync. Sets AGENT_PID and AGENT_SOCKET.
start_agent() {
	local name=$1
	shift
	local dir=$WORK/$name
	mkdir -p "$dir"
	AGENT_SOCKET=$dir/agent.sock
	"$WARDEN" agent run --server-address "127.0.0.1:$SERVER_PORT" \
		--trust-domain "$TRUST_DOMAIN" --trust-bundle "$WORK/server/bundle.pem" \
		--join-token "$AGENT_TOKEN" --data-dir "$dir/data" --socket-path "$AGENT_SOCKET" \
		--log-level debug "$@" >"$dir/agent.out" 2>"$dir/agent.log" &
	AGENT_PID=$!
	AGENT_PIDS+=("$AGENT_PID")
	for _ in $(seq 300); do
		kill -0 "$AGENT_PID" 2>/dev/null ||
			fail "agent $name exited at start; its log:$(printf '\n')$(cat "$dir/agent.log")"
		if grep -q '^SPIFFE_ENDPOINT_SOCKET=' "$dir/agent.out"; then
			progress "agent $name started: pid $AGENT_PID, $AGENT_ID"
			return 0
		fi
		sleep 0.1
	done
	fail "agent $name printed no SPIFFE_ENDPOINT_SOCKET line within 30 s; see $dir/agent.log"
}

# status_kb PID FIELD: a field of /proc/PID/status, in kB.
status_kb() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"; }

# field KEY LINE: the value of KEY=value in a line of driver output.
field() { grep -o "\b$1=[^ ]*" <<<"$2" | head -n1 | cut -d= -f2; }

mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# --- the machine ---------------------------------------------------------
NPROC=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEMORY=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
OPENSSL_VERSION=$(openssl version 2>/dev/null || echo unknown)
KERNEL=$(uname -r)
TMP_FS=$(df --output=fstype /tmp | tail -n1)
NGHTTP2_VERSION=$(dpkg-query -W -f '${Version}' libnghttp2-14 2>/dev/null || echo unknown)
BUILDTYPE=$(meson introspect --buildoptions "$BUILD_DIR" 2>/dev/null |
	jq -r '.[] | select(.name == "buildtype") | .value' 2>/dev/null || echo unknown)
GIT_REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]]; then
	GIT_REVISION="$GIT_REVISION with uncommitted changes"
fi
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
progress "machine: $NPROC CPUs ($CPU_MODEL), $MEMORY, build type $BUILDTYPE"

start_server

# --- 1. FetchX509SVID calls per second --------------------------------------
new_agent_id
DEFAULT_AGENT_ID=$AGENT_ID
create_entry bench/fetch "$AGENT_ID" unix:uid:0
start_agent default
DEFAULT_AGENT_PID=$AGENT_PID
DEFAULT_AGENT_SOCKET=$AGENT_SOCKET
progress "FetchX509SVID: $THREADS clients for $FETCH_SECONDS s"
FETCH_OUT=$("$BENCH_AGENT" fetch --socket "$DEFAULT_AGENT_SOCKET" --threads "$THREADS" \
	--seconds "$FETCH_SECONDS" --agent-pid "$DEFAULT_AGENT_PID") ||
	fail "bench_agent fetch failed: $FETCH_OUT"
printf '%s\n' "$FETCH_OUT" >&2
FETCH_RSS_KB=$(status_kb "$DEFAULT_AGENT_PID" VmRSS)

# --- 3. deletion to stream update -----------------------------------------
# Runs before the RSS run, so that the server has no extra entries yet.
progress "deletion to stream update: $ROUNDS rounds at the default ${DEFAULT_SYNC_SECONDS} s sync interval"
UPDATE_DEFAULT_OUT=$("$BENCH_AGENT" update --socket "$DEFAULT_AGENT_SOCKET" \
	--admin-socket "$ADMIN_SOCKET" --parent-id "$DEFAULT_AGENT_ID" --trust-domain "$TRUST_DOMAIN" \
	--rounds "$ROUNDS" --sync-interval "$DEFAULT_SYNC_SECONDS" --tag default) ||
	fail "bench_agent update failed: $UPDATE_DEFAULT_OUT"
printf '%s\n' "$UPDATE_DEFAULT_OUT" >&2
stop_pid "$DEFAULT_AGENT_PID" agent

new_agent_id
FAST_AGENT_ID=$AGENT_ID
create_entry bench/update-fast "$AGENT_ID" unix:uid:0
start_agent fast --sync-interval "${FAST_SYNC_SECONDS}s"
progress "deletion to stream update: $ROUNDS rounds at a ${FAST_SYNC_SECONDS} s sync interval"
UPDATE_FAST_OUT=$("$BENCH_AGENT" update --socket "$AGENT_SOCKET" \
	--admin-socket "$ADMIN_SOCKET" --parent-id "$FAST_AGENT_ID" --trust-domain "$TRUST_DOMAIN" \
	--rounds "$ROUNDS" --sync-interval "$FAST_SYNC_SECONDS" --tag fast) ||
	fail "bench_agent update failed: $UPDATE_FAST_OUT"
printf '%s\n' "$UPDATE_FAST_OUT" >&2
stop_pid "$AGENT_PID" agent

# --- 2. agent RSS with many cached SVIDs -----------------------------------
# The entries select unix:uid:1000 and up, so that no caller here matches
# them: one FetchX509SVID reply with all of them would pass the 4 MiB gRPC
# message limit. The agent logs "svid minted" (at debug level) after each
# SVID is in its cache; the script counts those lines.
new_agent_id
CACHE_AGENT_ID=$AGENT_ID
start_agent cache
CACHE_AGENT_PID=$AGENT_PID
CACHE_LOG=$WORK/cache/agent.log
sleep "$DEFAULT_SYNC_SECONDS"
RSS_BEFORE_KB=$(status_kb "$CACHE_AGENT_PID" VmRSS)
HWM_BEFORE_KB=$(status_kb "$CACHE_AGENT_PID" VmHWM)
ANON_BEFORE_KB=$(status_kb "$CACHE_AGENT_PID" RssAnon)
MINTED_BEFORE=$(grep -c 'svid minted' "$CACHE_LOG" || true)

LOAD_BEFORE_ENTRIES=$(cut -d' ' -f1-3 /proc/loadavg)
progress "RSS: creating $SVID_COUNT entries for the agent (at most $MAX_SECONDS s)"
CREATE_START=$(date +%s.%N)
ENTRY_OUT=$("$PYTHON" "$ADMIN_HELPER" entries --socket "$ADMIN_SOCKET" \
	--trust-domain "$TRUST_DOMAIN" --parent-id "$CACHE_AGENT_ID" --count "$SVID_COUNT" \
	--max-seconds "$MAX_SECONDS") || fail "creating entries failed"
printf '%s\n' "$ENTRY_OUT" >&2
ENTRIES_CREATED=$(field created "$ENTRY_OUT")
ENTRY_RATE=$(field rate "$ENTRY_OUT")

progress "waiting until the agent has minted $ENTRIES_CREATED SVIDs (at most $MAX_SECONDS s)"
MINT_DEADLINE=$(($(date +%s) + MAX_SECONDS))
MINTED=0
while :; do
	MINTED=$(($(grep -c 'svid minted' "$CACHE_LOG" || true) - MINTED_BEFORE))
	[[ $MINTED -ge $ENTRIES_CREATED ]] && break
	kill -0 "$CACHE_AGENT_PID" 2>/dev/null || fail "the agent exited; see $CACHE_LOG"
	if [[ $(date +%s) -ge $MINT_DEADLINE ]]; then
		progress "stopped waiting after $MAX_SECONDS s at $MINTED minted SVIDs"
		break
	fi
	sleep 0.2
done
MINT_DONE=$(date +%s.%N)
MINT_SECONDS=$(awk -v a="$CREATE_START" -v b="$MINT_DONE" 'BEGIN { printf "%.1f", b - a }')
progress "$MINTED SVIDs minted $MINT_SECONDS s after the first entry was created"

# Let one more sync pass run (it has nothing left to mint), then read RSS
# once two readings a second apart are equal, for at most 10 s.
sleep "$DEFAULT_SYNC_SECONDS"
RSS_AFTER_KB=$(status_kb "$CACHE_AGENT_PID" VmRSS)
for _ in $(seq 10); do
	sleep 1
	RSS_NOW_KB=$(status_kb "$CACHE_AGENT_PID" VmRSS)
	[[ $RSS_NOW_KB -eq $RSS_AFTER_KB ]] && break
	RSS_AFTER_KB=$RSS_NOW_KB
done
HWM_AFTER_KB=$(status_kb "$CACHE_AGENT_PID" VmHWM)
LOAD_AFTER_ENTRIES=$(cut -d' ' -f1-3 /proc/loadavg)
ANON_AFTER_KB=$(status_kb "$CACHE_AGENT_PID" RssAnon)
stop_pid "$CACHE_AGENT_PID" agent
[[ $MINTED -gt 0 ]] || fail "the agent minted no SVIDs; see $CACHE_LOG"
BYTES_PER_SVID=$(awk -v a="$RSS_AFTER_KB" -v b="$RSS_BEFORE_KB" -v n="$MINTED" \
	'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
ANON_BYTES_PER_SVID=$(awk -v a="$ANON_AFTER_KB" -v b="$ANON_BEFORE_KB" -v n="$MINTED" \
	'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
progress "agent RSS $(mib "$RSS_BEFORE_KB") -> $(mib "$RSS_AFTER_KB") MiB: $BYTES_PER_SVID bytes per cached SVID"

# --- the report ------------------------------------------------------------
fetch() { field "$1" "$FETCH_OUT"; }
update_default() { field "$1" "$UPDATE_DEFAULT_OUT"; }
update_fast() { field "$1" "$UPDATE_FAST_OUT"; }
COMMAND="bench/agent.sh $BUILD_DIR"
for variable in BENCH_AGENT_THREADS BENCH_AGENT_SECONDS BENCH_AGENT_SVIDS \
	BENCH_AGENT_MAX_SECONDS BENCH_AGENT_ROUNDS; do
	[[ -n ${!variable:-} ]] && COMMAND="$variable=${!variable} $COMMAND"
done
SVID_NOTE="The agent cached all $MINTED SVIDs."
if [[ $MINTED -lt $SVID_COUNT ]]; then
	SVID_NOTE="The run stopped at a ${MAX_SECONDS} s limit with $MINTED of the $SVID_COUNT requested SVIDs cached ($ENTRIES_CREATED entries created), so the bytes per SVID below divide by $MINTED."
fi
CACHED_PAYLOAD=$(($(fetch chain_bytes) + $(fetch key_bytes)))

mkdir -p "$(dirname "$OUTPUT")"
cat >"$OUTPUT" <<EOF
# Agent benchmarks

Produced by \`$COMMAND\` on $STARTED, at revision $GIT_REVISION.
Every number below comes from that one run; rerun the command (as root) to
refresh this page. The server's own benchmarks are in
[benchmarks.md](benchmarks.md).

| machine | |
| --- | --- |
| CPUs (nproc) | $NPROC |
| CPU model | $CPU_MODEL |
| memory | $MEMORY |
| kernel | $KERNEL |
| OpenSSL | $OPENSSL_VERSION |
| nghttp2 (Debian package libnghttp2-14) | $NGHTTP2_VERSION |
| /tmp file system (data directories) | $TMP_FS |
| warden build type | $BUILDTYPE |
| load average (1, 5, 15 min) at the start | $LOAD_AT_START |

The script starts one \`warden server --trust-domain $TRUST_DOMAIN\` (identity
API on 127.0.0.1, admin socket and data under /tmp) and, per part, a
\`warden agent run\` with a new join token, its data directory and its
Workload API socket in the same temporary directory, and \`--log-level
debug\`. Server, agents and clients share the machine's CPUs, and other
processes on the machine are not stopped: the load average above shows what
ran before the start.

No peer numbers: SPIRE is not packaged in Debian and is not installed here,
so there is no spire-agent to run side by side.

## 1. FetchX509SVID calls per second

One entry, \`spiffe://$TRUST_DOMAIN/bench/fetch\` with the selector
\`unix:uid:0\`, parented to the agent. \`bench/bench_agent fetch\` runs
$THREADS threads as root, each with its own gRPC connection to the agent's
socket, for $FETCH_SECONDS s. Each call opens a FetchX509SVID stream with the
metadata \`workload.spiffe.io: true\`, takes the first X509SVIDResponse and
cancels the stream (RST_STREAM). Every call includes the agent's workload
attestation of the caller (reads under /proc/PID; the executable's hash is
cached, and all calls come from one process), the cache lookup and the
encoding of the reply.
Latency is from starting the call to the end of the cancel. Agent and client
CPU are utime + stime over the measured window (agent from /proc/PID/stat,
client from getrusage); 100% is one core. The agent serves these calls on
its one event-loop thread, so one core is the ceiling for this path.

| clients | calls/s | p50 ms | p99 ms | calls | errors | refused after GOAWAY | agent CPU s | agent CPU % | client CPU % |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| $(fetch threads) | $(fetch rate) | $(fetch p50_ms) | $(fetch p99_ms) | $(fetch calls) | $(fetch errors) | $(fetch refused) | $(fetch agent_cpu_s) | $(fetch agent_cpu_pct) | $(fetch client_cpu_pct) |

"Refused after GOAWAY" counts calls that the agent's HTTP/2 library
rejected because it had closed the connection; the client then reconnects
and goes on. The agent's gRPC server runs on Debian's nghttp2
$NGHTTP2_VERSION, which carries the fix for CVE-2023-44487 (HTTP/2 rapid
reset). That fix limits the RST_STREAM frames a client may send on one
connection to a burst of 1000 plus 33 per second, the defaults of
\`nghttp2_option_set_stream_reset_rate_limit\`, which warden does not
change. The next RST_STREAM makes the server send GOAWAY. Since this client
cancels every call, each connection lasts about 1000 calls plus 33 for each
second it has been open. The reconnects are part of the measured rate. A workload that keeps
its FetchX509SVID stream open, as the Workload API intends, sends no
RST_STREAM frames.

Each reply was $(fetch message_bytes) bytes: $(fetch svids) SVID with a
$(fetch chain_bytes)-byte DER chain (the leaf only, because the CA
certificate travels in the bundle field), a $(fetch key_bytes)-byte PKCS#8
key and a $(fetch bundle_bytes)-byte bundle. The agent's VmRSS after the run
was $(mib "$FETCH_RSS_KB") MiB.

## 2. Agent memory with $MINTED cached X.509-SVIDs

A new agent with no entries. After its start and one sync interval, the
script reads VmRSS, VmHWM and RssAnon from /proc/PID/status. It then
creates $ENTRIES_CREATED entries parented to the agent, each with its own
SPIFFE ID and one \`unix:uid:N\` selector (N from 1000). They go one
\`POST /v1/entries\` at a time over one keep-alive connection to the admin
socket (bench/bench_admin.py, $ENTRY_RATE entries/s). The agent mints one SVID per
entry in its sync passes, one server request at a time. The script counts
its \`svid minted\` log lines, which it writes after each SVID is in its
cache, until all entries have one, lets one more sync pass run, and reads
the same fields once VmRSS is unchanged for a second. $SVID_NOTE

| point | cached SVIDs | VmRSS MiB | VmHWM MiB | RssAnon MiB |
| --- | ---: | ---: | ---: | ---: |
| after start and one sync interval | 0 | $(mib "$RSS_BEFORE_KB") | $(mib "$HWM_BEFORE_KB") | $(mib "$ANON_BEFORE_KB") |
| after minting | $MINTED | $(mib "$RSS_AFTER_KB") | $(mib "$HWM_AFTER_KB") | $(mib "$ANON_AFTER_KB") |

**$BYTES_PER_SVID bytes of VmRSS per cached SVID** ((after - before) /
$MINTED; $ANON_BYTES_PER_SVID bytes by RssAnon). All $MINTED SVIDs were
cached $MINT_SECONDS s after the first entry was created. The creation
rate and this time depend on what else runs on the machine: the load
average (1, 5, 15 min) was $LOAD_BEFORE_ENTRIES before the entries were
created and $LOAD_AFTER_ENTRIES after the last RSS reading.

Per entry the cache stores the entry (id, SPIFFE ID, hint, selectors,
revision, TTLs) and its SVID: the DER chain and the PKCS#8 key,
$CACHED_PAYLOAD bytes for the EC P-256 SVID of part 1. The CA certificates
are stored once, in the cached bundle. This script does not break down the
rest of the growth (allocator overhead, the selector sets, memory the sync
thread's allocations left mapped).

| | bytes per cached X.509-SVID | what it counts |
| --- | ---: | --- |
| warden agent, this run | $BYTES_PER_SVID | growth of the whole process's VmRSS, divided by the SVID count |
| warden agent, this run | $CACHED_PAYLOAD | DER chain + PKCS#8 key of one SVID, without the entry and allocator overhead |
| spire-agent, estimate | 3+ KB | certificate bytes of the leaf and its chain, per the estimate below |

The SPIRE figure is an estimate, not a measurement, and was not reproduced
here. The description of the SPIRE issue "[RFC] Configurable SPIRE Agent
LRU X.509-SVID caching strategy"
(https://github.com/spiffe/spire/issues/2593, opened 2021-10-09) says "Each X.509-SVID has about ~1 KB/certificate. Including the
workload certificate and its chain, this amounts to 3+ KB/X.509-SVID" for
spire-agent's cache. It counts certificates only, without the private key
or any process overhead.

## 3. From deleting an entry to the stream update

\`bench/bench_agent update\` keeps one FetchX509SVID stream open as root.
The agent has one permanent entry for \`unix:uid:0\`. Each of $ROUNDS rounds
creates a second one for \`unix:uid:0\` and waits until the stream delivers
its SVID. After a fraction of the sync interval it deletes the entry with
\`DELETE /v1/entries/{id}\` on the admin socket, and times from sending the
DELETE to the first stream message without that SPIFFE ID. The agent only
learns of the deletion at its next sync pass (\`GET /v1/node/entries\`),
which starts one interval after the previous pass ended. Round i deletes
(i + 0.5) / $ROUNDS of an interval after the pass that delivered the entry,
so the deletions fall evenly over the interval, as deletions at random
times would. The maximum therefore approaches, but does not reach, the
worst case of one full interval plus a sync pass. "Create to stream" is
the time from the create to the message with the new SVID, which includes
its minting. Each create after the first follows right after the sync pass
that delivered the previous round's deletion, so that column shows nearly a
full interval, the worst case for a new entry.

| sync interval | rounds | deletion to update, min ms | p50 ms | max ms | create to stream, p50 ms | max ms |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ${DEFAULT_SYNC_SECONDS} s (default) | $(update_default rounds) | $(update_default delete_min_ms) | $(update_default delete_p50_ms) | $(update_default delete_max_ms) | $(update_default appear_p50_ms) | $(update_default appear_max_ms) |
| ${FAST_SYNC_SECONDS} s (\`--sync-interval ${FAST_SYNC_SECONDS}s\`) | $(update_fast rounds) | $(update_fast delete_min_ms) | $(update_fast delete_p50_ms) | $(update_fast delete_max_ms) | $(update_fast appear_p50_ms) | $(update_fast appear_max_ms) |

The delay is bounded by the sync interval: the server does not push
changes to agents, and the agent sends the stream update as soon as the
pass that sees the deletion drops the entry from its cache.
EOF
progress "wrote $OUTPUT"
