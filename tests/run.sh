#!/bin/sh
# Runs every test suite in each given build directory (the hardened build and
# the sanitizer build), prints the reason of every skip, and ends with one
# line "N passed, N failed, N skipped".
set -u
[ $# -gt 0 ] || set -- build build-asan
source_dir=$(cd "$(dirname "$0")/.." && pwd)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

for build_dir in "$@"; do
	echo "== tests in $build_dir"
	# ASan's leak checker needs ptrace-like access that some sandboxes deny;
	# leaks are still reported where it works.
	rm -f "$build_dir/meson-logs/testlog.json"
	status=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		meson test -C "$build_dir" --print-errorlogs --num-processes 2 \
		>"$build_dir/test-output.txt" 2>&1 || status=$?
	grep -E '^ *[0-9]+/[0-9]+ ' "$build_dir/test-output.txt" || true
	# A build that fails before any test runs leaves no test log: count it
	# as a failure rather than as nothing to report.
	if [ ! -s "$build_dir/meson-logs/testlog.json" ]; then
		echo "error: no tests ran in $build_dir (meson test exited $status):"
		tail -n 20 "$build_dir/test-output.txt"
		echo "failed 1" >>"$summary"
		continue
	fi
	/usr/bin/python3 "$source_dir/tests/summarize.py" \
		"$build_dir/meson-logs/testlog.json" "$build_dir" >>"$summary"
done

/usr/bin/python3 - "$summary" <<'PY'
import sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    kind, count = line.split()
    if kind == "passed": passed += int(count)
    elif kind == "failed": failed += int(count)
    elif kind == "skipped": skipped += int(count)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
