#!/usr/bin/env bash
# Benchmarks the overhead of the eBPF runtime sensor and writes the results
# into the section between the sensor-bench markers of docs/benchmarks.md,
# leaving the rest of the page alone. One run measures two workloads of
# bench_sensor, each under four configurations, with the repetitions
# interleaved (none, warden, floor, bpftrace, none, ...):
#   none      the workload alone
#   warden    `warden sensor run` with a Falco rule file, alerts appended to
#             a file in the work directory
#   floor     bench/sensor/floor.bt: bpftrace with an empty program on each
#             tracepoint where the sensor gets these workloads' events, the
#             least that any tracer of them costs
#   bpftrace  bench/sensor/trace.bt on the same tracepoints, printing every
#             event to a file in the work directory
# The workloads are fork + exec of /bin/true with a wait for each, and open +
# close of one file. For each traced run the script records the tracer's
# CPU time (utime + stime from /proc/PID/stat, from attach to stop), its
# peak RSS (VmHWM) and its lost events: the sensor's ring buffer drops, or
# bpftrace's "Lost N events" lines.
#
# Then it searches for the highest open + close rate that `warden sensor run`
# follows with no ring buffer drop: bench_sensor --rate keeps each rate for a
# few seconds under a fresh sensor, doubling from the start rate until drops
# appear, then bisecting. Last, one run of each workload per tracer with
# kernel.bpf_stats_enabled=1 gives every BPF program's run count and mean
# time (run_cnt and run_time_ns from /proc/PID/fdinfo of the tracer's
# program descriptors); the setting goes back to its old value afterwards.
#
# It needs root (BPF), a build with the sensor and bpftrace; without one of
# them it prints the reason and exits 0 without touching the page. It stops
# only the processes it started, by pid.
#
# usage: bench/sensor.sh BUILD_DIR
#
# Environment (defaults in brackets):
#   BENCH_FALCO_RULES            [bench/sensor/rules.yaml] the Falco rule
#                                file that warden loads, e.g. Falco's
#                                falco_rules.yaml
#   BENCH_SENSOR_EXEC_COUNT      [20000] fork + exec runs a repetition
#   BENCH_SENSOR_OPEN_COUNT      [1000000] open + close runs a repetition
#   BENCH_SENSOR_REPS            [3] repetitions of each configuration; the
#                                report gives the median
#   BENCH_SENSOR_RATE_START      [25000] first open + close rate of the
#                                search, a second
#   BENCH_SENSOR_RATE_SECONDS    [5] seconds each rate is held
#   BENCH_SENSOR_RATE_BISECTIONS [3] halvings of the interval between the
#                                highest rate without drops and the lowest
#                                with drops
#   BENCH_SENSOR_PROFILE_DIVISOR [4] the profiling runs use the counts
#                                divided by this
#   BENCH_SENSOR_WAIT_LOAD       [empty] when set, wait (at most
#                                BENCH_SENSOR_WAIT_SECONDS [900]) until the
#                                1-minute load average is below this value
#                                before measuring
#   BENCH_SENSOR_KEEP_WORK       [empty] when set, keep the work directory
#   BENCH_OUTPUT                 [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/sensor.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
WARDEN=$BUILD_DIR/warden
DRIVER=$BUILD_DIR/bench/bench_sensor
TRACE_SCRIPT=$REPO/bench/sensor/trace.bt
FLOOR_SCRIPT=$REPO/bench/sensor/floor.bt
REPORT=$REPO/bench/sensor/report.py
PYTHON=/usr/bin/python3

RULES=${BENCH_FALCO_RULES:-$REPO/bench/sensor/rules.yaml}
EXEC_COUNT=${BENCH_SENSOR_EXEC_COUNT:-20000}
OPEN_COUNT=${BENCH_SENSOR_OPEN_COUNT:-1000000}
REPS=${BENCH_SENSOR_REPS:-3}
RATE_START=${BENCH_SENSOR_RATE_START:-25000}
RATE_SECONDS=${BENCH_SENSOR_RATE_SECONDS:-5}
BISECTIONS=${BENCH_SENSOR_RATE_BISECTIONS:-3}
PROFILE_DIVISOR=${BENCH_SENSOR_PROFILE_DIVISOR:-4}
WAIT_LOAD=${BENCH_SENSOR_WAIT_LOAD:-}
WAIT_SECONDS=${BENCH_SENSOR_WAIT_SECONDS:-900}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}
# bpftrace keeps 64 bytes of a string by default; 200 is the maximum that
# bpftrace 0.17 accepts (its strings live on the 512-byte BPF stack), close
# to the sensor's 256-byte paths.
BPFTRACE_STRLEN=200
CLOCK_TICKS=$(getconf CLK_TCK)
# A paced run that reaches less than this share of its target rate means
# the machine cannot go faster; the search stops there.
RATE_REACHED=0.95

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/sensor.sh: error: %s\n' "$*" >&2; exit 1; }
skip() { printf 'bench/sensor.sh: skipped: %s\n' "$*" >&2; exit 0; }

for number in "$EXEC_COUNT" "$OPEN_COUNT" "$REPS" "$RATE_START" "$RATE_SECONDS" \
	"$PROFILE_DIVISOR" "$WAIT_SECONDS"; do
	[[ $number =~ ^[1-9][0-9]*$ ]] || fail "'$number' is not a positive whole number; check the BENCH_SENSOR_* variables"
done
[[ $BISECTIONS =~ ^[0-9]+$ ]] || fail "BENCH_SENSOR_RATE_BISECTIONS '$BISECTIONS' is not a whole number"
[[ -z $WAIT_LOAD || $WAIT_LOAD =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	fail "BENCH_SENSOR_WAIT_LOAD '$WAIT_LOAD' is not a number"
for binary in "$WARDEN" "$DRIVER"; do
	[[ -x $binary ]] || fail "$binary not found: build it with 'ninja -C $BUILD_DIR'"
done
[[ -r $RULES ]] || fail "the rule file '$RULES' cannot be read; check BENCH_FALCO_RULES"
command -v "$PYTHON" >/dev/null || fail "$PYTHON is required: run 'scripts/install-deps.sh bench'"

((EUID == 0)) || skip "loading BPF programs needs root"
# The stub that a build without the sensor links in has no skeleton.
[[ -f $BUILD_DIR/src/sensor/sensor.skel.h ]] ||
	skip "$BUILD_DIR was built without the eBPF sensor (meson setup -Dsensor=enabled)"
BPFTRACE=$(command -v bpftrace || true)
[[ -n $BPFTRACE ]] || skip "bpftrace is not installed: run 'scripts/install-deps.sh bench'"

WORK=$(mktemp -d /tmp/warden-bench-sensor-XXXXXX)
RAW_DIR=$WORK/raw
mkdir -p "$RAW_DIR"
OPEN_PATH=$WORK/opened
: >"$OPEN_PATH"
# The same file by a path with "//", which the sensor's path filter always
# lets through to user space (which normalizes it): the rate search needs
# opens that become events, not opens the kernel drops.
EVENT_PATH=${WORK%/*}//${WORK##*/}/opened
TRACER_PID=
STATS_BEFORE=

# Stops process $1 with SIGINT, then SIGKILL after 30 s.
stop_pid() {
	local pid=$1 i
	kill -INT "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	progress "process $pid ignored SIGINT for 30 s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

stop_tracer() {
	[[ -n $TRACER_PID ]] || return 0
	stop_pid "$TRACER_PID"
	wait "$TRACER_PID" 2>/dev/null || true
	TRACER_PID=
}

cleanup() {
	stop_tracer
	if [[ -n $STATS_BEFORE ]]; then
		sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE" >/dev/null || true
	fi
	if [[ -n ${BENCH_SENSOR_KEEP_WORK:-} ]]; then
		progress "kept the work directory $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_average() { cut -d' ' -f1 /proc/loadavg; }

# CPU ticks (utime + stime) of pid $1; the name in field 2 may contain
# spaces, so the count starts after its closing bracket.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# start_warden NAME: starts the sensor with its alerts and stderr in
# RAW_DIR and waits until it has attached.
start_warden() {
	local name=$1 i
	"$WARDEN" sensor run --rules "$RULES" --output "$RAW_DIR/$name.alerts" \
		2>"$RAW_DIR/$name.err" &
	TRACER_PID=$!
	for ((i = 0; i < 600; i++)); do
		grep -qs '^warden sensor: attached$' "$RAW_DIR/$name.err" && return 0
		kill -0 "$TRACER_PID" 2>/dev/null ||
			fail "warden sensor run exited at start: $(tail -n 3 "$RAW_DIR/$name.err")"
		sleep 0.1
	done
	fail "warden sensor run did not attach within 60 s; see $RAW_DIR/$name.err"
}

# start_bpftrace NAME: starts bpftrace and waits until its openat probes
# report a marker file being opened. bpftrace attaches its probes in the
# order of the script, so the exec, fork and exit probes are attached by
# then. The connect probe follows within the extra second.
start_bpftrace() {
	local name=$1 marker=$WORK/bpftrace-ready i
	BPFTRACE_STRLEN=$BPFTRACE_STRLEN "$BPFTRACE" -o "$RAW_DIR/$name.out" "$TRACE_SCRIPT" \
		>"$RAW_DIR/$name.stdout" 2>"$RAW_DIR/$name.err" &
	TRACER_PID=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER_PID" 2>/dev/null ||
			fail "bpftrace exited at start: $(tail -n 3 "$RAW_DIR/$name.err" "$RAW_DIR/$name.out" 2>/dev/null)"
		: >"$marker"
		"$DRIVER" --mode open --count 1 --path "$marker" >/dev/null
		if grep -q "bpftrace-ready" "$RAW_DIR/$name.out" 2>/dev/null; then
			sleep 1
			return 0
		fi
		sleep 0.1
	done
	fail "bpftrace did not trace within 60 s; see $RAW_DIR/$name.err"
}

# start_floor NAME: starts bpftrace with the empty programs and waits until
# bpftool lists all four of its tracepoint programs as attached (the empty
# programs print nothing to wait for).
start_floor() {
	local name=$1 i
	"$BPFTRACE" -o "$RAW_DIR/$name.out" "$FLOOR_SCRIPT" >"$RAW_DIR/$name.stdout" \
		2>"$RAW_DIR/$name.err" &
	TRACER_PID=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER_PID" 2>/dev/null ||
			fail "bpftrace exited at start: $(tail -n 3 "$RAW_DIR/$name.err" 2>/dev/null)"
		if (($(bpftool perf show | awk -v pid="$TRACER_PID" '$1 == "pid" && $2 == pid' |
			wc -l) >= 4)); then
			return 0
		fi
		sleep 0.1
	done
	fail "bpftrace did not attach the floor's programs within 60 s; see $RAW_DIR/$name.err"
}

# start_tracer CONFIG NAME
start_tracer() {
	case $1 in
	none) ;;
	warden) start_warden "$2" ;;
	floor) start_floor "$2" ;;
	bpftrace) start_bpftrace "$2" ;;
	esac
}

# Prints "events drops" of a stopped tracer: for warden the totals line it
# prints at exit (ring buffer drops), for bpftrace its output lines and the
# sum of its "Lost N events" lines.
tracer_counts() {
	local config=$1 name=$2 line
	case $config in
	warden)
		line=$(grep -E '^warden sensor: [0-9]+ events, dropped ' "$RAW_DIR/$name.err") ||
			fail "warden sensor run printed no totals line; see $RAW_DIR/$name.err"
		sed -E 's/^warden sensor: ([0-9]+) events, dropped ringbuf_full=([0-9]+) .*/\1 \2/' <<<"$line"
		;;
	bpftrace | floor)
		awk '/^Lost [0-9]+ events$/ { lost += $2; next } { lines++ }
			END { print lines + 0, lost + 0 }' "$RAW_DIR/$name.out"
		;;
	esac
}

# program_stats PID: one "tracepoint run_cnt run_time_ns" line for each BPF
# program that process PID has attached, from `bpftool perf show` (which
# names the tracepoint of each program id) and the fdinfo of the process's
# program descriptors (which hold the counters).
program_stats() {
	local pid=$1 info
	for info in /proc/"$pid"/fdinfo/*; do
		awk '/^prog_id:/ { id = $2 } /^run_cnt:/ { c = $2; seen = 1 } /^run_time_ns:/ { t = $2 }
			END { if (seen) print id, c, t }' "$info" 2>/dev/null || true
	done | LC_ALL=C sort -u >"$WORK/program-counters"
	bpftool perf show | awk -v pid="$pid" '$1 == "pid" && $2 == pid { print $6, $8 }' |
		LC_ALL=C sort -u >"$WORK/program-tracepoints"
	LC_ALL=C join "$WORK/program-tracepoints" "$WORK/program-counters" |
		awk '{ print $2, $3, $4 }' | LC_ALL=C sort
}

# workload_args WORKLOAD DIVISOR
workload_args() {
	case $1 in
	exec) echo "--mode exec --count $((EXEC_COUNT / $2 > 0 ? EXEC_COUNT / $2 : 1))" ;;
	open) echo "--mode open --count $((OPEN_COUNT / $2 > 0 ? OPEN_COUNT / $2 : 1)) --path $OPEN_PATH" ;;
	esac
}

# measure CONFIG WORKLOAD REP: one measured run; appends a line of key=value
# pairs to results.txt.
measure() {
	local config=$1 workload=$2 rep=$3 name=$1-$2-$3 load output ticks_before=0 ticks_after=0
	local peak=0 counts="0 0"
	start_tracer "$config" "$name"
	load=$(load_average)
	[[ -n $TRACER_PID ]] && ticks_before=$(cpu_ticks "$TRACER_PID")
	# shellcheck disable=SC2046
	output=$("$DRIVER" $(workload_args "$workload" 1) 2>"$RAW_DIR/$name.driver-err") ||
		fail "bench_sensor failed under $config: $(head -n 3 "$RAW_DIR/$name.driver-err")"
	if [[ -n $TRACER_PID ]]; then
		# Gives the tracer time to read what the ring buffer still holds.
		sleep 0.5
		ticks_after=$(cpu_ticks "$TRACER_PID")
		peak=$(peak_rss_kib "$TRACER_PID")
		stop_tracer
		counts=$(tracer_counts "$config" "$name")
		# bpftrace's event lines take tens of megabytes a run.
		if [[ $config == bpftrace && -z ${BENCH_SENSOR_KEEP_WORK:-} ]]; then
			rm -f "$RAW_DIR/$name.out"
		fi
	fi
	read -r events drops <<<"$counts"
	printf 'kind=run config=%s workload=%s rep=%s load=%s tracer_cpu_s=%s tracer_peak_kib=%s tracer_events=%s tracer_drops=%s %s\n' \
		"$config" "$workload" "$rep" "$load" \
		"$(awk -v t=$((ticks_after - ticks_before)) -v hz="$CLOCK_TICKS" 'BEGIN { printf "%.2f", t / hz }')" \
		"$peak" "$events" "$drops" "$output" >>"$WORK/results.txt"
	progress "  $config $workload: $output; tracer cpu $((ticks_after - ticks_before)) ticks, peak ${peak} KiB, events $events, drops $drops"
}

# rate_step RATE: runs open + close of EVENT_PATH at RATE a second under a
# fresh warden sensor. Appends a result line and sets STEP_REACHED (the
# rate reached) and STEP_DROPS (ring buffer drops).
rate_step() {
	local rate=$1 name=rate-$1 output counts events drops
	start_warden "$name"
	output=$("$DRIVER" --mode open --rate "$rate" --seconds "$RATE_SECONDS" --path "$EVENT_PATH" \
		2>"$RAW_DIR/$name.driver-err") ||
		fail "bench_sensor --rate $rate failed: $(head -n 3 "$RAW_DIR/$name.driver-err")"
	sleep 0.5
	stop_tracer
	counts=$(tracer_counts warden "$name")
	read -r events drops <<<"$counts"
	STEP_REACHED=$(sed -E 's/.* rate=([0-9.]+).*/\1/' <<<"$output")
	STEP_DROPS=$drops
	printf 'kind=rate target=%s load=%s tracer_events=%s tracer_drops=%s %s\n' "$rate" \
		"$(load_average)" "$events" "$drops" "$output" >>"$WORK/results.txt"
	progress "  rate $rate/s: reached $STEP_REACHED/s, sensor events $events, ring buffer drops $drops"
}

# Doubles the rate until drops appear or the machine falls short of the
# rate, then bisects between the highest clean rate and the lowest with
# drops.
search_rate() {
	local rate=$RATE_START good=0 bad=0 i
	while :; do
		rate_step "$rate"
		if ((STEP_DROPS > 0)); then
			bad=$rate
			break
		fi
		good=$rate
		if awk -v a="$STEP_REACHED" -v t="$rate" -v share="$RATE_REACHED" 'BEGIN { exit !(a < t * share) }'; then
			progress "  the machine reached only $STEP_REACHED of $rate opens a second; the search stops"
			return 0
		fi
		rate=$((rate * 2))
	done
	for ((i = 0; i < BISECTIONS && good > 0; i++)); do
		rate=$(((good + bad) / 2))
		rate_step "$rate"
		if ((STEP_DROPS > 0)); then bad=$rate; else good=$rate; fi
	done
}

# profile CONFIG WORKLOAD: a shorter run with BPF statistics on; appends the
# per-program counts to results.txt.
profile() {
	local config=$1 workload=$2 name=profile-$1-$2 output
	start_tracer "$config" "$name"
	program_stats "$TRACER_PID" >"$RAW_DIR/$name.before"
	# shellcheck disable=SC2046
	output=$("$DRIVER" $(workload_args "$workload" "$PROFILE_DIVISOR") 2>"$RAW_DIR/$name.driver-err") ||
		fail "bench_sensor failed while profiling: $(head -n 3 "$RAW_DIR/$name.driver-err")"
	program_stats "$TRACER_PID" >"$RAW_DIR/$name.after"
	stop_tracer
	LC_ALL=C join "$RAW_DIR/$name.before" "$RAW_DIR/$name.after" | while read -r program count0 time0 count1 time1; do
		printf 'kind=program config=%s workload=%s program=%s run_cnt=%s run_time_ns=%s %s\n' \
			"$config" "$workload" "$program" $((count1 - count0)) $((time1 - time0)) "$output"
	done >>"$WORK/results.txt"
	progress "  $config $workload profiled: $output"
}

wait_for_low_load() {
	local waited=0
	[[ -n $WAIT_LOAD ]] || return 0
	while awk -v load="$(load_average)" -v limit="$WAIT_LOAD" 'BEGIN { exit !(load >= limit) }'; do
		if ((waited >= WAIT_SECONDS)); then
			progress "load average still $(load_average) after $WAIT_SECONDS s; measuring anyway"
			return 0
		fi
		sleep 10
		waited=$((waited + 10))
	done
}

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$WORK/results.txt"
wait_for_low_load
progress "rules: $RULES; exec $EXEC_COUNT, open $OPEN_COUNT, $REPS repetitions; load $(load_average)"
for ((rep = 1; rep <= REPS; rep++)); do
	progress "rep $rep/$REPS"
	for workload in exec open; do
		for config in none warden floor bpftrace; do
			measure "$config" "$workload" "$rep"
		done
	done
done

progress "highest open rate without ring buffer drops, $RATE_SECONDS s a step"
search_rate

progress "per-program BPF cost (kernel.bpf_stats_enabled=1)"
STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
for config in warden bpftrace; do
	for workload in exec open; do
		profile "$config" "$workload"
	done
done
sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE" >/dev/null
STATS_BEFORE=
FINISHED_LOAD=$(load_average)

# The load report's first lines name the rules that loaded and why others
# did not; the report counts them.
RULE_COUNTS=$(awk '/^loaded / { l++ } /^skipped / { s++ } /^disabled / { d++ }
	END { printf "%d loaded, %d skipped, %d disabled", l, s, d }' "$RAW_DIR/warden-exec-1.err")
REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	REVISION="$REVISION with uncommitted changes"
fi
COMMAND="bench/sensor.sh $BUILD_DIR"
# The rule file is named without its directory, which is a local path.
overrides=$(env | grep -E '^BENCH_(SENSOR_[A-Z_]+|FALCO_RULES|OUTPUT)=' | sort |
	sed -E 's|^BENCH_FALCO_RULES=.*/|BENCH_FALCO_RULES=DIR/|' | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"
"$PYTHON" "$REPORT" --results "$WORK/results.txt" --output "$OUTPUT" \
	--command "$COMMAND" --started "$STARTED" --revision "$REVISION" \
	--rules "$(basename "$RULES")" --rule-counts "$RULE_COUNTS" \
	--nproc "$(nproc)" --kernel "$(uname -r)" \
	--cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
	--bpftrace-version "$("$BPFTRACE" --version | head -n 1)" \
	--strlen "$BPFTRACE_STRLEN" --rate-seconds "$RATE_SECONDS" --finished-load "$FINISHED_LOAD" \
	--build-type "$(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null |
		"$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
		2>/dev/null || echo unknown)"
progress "results written to $OUTPUT"
