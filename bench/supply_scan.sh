#!/usr/bin/env bash
# Benchmarks `warden scan`: a generated root filesystem of Debian packages
# against a generated directory of OSV records (bench/supply_scan_gen.py),
# and writes the results into the section between the supply-scan-bench
# markers of docs/benchmarks.md, leaving the rest of the page alone.
#
# One warm-up run fills the page cache. Each measured run is then timed
# from the outside (wall clock, and the child's user and system CPU time),
# and its -v lines give the database load time and the match time. The
# report gives the median of the runs. Everything lives in a temporary
# directory that is removed at the end.
#
# usage: bench/supply_scan.sh BUILD_DIR
#
# Environment (defaults in brackets):
#   BENCH_SCAN_PACKAGES  [10000] packages in the root's dpkg status
#   BENCH_SCAN_RECORDS   [100000] OSV records, one file each
#   BENCH_SCAN_RUNS      [5] measured runs
#   BENCH_OUTPUT         [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/supply_scan.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
# The scan runs in the work directory, so the binary's path is made absolute.
WARDEN=$(realpath "$BUILD_DIR/warden" 2>/dev/null || echo "$BUILD_DIR/warden")
PYTHON=/usr/bin/python3
PACKAGES=${BENCH_SCAN_PACKAGES:-10000}
RECORDS=${BENCH_SCAN_RECORDS:-100000}
RUNS=${BENCH_SCAN_RUNS:-5}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

[[ -x $WARDEN ]] || { echo "bench/supply_scan.sh: $WARDEN not built" >&2; exit 1; }
WORK=$(mktemp -d /tmp/warden-bench-scan-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

progress "generating $PACKAGES packages and $RECORDS OSV records in $WORK"
"$PYTHON" "$REPO/bench/supply_scan_gen.py" "$WORK" "$PACKAGES" "$RECORDS" >"$WORK/generated.json"

COMMAND="bench/supply_scan.sh $BUILD_DIR"
overrides=$(env | grep -E '^BENCH_(SCAN_[A-Z_]+|OUTPUT)=' | sort | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"
REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	REVISION="$REVISION with uncommitted changes"
fi
BUILD_TYPE=$(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null |
	"$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
	2>/dev/null || echo unknown)
[[ $BUILD_TYPE == release ]] || progress "warning: $BUILD_DIR is a $BUILD_TYPE build, not release"

progress "one warm-up run, then $RUNS measured runs"
"$PYTHON" - "$WARDEN" "$WORK" "$RUNS" "$OUTPUT" "$COMMAND" "$REVISION" "$BUILD_TYPE" <<'EOF'
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

warden, work, runs, output, command, revision, build_type = sys.argv[1:]
runs = int(runs)
generated = json.load(open(os.path.join(work, "generated.json")))
argv = [warden, "scan", "root", "--db", "db", "-v"]


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_once():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit("warden scan exited %d: %s" % (result.returncode, result.stderr))
    loaded = re.search(r"loaded (\d+) records from (\d+) files in \S+ in ([0-9.]+) s", result.stderr)
    matched = re.search(r"matched (\d+) packages .* in ([0-9.]+) s: (\d+) matches", result.stderr)
    if not loaded or not matched:
        sys.exit("warden scan -v printed no timings: " + result.stderr)
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "user": after.ru_utime - before.ru_utime,
        "sys": after.ru_stime - before.ru_stime,
        "load": float(loaded.group(3)),
        "match": float(matched.group(2)),
        "records": int(loaded.group(1)),
        "files": int(loaded.group(2)),
        "packages": int(matched.group(1)),
        "matches": int(matched.group(3)),
        "loadavg": load_average(),
    }


run_once()
started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
loadavg_start = load_average()
results = [run_once() for _ in range(runs)]
loadavg_end = load_average()


def median(key):
    return statistics.median(r[key] for r in results)


def per_run(key, fmt="%.3f"):
    return " / ".join(fmt % r[key] for r in results)


with open("/proc/cpuinfo") as f:
    cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
               "unknown")
first = results[0]
verdict = "met" if median("wall") <= 1.0 else "missed"
lines = [
    "<!-- supply-scan-bench:begin -->",
    "## Supply scan",
    "",
    f"Produced by `{command}` on {started}, at revision {revision}. Every number in this "
    "section comes from that one run.",
    "",
    "| machine | |",
    "| --- | --- |",
    f"| CPUs (nproc) | {os.cpu_count()} |",
    f"| CPU model | {cpu} |",
    f"| warden build type | {build_type} |",
    f"| load average (1 min): at the start; highest before a run; at the end | "
    f"{loadavg_start:.2f}; {max(r['loadavg'] for r in results):.2f}; {loadavg_end:.2f} |",
    "",
    f"`bench/supply_scan_gen.py` writes a root filesystem whose dpkg status lists "
    f"{generated['packages']:,} Debian 12 packages built from {generated['sources']:,} source "
    f"packages, and {generated['records']:,} OSV records, one JSON file each, in 100 "
    "directories: 70 % for Debian 12 source packages (about half of them installed), 10 % for "
    "Debian 11, 20 % for PyPI, npm and Go. The script runs "
    "`warden scan root --db db -v` (table output to /dev/null) once to fill the page cache, "
    f"then {runs} times. Wall and CPU time are measured around the process; load and match "
    "time are what `-v` prints: reading, parsing and indexing the records, then matching the "
    "packages and applying the ignore file.",
    "",
    "| | median | per run |",
    "| --- | ---: | --- |",
    f"| wall time of `warden scan` | {median('wall'):.3f} s | {per_run('wall')} |",
    f"| CPU time (user + system) | {median('cpu'):.3f} s | {per_run('cpu')} |",
    f"| of which system | {median('sys'):.3f} s | {per_run('sys')} |",
    f"| database load | {median('load'):.3f} s | {per_run('load')} |",
    f"| matching | {median('match'):.3f} s | {per_run('match')} |",
    "",
    f"Each run loaded {first['records']:,} records from {first['files']:,} files and matched "
    f"{first['packages']:,} packages into {first['matches']:,} matches.",
    "",
    f"**Target: the whole scan in at most 1 s: {verdict}** (median wall time "
    f"{median('wall'):.3f} s).",
    "",
    "The load runs one thread per CPU (at most 8) over the files, so its wall time is about "
    "its CPU time divided by the free CPUs. Most of that CPU time is the kernel's open, read "
    f"and close of {first['files']:,} files. On a machine whose CPUs other work keeps busy, the "
    "wall time grows with that load, which the load averages above show.",
    "<!-- supply-scan-bench:end -->",
]
section = "\n".join(lines) + "\n"

try:
    with open(output) as f:
        page = f.read()
except FileNotFoundError:
    page = "# Benchmarks\n"
begin, end = "<!-- supply-scan-bench:begin -->", "<!-- supply-scan-bench:end -->"
if begin in page and end in page:
    page = page[:page.index(begin)] + section.rstrip("\n") + page[page.index(end) + len(end):]
else:
    page = page.rstrip("\n") + "\n\n" + section
with open(output, "w") as f:
    f.write(page)
print(json.dumps({"wall_median": median("wall"), "load_median": median("load"),
                  "match_median": median("match"), "cpu_median": median("cpu")}))
EOF
progress "results written to $OUTPUT"
