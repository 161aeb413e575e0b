#!/usr/bin/env bash
# Benchmarks the Vault-compatible secrets service and writes the results
# into the section between the secrets-bench markers of docs/benchmarks.md,
# leaving the rest of the page alone. In one run:
#   kv-read, kv-write  KV version 2 requests through the secrets API
#                      (bench_secrets), with the server's CPU per request
#   creds              full dynamic PostgreSQL credential cycles through the
#                      API: GET database/creds/bench, then PUT
#                      sys/leases/revoke (bench_secrets)
#   baseline-T         the same cycle as raw SQL over libpq, T threads
#                      (bench_pg_baseline): the floor that creds is compared
#                      with
#   creds-1, baseline-1  the same two with one client, to show how each
#                      scales with clients
# Repetitions are interleaved: every mode once, then again. Around each run
# the script reads PostgreSQL's transaction and WAL fsync counters and the
# CPU time of its processes. After the measured runs, one client runs each
# kind of cycle with every statement's duration logged, for the report's
# per-statement tables. warden runs as
# `warden server --dev` (barrier unsealed in memory, data under the work
# directory) and PostgreSQL 15 as a throwaway cluster owned by the postgres
# user, on a Unix socket only, with the default fsync = on. Everything
# lives in a temporary directory that is removed at the end; the script
# stops only the processes it started, by pid. It runs as root, because
# PostgreSQL's server runs as the postgres user through runuser.
#
# usage: bench/secrets.sh BUILD_DIR
#
# Environment (defaults in brackets):
#   BENCH_SECRETS_SECONDS    [10] length of one measured run
#   BENCH_SECRETS_REPS       [3] repetitions of each mode; the report gives
#                            the median
#   BENCH_SECRETS_THREADS    [8] client threads, one connection each
#   BENCH_SECRETS_KEYS       [1000] KV keys read and written
#   BENCH_SECRETS_WAIT_LOAD  [empty] when set, wait (at most
#                            BENCH_SECRETS_WAIT_SECONDS [900]) until the
#                            1-minute load average is below this value
#                            before measuring
#   BENCH_SECRETS_KEEP_WORK  [empty] when set, keep the work directory
#   BENCH_OUTPUT             [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/secrets.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
WARDEN=$BUILD_DIR/warden
BENCH_SECRETS=$BUILD_DIR/bench/bench_secrets
BENCH_PG=$BUILD_DIR/bench/bench_pg_baseline
REPORT=$REPO/bench/secrets/report.py
PYTHON=/usr/bin/python3
PG_BIN=/usr/lib/postgresql/15/bin
PG_USER=postgres

RUN_SECONDS=${BENCH_SECRETS_SECONDS:-10}
REPS=${BENCH_SECRETS_REPS:-3}
THREADS=${BENCH_SECRETS_THREADS:-8}
KEYS=${BENCH_SECRETS_KEYS:-1000}
WAIT_LOAD=${BENCH_SECRETS_WAIT_LOAD:-}
WAIT_SECONDS=${BENCH_SECRETS_WAIT_SECONDS:-900}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}

# The database role's statements, as the benchmark's task sets them.
CREATION_STATEMENT="CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON bench_table TO \"{{name}}\";"
CLOCK_TICKS=$(getconf CLK_TCK)
# Seconds of each client's run with statement logging on.
TRACE_SECONDS=3

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/secrets.sh: error: %s\n' "$*" >&2; exit 1; }

for number in "$RUN_SECONDS" "$REPS" "$THREADS" "$KEYS" "$WAIT_SECONDS"; do
	[[ $number =~ ^[0-9]+$ ]] || fail "'$number' is not a whole number; check the BENCH_SECRETS_* variables"
done
((RUN_SECONDS >= 1 && REPS >= 1 && THREADS >= 1 && KEYS >= 1)) ||
	fail "BENCH_SECRETS_SECONDS, _REPS, _THREADS and _KEYS must be at least 1"
[[ -z $WAIT_LOAD || $WAIT_LOAD =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	fail "BENCH_SECRETS_WAIT_LOAD '$WAIT_LOAD' is not a number"
for binary in "$WARDEN" "$BENCH_SECRETS" "$BENCH_PG"; do
	[[ -x $binary ]] || fail "$binary not found: build it with 'ninja -C $BUILD_DIR'"
done
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/psql" /usr/sbin/runuser; do
	[[ -x $tool ]] || fail "$tool not found: run 'scripts/install-deps.sh bench'"
done
for tool in curl "$PYTHON"; do
	command -v "$tool" >/dev/null || fail "$tool is required: run 'scripts/install-deps.sh bench'"
done
getent passwd "$PG_USER" >/dev/null || fail "no $PG_USER user to run PostgreSQL as"
((EUID == 0)) || fail "PostgreSQL runs as the $PG_USER user through runuser, which needs root"

WORK=$(mktemp -d /tmp/warden-bench-secrets-XXXXXX)
PG_DIR=$WORK/pg
PG_DATA=$PG_DIR/data
WARDEN_DIR=$WORK/warden
RAW_DIR=$WORK/raw
mkdir -p "$PG_DIR" "$WARDEN_DIR" "$RAW_DIR"
# The postgres user needs to reach its directory under the work directory.
chmod 755 "$WORK"
chown "$PG_USER:" "$PG_DIR"
chmod 700 "$PG_DIR"

PG_PID=
WARDEN_PID=

# Stops process $1 with signal $2, then SIGKILL after 30 s.
stop_pid() {
	local pid=$1 signal=$2 i
	kill -"$signal" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	progress "process $pid ignored SIG$signal for 30 s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

stop_warden() {
	[[ -n $WARDEN_PID ]] || return 0
	stop_pid "$WARDEN_PID" TERM
	wait "$WARDEN_PID" 2>/dev/null || true
	WARDEN_PID=
}

# The postmaster is not our child (pg_ctl started it), so it is stopped by
# its pid from postmaster.pid; SIGINT is PostgreSQL's fast shutdown.
stop_postgres() {
	[[ -n $PG_PID ]] || return 0
	stop_pid "$PG_PID" INT
	PG_PID=
}

cleanup() {
	stop_warden
	stop_postgres
	if [[ -n ${BENCH_SECRETS_KEEP_WORK:-} ]]; then
		progress "kept the work directory $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

as_postgres() { /usr/sbin/runuser -u "$PG_USER" -- "$@"; }

BOOTSTRAP_PASSWORD=$(random_hex)
ADMIN_PASSWORD=$(random_hex)
ROOT_TOKEN=$(random_hex)

# psql as the bootstrap superuser; $1 is the database, the rest psql's
# arguments.
pg_psql() {
	local database=$1
	shift
	PGPASSWORD=$BOOTSTRAP_PASSWORD "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$PG_DIR" -U postgres -d "$database" "$@"
}

start_postgres() {
	local password_file=$PG_DIR/pwfile
	printf '%s\n' "$BOOTSTRAP_PASSWORD" >"$password_file"
	chown "$PG_USER:" "$password_file"
	chmod 600 "$password_file"
	as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile "$password_file" \
		--auth-local=scram-sha-256 --auth-host=reject --encoding=UTF8 --locale=C.UTF-8 \
		>"$WORK/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
	rm -f "$password_file"
	# fsync, synchronous_commit and wal_sync_method keep their defaults (on,
	# on, fdatasync): every commit waits for its WAL to reach the disk.
	cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_DIR'
max_connections = 50
EOF
	as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 start \
		>"$WORK/pg_ctl.log" 2>&1 || fail "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/postgres.log")"
	PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
	progress "PostgreSQL started: pid $PG_PID, socket in $PG_DIR"

	pg_psql postgres -c "CREATE ROLE warden WITH SUPERUSER LOGIN PASSWORD '$ADMIN_PASSWORD'" \
		-c "CREATE DATABASE bench OWNER warden"
	PGPASSWORD=$ADMIN_PASSWORD "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U warden \
		-d bench -c "CREATE TABLE bench_table (id int)"
}

start_warden() {
	local i
	printf 'identity:\n  dns_names: [localhost]\n' >"$WARDEN_DIR/server.yaml"
	"$WARDEN" server --trust-domain bench.example --data-dir "$WARDEN_DIR/data" \
		--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
		--admin-socket "$WARDEN_DIR/admin.sock" --config "$WARDEN_DIR/server.yaml" \
		--dev --dev-root-token "$ROOT_TOKEN" >"$WARDEN_DIR/server.log" 2>&1 &
	WARDEN_PID=$!
	for ((i = 0; i < 200; i++)); do
		kill -0 "$WARDEN_PID" 2>/dev/null || fail "warden server exited at start: $(tail -n 5 "$WARDEN_DIR/server.log")"
		SECRETS_PORT=$(grep -o 'server started .*secrets_port=[0-9]*' "$WARDEN_DIR/server.log" |
			grep -o 'secrets_port=[0-9]*' | head -n 1 | cut -d= -f2 || true)
		if [[ -n $SECRETS_PORT && -S $WARDEN_DIR/admin.sock ]]; then
			curl -sS --fail --unix-socket "$WARDEN_DIR/admin.sock" 'http://x/v1/bundle?format=pem' \
				>"$WARDEN_DIR/bundle.pem"
			progress "warden server started: pid $WARDEN_PID, secrets port $SECRETS_PORT"
			return 0
		fi
		sleep 0.1
	done
	fail "warden server did not log 'server started' within 20 s; see $WARDEN_DIR/server.log"
}

# vault METHOD PATH [BODY_FILE]: one request to the secrets API; prints the
# body and fails on a status outside 2xx.
vault() {
	local method=$1 path=$2 body=${3:-} options=()
	[[ -n $body ]] && options=(-H 'Content-Type: application/json' --data-binary "@$body")
	curl -sS --fail-with-body --cacert "$WARDEN_DIR/bundle.pem" -X "$method" \
		-H "X-Vault-Token: $ROOT_TOKEN" "${options[@]}" "https://localhost:$SECRETS_PORT$path"
}

# Writes the request bodies of the setup with mode 0600, because the config
# contains the database password (taken from the environment, not the
# command line).
write_setup_bodies() {
	(umask 077 && PG_DIR=$PG_DIR ADMIN_PASSWORD=$ADMIN_PASSWORD STATEMENT=$CREATION_STATEMENT \
		"$PYTHON" - "$WORK" <<'EOF'
import json, os, sys
env = os.environ
bodies = {
    "mount.json": {"type": "database"},
    "config.json": {
        "plugin_name": "postgresql-database-plugin",
        "connection_url": "postgresql://{{username}}:{{password}}@/bench?host=" + env["PG_DIR"],
        "username": "warden",
        "password": env["ADMIN_PASSWORD"],
        "allowed_roles": ["bench"],
    },
    "role.json": {
        "db_name": "bench",
        "creation_statements": [env["STATEMENT"]],
        "default_ttl": "1h",
        "max_ttl": "24h",
    },
}
for name, body in bodies.items():
    with open(os.path.join(sys.argv[1], name), "w") as f:
        json.dump(body, f)
EOF
	)
}

configure_engine() {
	write_setup_bodies
	vault POST /v1/sys/mounts/database "$WORK/mount.json" >/dev/null
	vault POST /v1/database/config/bench "$WORK/config.json" >/dev/null
	rm -f "$WORK/config.json"
	vault POST /v1/database/roles/bench "$WORK/role.json" >/dev/null

	# One cycle by hand, so that a broken setup fails here with its message.
	vault GET /v1/database/creds/bench >"$WORK/creds.json"
	"$PYTHON" -c 'import json, sys; print(json.dumps({"lease_id": json.load(open(sys.argv[1]))["lease_id"]}))' \
		"$WORK/creds.json" >"$WORK/revoke.json"
	vault PUT /v1/sys/leases/revoke "$WORK/revoke.json" >/dev/null
	rm -f "$WORK/creds.json"
}

# Ends warden's PostgreSQL session (application_name warden) and waits until
# it and any bench_pg_baseline session are gone. A session that ends sends
# its statistics to pg_stat_database at once, while an idle one waits up to
# 10 s. warden opens a new session at its next request.
end_warden_session() {
	local i
	pg_psql postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'warden'" >/dev/null
	for ((i = 0; i < 100; i++)); do
		[[ $(pg_psql postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('warden', 'bench_pg_baseline')") == 0 ]] && return 0
		sleep 0.1
	done
	fail "PostgreSQL sessions of warden or bench_pg_baseline still open after 10 s"
}

# Prints "transactions wal_syncs": commits and rollbacks in the bench
# database, and WAL fsyncs of the whole cluster (pg_stat_wal, PostgreSQL 14
# and later).
pg_counters() {
	pg_psql postgres -F ' ' -c "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'bench'), (SELECT wal_sync FROM pg_stat_wal)"
}

# CPU ticks of the PostgreSQL cluster: the postmaster and its live children
# (utime + stime), plus the postmaster's cutime + cstime, which hold the
# time of children that exited and were reaped.
pg_ticks() {
	local total=0 pid ticks
	for pid in "$PG_PID" $(ps -o pid= --ppid "$PG_PID"); do
		# Fields 14-17 of /proc/PID/stat; the name in field 2 may contain
		# spaces, so the count starts after its closing bracket.
		ticks=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
			awk -v self="$([[ $pid == "$PG_PID" ]] && echo 1 || echo 0)" \
				'{ t = $12 + $13; if (self) t += $14 + $15; print t }') || ticks=0
		total=$((total + ${ticks:-0}))
	done
	echo "$total"
}

load_average() { cut -d' ' -f1 /proc/loadavg; }

# run_secrets MODE THREADS SECONDS: bench_secrets against the server.
run_secrets() {
	VAULT_TOKEN=$ROOT_TOKEN "$BENCH_SECRETS" --mode "$1" --port "$SECRETS_PORT" \
		--bundle "$WARDEN_DIR/bundle.pem" --threads "$2" --seconds "$3" --keys "$KEYS" \
		--server-pid "$WARDEN_PID"
}

# run_baseline THREADS SECONDS: bench_pg_baseline as the same database user.
run_baseline() {
	PGPASSWORD=$ADMIN_PASSWORD "$BENCH_PG" --conninfo "host=$PG_DIR dbname=bench user=warden" \
		--threads "$1" --seconds "$2"
}

# Logs the server-side duration of every statement in the bench database
# (log_min_duration_statement = 0 for its new sessions) while one client
# runs credential cycles for a few seconds, through warden and then as the
# baseline, and keeps each stretch of the log in $RAW_DIR for the report's
# per-statement table. Logging costs time too, which is why the measured
# runs are done without it.
trace_statements() {
	local log=$PG_DIR/postgres.log start
	pg_psql postgres -c "ALTER DATABASE bench SET log_min_duration_statement = 0"
	# warden's next request opens a session that reads the new setting.
	end_warden_session
	start=$(stat -c %s "$log")
	run_secrets creds 1 "$TRACE_SECONDS" >"$RAW_DIR/trace-creds.txt" 2>&1 ||
		fail "bench_secrets failed while tracing: $(head -n 5 "$RAW_DIR/trace-creds.txt")"
	end_warden_session
	tail -c +$((start + 1)) "$log" >"$RAW_DIR/statements-creds.log"
	start=$(stat -c %s "$log")
	run_baseline 1 "$TRACE_SECONDS" >"$RAW_DIR/trace-baseline.txt" 2>&1 ||
		fail "bench_pg_baseline failed while tracing: $(head -n 5 "$RAW_DIR/trace-baseline.txt")"
	end_warden_session
	tail -c +$((start + 1)) "$log" >"$RAW_DIR/statements-baseline.log"
	pg_psql postgres -c "ALTER DATABASE bench RESET log_min_duration_statement"
}

# measure REP NAME: one measured run; appends a line of key=value pairs to
# results.txt.
measure() {
	local rep=$1 name=$2 output load counters_before counters_after ticks_before ticks_after
	load=$(load_average)
	counters_before=$(pg_counters)
	ticks_before=$(pg_ticks)
	case $name in
	kv-read | kv-write | creds | creds-1)
		output=$(run_secrets "${name%-1}" "$([[ $name == *-1 ]] && echo 1 || echo "$THREADS")" \
			"$RUN_SECONDS" 2>"$RAW_DIR/$name-$rep.err") ||
			fail "bench_secrets --mode ${name%-1} failed: $output $(head -n 5 "$RAW_DIR/$name-$rep.err")"
		;;
	baseline-*)
		output=$(run_baseline "${name#baseline-}" "$RUN_SECONDS" 2>"$RAW_DIR/$name-$rep.err") ||
			fail "bench_pg_baseline failed: $output $(head -n 5 "$RAW_DIR/$name-$rep.err")"
		;;
	esac
	[[ $name == creds* || $name == baseline-* ]] && end_warden_session
	# The WAL writer reports its fsyncs every few hundred milliseconds.
	sleep 0.5
	counters_after=$(pg_counters)
	ticks_after=$(pg_ticks)
	read -r xact_before sync_before <<<"$counters_before"
	read -r xact_after sync_after <<<"$counters_after"
	printf 'rep=%s name=%s load=%s pg_xacts=%s pg_wal_syncs=%s pg_cpu_ticks=%s %s\n' "$rep" "$name" "$load" \
		$((xact_after - xact_before)) $((sync_after - sync_before)) $((ticks_after - ticks_before)) \
		"$output" >>"$WORK/results.txt"
	progress "  $name: $output"
}

# Measures fdatasync on the work directory's file system, the cost behind
# every PostgreSQL commit: 8 KiB rewritten and synced for 2 s.
measure_fdatasync() {
	"$PYTHON" - "$WORK/fdatasync.test" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
block = b"\0" * 8192
count = 0
end = time.monotonic() + 2
while time.monotonic() < end:
    os.pwrite(fd, block, 0)
    os.fdatasync(fd)
    count += 1
os.close(fd)
os.unlink(sys.argv[1])
print(f"{count / 2:.0f}")
EOF
}

wait_for_low_load() {
	local waited=0
	[[ -n $WAIT_LOAD ]] || return 0
	while awk -v load="$(load_average)" -v limit="$WAIT_LOAD" 'BEGIN { exit !(load >= limit) }'; do
		if ((waited >= WAIT_SECONDS)); then
			progress "load average still $(load_average) after $WAIT_SECONDS s; measuring anyway"
			return 0
		fi
		progress "load average $(load_average) is not below $WAIT_LOAD; waiting"
		sleep 10
		waited=$((waited + 10))
	done
}

# Counts what a run left behind: database users of either client and leases
# of the bench role. Both should be 0, since every cycle revokes what it made.
leftovers() {
	local roles leases
	roles=$(pg_psql postgres -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'v-%' OR rolname LIKE 'bench-%'")
	leases=$(curl -sS --cacert "$WARDEN_DIR/bundle.pem" -X LIST -H "X-Vault-Token: $ROOT_TOKEN" \
		"https://localhost:$SECRETS_PORT/v1/sys/leases/lookup/database/creds/bench/" |
		"$PYTHON" -c 'import json, sys; print(len((json.load(sys.stdin).get("data") or {}).get("keys") or []))')
	printf 'leftover_roles\t%s\nleftover_leases\t%s\n' "$roles" "$leases" >>"$WORK/machine.tsv"
}

write_machine_facts() {
	{
		printf 'nproc\t%s\n' "$(nproc)"
		printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		printf 'memory\t%s\n' "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		printf 'kernel\t%s\n' "$(uname -r)"
		printf 'openssl\t%s\n' "$(openssl version 2>/dev/null || echo unknown)"
		printf 'postgresql\t%s\n' "$("$PG_BIN/postgres" --version | awk '{ print $3 }')"
		printf 'filesystem\t%s\n' "$(df --output=fstype "$WORK" | tail -n 1)"
		printf 'build_type\t%s\n' "$(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null |
			"$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
			2>/dev/null || echo unknown)"
		printf 'loadavg_start\t%s\n' "$(load_average)"
	} >"$WORK/machine.tsv"
}

COMMAND="bench/secrets.sh $BUILD_DIR"
overrides=$(env | grep -E '^BENCH_(SECRETS_[A-Z_]+|OUTPUT)=' | grep -v '^BENCH_SECRETS_KEEP_WORK=' | sort | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"
MODES="kv-read kv-write creds baseline-$THREADS"
((THREADS != 1)) && MODES="$MODES creds-1 baseline-1"

wait_for_low_load
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
write_machine_facts
progress "fdatasync rate of $(df --output=target "$WORK" | tail -n 1)"
printf 'fdatasync_per_s\t%s\n' "$(measure_fdatasync)" >>"$WORK/machine.tsv"
start_postgres
start_warden
configure_engine
end_warden_session
: >"$WORK/results.txt"

progress "modes: $MODES; $REPS reps of $RUN_SECONDS s with $THREADS threads"
for ((rep = 1; rep <= REPS; rep++)); do
	progress "rep $rep/$REPS"
	for name in $MODES; do
		measure "$rep" "$name"
		sleep 1
	done
done
printf 'loadavg_end\t%s\n' "$(load_average)" >>"$WORK/machine.tsv"
progress "statement timings: one client for $TRACE_SECONDS s through warden, then as the baseline"
trace_statements
leftovers

REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	REVISION="$REVISION with uncommitted changes"
fi
"$PYTHON" "$REPORT" --work "$WORK" --output "$OUTPUT" --command "$COMMAND" \
	--started "$STARTED" --revision "$REVISION" --threads "$THREADS" --seconds "$RUN_SECONDS" \
	--reps "$REPS" --keys "$KEYS" --clock-ticks "$CLOCK_TICKS" --statement "$CREATION_STATEMENT"
progress "results written to $OUTPUT"
