#!/usr/bin/env bash
# Runs warden's benchmarks against the binaries in BUILD_DIR and writes the
# results to docs/benchmarks.md:
#   1. in-process X.509-SVID signing (bench_sign) next to `openssl speed`,
#   2. SVIDs per second through the HTTPS API with keep-alive mTLS clients
#      (bench_api), plainly and with TCP_NODELAY forced by an LD_PRELOAD shim
#      (a control now that warden sets TCP_NODELAY itself),
#   3. server RSS before and after creating many registration entries.
# Every server it starts runs in a directory under /tmp and is stopped, by
# its pid, on exit.
#
# Environment: BENCH_SIGN_SECONDS (per phase, default 5), BENCH_API_SECONDS
# (default 10), BENCH_API_THREADS (default 8), BENCH_ENTRY_COUNT (default
# 100000), BENCH_ENTRY_MAX_SECONDS (stop creating entries after this long,
# default 180), BENCH_OUTPUT (default docs/benchmarks.md).
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/run.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
SIGN_SECONDS=${BENCH_SIGN_SECONDS:-5}
API_SECONDS=${BENCH_API_SECONDS:-10}
API_THREADS=${BENCH_API_THREADS:-8}
ENTRY_COUNT=${BENCH_ENTRY_COUNT:-100000}
ENTRY_MAX_SECONDS=${BENCH_ENTRY_MAX_SECONDS:-180}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}
TRUST_DOMAIN=bench.example
PYTHON=/usr/bin/python3

WARDEN=$BUILD_DIR/warden
BENCH_SIGN=$BUILD_DIR/bench/bench_sign
BENCH_API=$BUILD_DIR/bench/bench_api
NODELAY_SHIM=$BUILD_DIR/bench/bench_nodelay.so
ADMIN_HELPER=$REPO/bench/bench_admin.py

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/run.sh: error: %s\n' "$*" >&2; exit 1; }

for binary in "$WARDEN" "$BENCH_SIGN" "$BENCH_API"; do
	[[ -x $binary ]] || fail "$binary not found or not executable: build it with" \
		"'meson setup $BUILD_DIR && ninja -C $BUILD_DIR' (bench/ is built when the top-level" \
		"meson.build has subdir('bench'))"
done
[[ -f $NODELAY_SHIM ]] || fail "$NODELAY_SHIM not found: run 'ninja -C $BUILD_DIR'"
for tool in openssl curl jq "$PYTHON"; do
	command -v "$tool" >/dev/null || fail "$tool is required but not installed"
done
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
	fail "$PYTHON cannot import cryptography: install python3-cryptography"

WORK=$(mktemp -d /tmp/warden-bench-XXXXXX)
SERVER_PID=
SERVER_DIR=
SERVER_PORT=

stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SERVER_PID" 2>/dev/null; then
			progress "server pid $SERVER_PID ignored SIGTERM for 10 s; sending SIGKILL"
			kill -KILL "$SERVER_PID" 2>/dev/null || true
		fi
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

cleanup() {
	stop_server
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [LD_PRELOAD value]: starts a server in $WORK/NAME and
# waits for its "server started ... port=N" log line.
start_server() {
	local name=$1 preload=${2:-}
	SERVER_DIR=$WORK/$name
	mkdir -p "$SERVER_DIR"
	LD_PRELOAD=$preload "$WARDEN" server --trust-domain "$TRUST_DOMAIN" \
		--data-dir "$SERVER_DIR/data" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
		--admin-socket "$SERVER_DIR/admin.sock" >"$SERVER_DIR/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 200); do
		kill -0 "$SERVER_PID" 2>/dev/null ||
			fail "warden server exited at start; its log:$(printf '\n')$(cat "$SERVER_DIR/server.log")"
		SERVER_PORT=$(grep -o 'server started .*port=[0-9]*' "$SERVER_DIR/server.log" |
			grep -o 'port=[0-9]*' | head -n1 | cut -d= -f2 || true)
		if [[ -n $SERVER_PORT && -S $SERVER_DIR/admin.sock ]]; then
			progress "server $name started: pid $SERVER_PID, port $SERVER_PORT"
			return 0
		fi
		sleep 0.1
	done
	fail "warden server did not log 'server started' within 20 s; see $SERVER_DIR/server.log"
}

admin() {
	curl --silent --show-error --fail-with-body --unix-socket "$SERVER_DIR/admin.sock" "$@"
}

# status_kb FIELD: a field of /proc/PID/status of the server, in kB.
status_kb() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$SERVER_PID/status"; }

# field KEY LINE: the value of KEY=value in a line of driver output.
field() { grep -o "\b$1=[^ ]*" <<<"$2" | head -n1 | cut -d= -f2; }

# Attests a node and creates one entry parented to it; sets AGENT_ID and
# ENTRY_ID and writes node.pem, node.key and bundle.pem to $SERVER_DIR.
setup_node() {
	local token entry
	admin 'http://x/v1/bundle?format=pem' >"$SERVER_DIR/bundle.pem"
	token=$(admin -X POST http://x/v1/tokens | jq -r .token)
	AGENT_ID=$("$PYTHON" "$ADMIN_HELPER" attest --port "$SERVER_PORT" \
		--bundle "$SERVER_DIR/bundle.pem" --token "$token" --out-dir "$SERVER_DIR")
	entry=$(admin -X POST -H 'Content-Type: application/json' \
		-d "{\"spiffe_id\": \"spiffe://$TRUST_DOMAIN/bench/api\", \"parent_id\": \"$AGENT_ID\", \"selectors\": [\"unix:uid:1000\"]}" \
		http://x/v1/entries)
	ENTRY_ID=$(jq -r .id <<<"$entry")
	[[ -n $ENTRY_ID && $ENTRY_ID != null ]] || fail "creating the API entry failed: $entry"
}

# run_api LD_PRELOAD: runs bench_api against the current server.
run_api() {
	LD_PRELOAD=$1 "$BENCH_API" --port "$SERVER_PORT" --cert "$SERVER_DIR/node.pem" \
		--key "$SERVER_DIR/node.key" --bundle "$SERVER_DIR/bundle.pem" \
		--entry-id "$ENTRY_ID" --threads "$API_THREADS" --seconds "$API_SECONDS" \
		--server-pid "$SERVER_PID"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

# --- the machine ---------------------------------------------------------
NPROC=$(nproc)
# Other processes on the machine skew every ratio below, openssl speed's too.
LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEMORY=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
OPENSSL_VERSION=$(openssl version)
KERNEL=$(uname -r)
SQLITE_VERSION=$("$PYTHON" -c 'import sqlite3; print(sqlite3.sqlite_version)')
TMP_FS=$(df --output=fstype /tmp | tail -n1)
BUILDTYPE=$(meson introspect --buildoptions "$BUILD_DIR" 2>/dev/null |
	jq -r '.[] | select(.name == "buildtype") | .value' 2>/dev/null || echo unknown)
GIT_REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]]; then
	GIT_REVISION="$GIT_REVISION with uncommitted changes"
fi
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
progress "machine: $NPROC CPUs ($CPU_MODEL), $MEMORY, $OPENSSL_VERSION, build type $BUILDTYPE"

# --- 1. in-process signing -------------------------------------------------
progress "in-process signing: 9 phases of $SIGN_SECONDS s (bench_sign)"
SIGN_OUT=$("$BENCH_SIGN" --seconds "$SIGN_SECONDS") || fail "bench_sign failed"
printf '%s\n' "$SIGN_OUT" >&2
phase_value() { field "$2" "$(grep "^phase=$1 " <<<"$SIGN_OUT")"; }
ISSUE_RATE=$(phase_value issue rate); ISSUE_US=$(phase_value issue us_per_op)
ISSUE_OPENSSL_RATE=$(phase_value issue-openssl rate)
ISSUE_OPENSSL_US=$(phase_value issue-openssl us_per_op)
DECODE_US=$(phase_value decode us_per_op)
SIGN_DEFAULT_RATE=$(phase_value sign-default rate); SIGN_DEFAULT_US=$(phase_value sign-default us_per_op)
SIGN_FULL_RATE=$(phase_value sign-full rate); SIGN_FULL_US=$(phase_value sign-full us_per_op)
INSERT_DEFAULT_RATE=$(phase_value insert-default rate); INSERT_DEFAULT_US=$(phase_value insert-default us_per_op)
INSERT_FULL_RATE=$(phase_value insert-full rate); INSERT_FULL_US=$(phase_value insert-full us_per_op)
PUBKEY_SET_US=$(phase_value pubkey-set us_per_op)
PUBKEY_DIRECT_US=$(phase_value pubkey-direct us_per_op)
DEFAULT_SYNCHRONOUS=$(grep -o 'phase=sign-default synchronous=[0-9]*' <<<"$SIGN_OUT" | cut -d= -f3)

progress "openssl speed -seconds $SIGN_SECONDS ecdsap256"
SPEED_OUT=$(openssl speed -seconds "$SIGN_SECONDS" ecdsap256 2>/dev/null) || fail "openssl speed failed"
# The result row: "256 bits ecdsa (nistp256)   0.0000s   0.0001s  46926.6  16075.0";
# sign/s is the second-to-last column.
OPENSSL_SIGN_RATE=$(awk '/ecdsa \(nistp256\)/ { print $(NF - 1) }' <<<"$SPEED_OUT" | tail -n1)
[[ -n $OPENSSL_SIGN_RATE ]] || fail "could not find the sign/s column in: $SPEED_OUT"
progress "openssl ECDSA P-256: $OPENSSL_SIGN_RATE sign/s"

# The datastore's share of the full call: sign-default minus issue.
DATASTORE_US=$(awk -v a="$SIGN_DEFAULT_US" -v b="$ISSUE_US" 'BEGIN { printf "%.1f", a - b }')
# What 0.8 of openssl's rate allows per call, in µs.
TARGET_US=$(awk -v r="$OPENSSL_SIGN_RATE" 'BEGIN { printf "%.1f", 1e6 / (0.8 * r) }')

# --- 2. the HTTPS API ------------------------------------------------------
progress "HTTPS API: $API_THREADS keep-alive mTLS clients for $API_SECONDS s"
start_server api
setup_node
API_OUT=$(run_api "") || fail "bench_api failed: $API_OUT"
printf '%s\n' "$API_OUT" >&2
stop_server

progress "HTTPS API again, with TCP_NODELAY forced on client and server ($NODELAY_SHIM)"
start_server api-nodelay "$(realpath "$NODELAY_SHIM")"
setup_node
NODELAY_OUT=$(run_api "$(realpath "$NODELAY_SHIM")") || fail "bench_api failed: $NODELAY_OUT"
printf '%s\n' "$NODELAY_OUT" >&2
stop_server

# --- 3. memory with many registration entries ------------------------------
progress "RSS: creating $ENTRY_COUNT entries (at most $ENTRY_MAX_SECONDS s)"
start_server entries
sleep 1
RSS_START_KB=$(status_kb VmRSS); HWM_START_KB=$(status_kb VmHWM)
setup_node
ENTRY_OUT=$("$PYTHON" "$ADMIN_HELPER" entries --socket "$SERVER_DIR/admin.sock" \
	--trust-domain "$TRUST_DOMAIN" --parent-id "$AGENT_ID" --count "$ENTRY_COUNT" \
	--max-seconds "$ENTRY_MAX_SECONDS") || fail "creating entries failed"
printf '%s\n' "$ENTRY_OUT" >&2
ENTRIES_CREATED=$(field created "$ENTRY_OUT")
ENTRY_RATE=$(field rate "$ENTRY_OUT")
ENTRY_SECONDS=$(field seconds "$ENTRY_OUT")
RSS_ENTRIES_KB=$(status_kb VmRSS); HWM_ENTRIES_KB=$(status_kb VmHWM)
progress "listing the node's entries once through the admin API"
LIST_START=$(date +%s.%N)
admin "http://x/v1/entries?parent_id=$AGENT_ID&limit=1000" >/dev/null
LIST_SECONDS=$(awk -v a="$LIST_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
RSS_LIST_KB=$(status_kb VmRSS); HWM_LIST_KB=$(status_kb VmHWM)
DB_BYTES=$(du -sb "$SERVER_DIR/data" | cut -f1)
stop_server

# --- the report ------------------------------------------------------------
api() { field "$1" "$API_OUT"; }
nodelay() { field "$1" "$NODELAY_OUT"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
COMMAND="bench/run.sh $BUILD_DIR"
for variable in BENCH_SIGN_SECONDS BENCH_API_SECONDS BENCH_API_THREADS BENCH_ENTRY_COUNT \
	BENCH_ENTRY_MAX_SECONDS; do
	[[ -n ${!variable:-} ]] && COMMAND="$variable=${!variable} $COMMAND"
done
ENTRY_NOTE=""
if [[ $ENTRIES_CREATED -lt $ENTRY_COUNT ]]; then
	ENTRY_NOTE="The run stopped at the ${ENTRY_MAX_SECONDS} s limit after $ENTRIES_CREATED of the $ENTRY_COUNT requested entries, so the RSS below is for $ENTRIES_CREATED entries."
fi

# Prints "met" when rate $1 is at least 0.8 of openssl's sign/s, else "missed".
verdict() {
	if awk -v a="$1" -v b="$OPENSSL_SIGN_RATE" 'BEGIN { exit !(a >= 0.8 * b) }'; then
		echo met
	else
		echo missed
	fi
}
TARGET_VERDICT=$(verdict "$SIGN_DEFAULT_RATE")
ISSUE_VERDICT=$(verdict "$ISSUE_RATE")
NAGLE_VERDICT="Forcing TCP_NODELAY from outside changes the rate by a factor of $(ratio "$(nodelay rate)" "$(api rate)"), so no delayed-ACK stall remains."
if awk -v a="$(api rate)" -v b="$(nodelay rate)" 'BEGIN { exit !(b > 1.5 * a) }'; then
	NAGLE_VERDICT="As built, the server idles ($(api server_cpu_pct)% of a core) while every client waits, and TCP_NODELAY alone raises the rate $(ratio "$(nodelay rate)" "$(api rate)") times: a delayed-ACK stall is back."
fi

mkdir -p "$(dirname "$OUTPUT")"
# bench/policy.sh, bench/proxy.sh, bench/secrets.sh and bench/supply_scan.sh
# own marked sections of the same page; keep them.
POLICY_SECTION=""
PROXY_SECTION=""
SECRETS_SECTION=""
SCAN_SECTION=""
SUPPLY_SECTION=""
if [[ -f $OUTPUT ]]; then
	POLICY_SECTION=$(sed -n '/<!-- policy-bench:begin -->/,/<!-- policy-bench:end -->/p' "$OUTPUT")
	PROXY_SECTION=$(sed -n '/<!-- proxy-bench:begin -->/,/<!-- proxy-bench:end -->/p' "$OUTPUT")
	SECRETS_SECTION=$(sed -n '/<!-- secrets-bench:begin -->/,/<!-- secrets-bench:end -->/p' "$OUTPUT")
	SCAN_SECTION=$(sed -n '/<!-- supply-scan-bench:begin -->/,/<!-- supply-scan-bench:end -->/p' "$OUTPUT")
	SUPPLY_SECTION=$(sed -n '/<!-- supply-bench:begin -->/,/<!-- supply-bench:end -->/p' "$OUTPUT")
fi
cat >"$OUTPUT" <<EOF
# Benchmarks

Produced by \`$COMMAND\` (\`make bench\` runs it on the \`build\` directory)
on $STARTED, at revision $GIT_REVISION. Every number below comes from that
one run; rerun the command to refresh this page.

| machine | |
| --- | --- |
| CPUs (nproc) | $NPROC |
| CPU model | $CPU_MODEL |
| memory | $MEMORY |
| kernel | $KERNEL |
| OpenSSL | $OPENSSL_VERSION |
| SQLite | $SQLITE_VERSION |
| /tmp file system (data directories) | $TMP_FS |
| warden build type | $BUILDTYPE |
| load average (1 min) when the run started | $LOAD_AT_START |

All servers listen on 127.0.0.1 and keep their data under /tmp, and the
clients run on the same machine, so clients and server share the CPUs.
Timings on a virtual machine's disk vary from run to run, most of all the
fsync-bound ones (SQLite commits, audit records).

## 1. X.509-SVID signing in process

\`bench/bench_sign\` opens an authority (EC P-256 CA) on a fresh SQLite store in
a temporary data directory, pre-generates 1000 subject public keys and
calls the signing code in a loop for $SIGN_SECONDS s per phase, one thread.
The peer number is \`openssl speed -seconds $SIGN_SECONDS ecdsap256\` in the same run:
bare ECDSA P-256 signatures over a digest, no certificate.

| phase | what it runs | per second | µs per op | ÷ openssl sign/s |
| --- | --- | ---: | ---: | ---: |
| openssl speed | ECDSA P-256 sign | $OPENSSL_SIGN_RATE | | 1 |
| sign-default | \`authority_sign_x509\`, the server's call: issue + INSERT of the serial, SQLite synchronous=$DEFAULT_SYNCHRONOUS as \`store_open\` leaves it | $SIGN_DEFAULT_RATE | $SIGN_DEFAULT_US | $(ratio "$SIGN_DEFAULT_RATE" "$OPENSSL_SIGN_RATE") |
| sign-full | the same with \`PRAGMA synchronous = FULL\`, as \`store_open\` left it before | $SIGN_FULL_RATE | $SIGN_FULL_US | $(ratio "$SIGN_FULL_RATE" "$OPENSSL_SIGN_RATE") |
| issue | \`x509svid_issuer_issue_der\`: DER, PEM, serial and notAfter through the DER template, everything the full call returns, with the issuer the authority keeps per CA | $ISSUE_RATE | $ISSUE_US | $(ratio "$ISSUE_RATE" "$OPENSSL_SIGN_RATE") |
| issue-openssl | \`x509svid_issuer_issue\` (the OpenSSL X509 API path, used before the template) + serial + PEM read back from the \`X509\` | $ISSUE_OPENSSL_RATE | $ISSUE_OPENSSL_US | $(ratio "$ISSUE_OPENSSL_RATE" "$OPENSSL_SIGN_RATE") |
| decode | \`d2i_X509\` of one issued SVID: what \`authority_x509_svid_cert\` costs a caller that asks for an \`X509\` | | $DECODE_US | |
| insert-default | the serial INSERT alone (same columns and indexes), one commit per row, synchronous=$DEFAULT_SYNCHRONOUS | $INSERT_DEFAULT_RATE | $INSERT_DEFAULT_US | |
| insert-full | the same with synchronous=FULL | $INSERT_FULL_RATE | $INSERT_FULL_US | |
| pubkey-set | \`X509_new\` + \`X509_set_pubkey\` with the provider key from a CSR + \`X509_free\` | | $PUBKEY_SET_US | |
| pubkey-direct | \`X509_new\` + \`X509_PUBKEY_set0_param\` from the key's curve and point + \`X509_free\` | | $PUBKEY_DIRECT_US | |

SQLite's synchronous levels are 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.

**Target 0.8 × openssl's sign/s: $ISSUE_VERDICT for issuance alone
($(ratio "$ISSUE_RATE" "$OPENSSL_SIGN_RATE")), $TARGET_VERDICT for the full call
($(ratio "$SIGN_DEFAULT_RATE" "$OPENSSL_SIGN_RATE")).** The target allows $TARGET_US µs per call. The full call
takes $SIGN_DEFAULT_US µs: $ISSUE_US µs of certificate work (issue) and
$DATASTORE_US µs for the datastore (sign-default minus issue).

What the signing path does now:

- **Per-CA issuer** (\`struct x509svid_issuer\`, one per CA slot, made at
  the first signing). It checks the CA key once and keeps the CA's
  notAfter. It pre-encodes the DER that all SVIDs of the CA share: the
  signature AlgorithmIdentifier (read from the CA key's signature
  provider), the issuer Name, the basicConstraints, keyUsage and
  extKeyUsage extensions and the authorityKeyIdentifier. It also keeps an
  \`EVP_PKEY_sign\` context with the CA key, and the fetched SHA-1 and
  signing digest.
- **DER template** (\`src/identity/x509svid_der.c\`) for EC P-256 and P-384
  subject keys. A bounded writer builds the TBSCertificate from those
  parts and the per-SVID values: the serial, the validity (UTCTime through
  2049, GeneralizedTime after), the subject O=warden with the optional CN,
  the SubjectPublicKeyInfo (curve prefix and uncompressed point), the
  subjectKeyIdentifier and the subjectAltName. The TBSCertificate is
  hashed, signed with \`EVP_PKEY_sign\` on the digest and wrapped into the
  Certificate. DER and PEM are the outputs. RSA subject keys, other curves
  and CA keys without \`EVP_PKEY_sign\` take the OpenSSL X509 API path
  (issue-openssl), and the result is encoded from it.
  \`tests/unit/identity/test_x509svid_der.c\` issues with both paths for
  the same serial and time and checks that the TBSCertificate and the
  signature algorithm are byte-identical (the whole certificate under an
  RSA CA, whose PKCS #1 v1.5 signature is deterministic).
- **No \`X509\` object by default.** \`authority_sign_x509\` returns DER,
  PEM, serial and notAfter; \`authority_x509_svid_cert\` decodes the
  \`X509\` only when a caller asks (decode: $DECODE_US µs, because
  \`d2i_X509\` in OpenSSL 3.0 decodes the subject key through an
  OSSL_DECODER). The server reads only the PEM, serial and notAfter.
- **The datastore** runs WAL with synchronous=NORMAL: no fsync per commit.
  A commit survives a crash of the process, but a power loss or an
  operating system crash can drop the transactions committed since the
  last checkpoint; the database stays consistent. Prepared statements are
  cached per connection (32, least recently used first out).

Where the rest of the time goes:

1. **The serial INSERT.** Every signing records its serial in its own
   transaction, and even without the fsync one commit costs
   $INSERT_DEFAULT_US µs here (insert-default), more than the whole target. Only
   batching the serial records of many signings into one transaction would
   cut it, and that changes when a serial is durable.
2. **Reading the subject's point.** The signature itself is the same
   \`EVP_PKEY_sign\` that \`openssl speed\` times. The largest other cost
   of issue is \`EVP_PKEY_get_octet_string_param(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)\`.
   It took 4 to 5 µs per call for a P-256 key decoded from DER (measured
   once with a separate test program, not by this script). OpenSSL 3.0's
   P-256 code converts the point to affine coordinates with a modular
   inversion on every read. One \`perf record --call-graph
   dwarf bench_sign --phase issue\` put about 16% of the issue phase
   there, and about 5% in \`RAND_bytes\` for the serial. Taking the
   point bits from the CSR's SubjectPublicKeyInfo, which the server has
   already decoded, would skip that read; the signing API takes only an
   \`EVP_PKEY\` today.

## 2. X.509-SVIDs through the HTTPS API

The script starts \`warden server --trust-domain $TRUST_DOMAIN --data-dir D
--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 --admin-socket S\`, takes the port from its
\`server started ... port=N\` line, creates a join token
(\`POST /v1/tokens\` on the admin socket), attests a node
(\`POST /v1/node/attest\`, bench/bench_admin.py) and creates one entry
parented to the node (\`POST /v1/entries\`). \`bench/bench_api\` then runs
$API_THREADS threads, each with its own keep-alive mTLS connection
(\`net_client\`, the node SVID as client certificate), looping
\`POST /v1/svid/x509 {"entry_id", "csr"}\` over 256 pre-generated CSRs for
$API_SECONDS s. Server CPU is utime + stime from /proc/PID/stat over the
measured window; 100% is one core, and the server runs one event-loop thread.

| run | SVIDs/s | p50 ms | p99 ms | requests | errors | server CPU s | server CPU % |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| as built | $(api rate) | $(api p50_ms) | $(api p99_ms) | $(api requests) | $(api errors) | $(api server_cpu_s) | $(api server_cpu_pct) |
| TCP_NODELAY forced on both sides (LD_PRELOAD bench_nodelay.so) | $(nodelay rate) | $(nodelay p50_ms) | $(nodelay p99_ms) | $(nodelay requests) | $(nodelay errors) | $(nodelay server_cpu_s) | $(nodelay server_cpu_pct) |

No peer number: SPIRE is not packaged in Debian and is not installed here,
so there is no spire-server to run side by side. The ceiling for this API
is the in-process rate of section 1 (sign-default, $SIGN_DEFAULT_RATE per second),
since every request also verifies the CSR's signature, runs the TLS record
layer and writes an audit record.

**$NAGLE_VERDICT** Before, neither side set TCP_NODELAY and both wrote a
message in two pieces, so Nagle's algorithm held the second piece until the
peer's delayed ACK (about 40 ms on Linux) of the first, once per direction:
83 SVIDs per second with a p50 of 96 ms in the previous run of this page.
Now the server sets TCP_NODELAY on its listening socket (Linux copies it to
accepted sockets) and again on each accepted connection, the client sets it
after \`connect\` and writes head and body with one \`SSL_write_ex\`, and the
server joins the response head and the start of the body into one evbuffer
chain, because libevent 2.1's OpenSSL bufferevent calls \`SSL_write\` once
per chain.

The server's work per SVID is then the CSR signature check, the signing of
section 1, and the fdatasync calls of the audit record and the audit
anchor's \`head.tmp\` before its rename, all on the one event-loop thread.

## 3. Server memory with many registration entries

A fresh server; RSS is read from /proc/PID/status (VmRSS now, VmHWM the
peak). Entries are created one \`POST /v1/entries\` at a time over one
keep-alive connection to the admin socket (bench/bench_admin.py, Python
http.client), each with its own SPIFFE ID, the node as parent and one
\`unix:uid\` selector. $ENTRY_NOTE

| point | entries | VmRSS MiB | VmHWM MiB |
| --- | ---: | ---: | ---: |
| right after start | 0 | $(mib "$RSS_START_KB") | $(mib "$HWM_START_KB") |
| after creating entries | $ENTRIES_CREATED | $(mib "$RSS_ENTRIES_KB") | $(mib "$HWM_ENTRIES_KB") |
| after one admin list of the node's entries (limit 1000, ${LIST_SECONDS} s) | $ENTRIES_CREATED | $(mib "$RSS_LIST_KB") | $(mib "$HWM_LIST_KB") |

Creation rate: $ENTRY_RATE entries per second ($ENTRIES_CREATED in $ENTRY_SECONDS s),
bounded by the same per-request fsyncs as section 2 (SQLite commit and
audit record). RSS grows little because the server keeps entries in SQLite
and reads them per request: it has no in-process entry cache, and SQLite's
page cache stays at its default size (\`cache_size\` is not set). The data directory held $(awk -v b="$DB_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB afterwards.

No peer number: we have no published SPIRE measurement of spire-server's
memory with 100,000 entries to compare against, and SPIRE is not installed
here.
EOF
if [[ -n $POLICY_SECTION ]]; then
	printf '\n%s\n' "$POLICY_SECTION" >>"$OUTPUT"
fi
if [[ -n $PROXY_SECTION ]]; then
	printf '\n%s\n' "$PROXY_SECTION" >>"$OUTPUT"
fi
if [[ -n $SECRETS_SECTION ]]; then
	printf '\n%s\n' "$SECRETS_SECTION" >>"$OUTPUT"
fi
if [[ -n $SUPPLY_SECTION ]]; then
	printf '\n%s\n' "$SUPPLY_SECTION" >>"$OUTPUT"
fi
if [[ -n $SCAN_SECTION ]]; then
	printf '\n%s\n' "$SCAN_SECTION" >>"$OUTPUT"
fi
progress "wrote $OUTPUT"
