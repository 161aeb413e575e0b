#!/usr/bin/env bash
# Benchmarks warden servers on one PostgreSQL datastore and writes the
# results into the section between the scale-bench markers of
# docs/benchmarks.md, leaving the rest of the page alone:
#   1. X.509-SVID issuance (POST /v1/svid/x509 with a node SVID, the
#      bench_api driver) with one server, then with three servers on the
#      same database, the client threads split evenly between them, with
#      each server's and PostgreSQL's CPU seconds,
#   2. the statements PostgreSQL runs (pg_stat_statements) while many
#      simulated agents sync GET /v1/node/entries (the bench_scale driver):
#      with nothing changing, with 1% of the entries changing per minute,
#      and with every sync re-reading all entries.
# PostgreSQL 15 runs as a throwaway cluster owned by the postgres user in a
# temporary directory, on a Unix socket only (tests/integration/pglib.py),
# so the script runs as root. bench/scale/run.py starts and stops every
# process, by pid; bench/scale/report.py writes the section.
#
# usage: bench/scale.sh BUILD_DIR
#
# Environment (defaults in brackets; SMALL=1 gives a run of about a minute):
#   BENCH_SCALE_API_THREADS    [6] issuance client threads in all
#   BENCH_SCALE_API_SECONDS    [10] length of each issuance run
#   BENCH_SCALE_API_REPS       [3] issuance runs with one server and with
#                              three, alternating; the report takes the median
#   BENCH_SCALE_AGENTS         [10000] simulated agents
#   BENCH_SCALE_PERIOD         [20] seconds between two syncs of one agent;
#                              the agent's default is 5 s, which 2 cores
#                              cannot serve for 10,000 agents
#   BENCH_SCALE_NODES          [1000] real attested nodes the agents share
#   BENCH_SCALE_ENTRIES        [3] entries per real node
#   BENCH_SCALE_SYNC_SECONDS   [40] length of each sync window
#   BENCH_OUTPUT               [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/scale.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=/usr/bin/python3
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}

if [[ -n ${SMALL:-} ]]; then
	: "${BENCH_SCALE_API_SECONDS:=3}" "${BENCH_SCALE_API_REPS:=1}" "${BENCH_SCALE_AGENTS:=500}" "${BENCH_SCALE_PERIOD:=5}"
	: "${BENCH_SCALE_NODES:=50}" "${BENCH_SCALE_SYNC_SECONDS:=10}"
fi
API_THREADS=${BENCH_SCALE_API_THREADS:-6}
API_SECONDS=${BENCH_SCALE_API_SECONDS:-10}
API_REPS=${BENCH_SCALE_API_REPS:-3}
AGENTS=${BENCH_SCALE_AGENTS:-10000}
PERIOD=${BENCH_SCALE_PERIOD:-20}
NODES=${BENCH_SCALE_NODES:-1000}
ENTRIES=${BENCH_SCALE_ENTRIES:-3}
SYNC_SECONDS=${BENCH_SCALE_SYNC_SECONDS:-40}

progress() { printf '[bench-scale %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/scale.sh: error: %s\n' "$*" >&2; exit 1; }

for binary in "$BUILD_DIR/warden" "$BUILD_DIR/bench/bench_api" "$BUILD_DIR/bench/bench_scale"; do
	[[ -x $binary ]] || fail "$binary not found or not executable: build it with" \
		"'ninja -C $BUILD_DIR warden bench/bench_api bench/bench_scale'"
done
if [[ $(id -u) -ne 0 ]]; then
	echo "SKIP: bench/scale.sh runs as root: PostgreSQL runs as the postgres user through runuser"
	exit 0
fi
if [[ ! -x /usr/lib/postgresql/15/bin/initdb ]]; then
	echo "SKIP: PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/initdb)"
	exit 0
fi
# One connection per real node, plus the servers' own files.
if (($(ulimit -n) < NODES + 1024)); then
	ulimit -n $((NODES + 1024)) 2>/dev/null ||
		fail "open files limit $(ulimit -n) is below BENCH_SCALE_NODES + 1024; raise it"
fi

COMMAND="bench/scale.sh $BUILD_DIR"
overrides=$(env | grep -E '^(SMALL|BENCH_SCALE_[A-Z_]+|BENCH_OUTPUT)=' | sort | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"

WORK=$(mktemp -d /tmp/warden-bench-scale-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
progress "load average at start: $LOAD_AT_START"

set +e
"$PYTHON" "$REPO/bench/scale/run.py" --build-dir "$BUILD_DIR" --output "$WORK/results.json" \
	--api-threads "$API_THREADS" --api-seconds "$API_SECONDS" --api-reps "$API_REPS" --agents "$AGENTS" \
	--period "$PERIOD" --nodes "$NODES" --entries-per-node "$ENTRIES" \
	--sync-seconds "$SYNC_SECONDS"
status=$?
set -e
if ((status == 77)); then
	exit 0
fi
((status == 0)) || fail "bench/scale/run.py exited $status"

REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	REVISION="$REVISION with uncommitted changes"
fi
"$PYTHON" "$REPO/bench/scale/report.py" --results "$WORK/results.json" --output "$OUTPUT" \
	--command "$COMMAND" --started "$STARTED" --revision "$REVISION" \
	--load-start "$LOAD_AT_START" --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--build-dir "$BUILD_DIR"
progress "results written to $OUTPUT"
