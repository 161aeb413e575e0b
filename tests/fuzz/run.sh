#!/bin/sh
# Runs every libFuzzer harness in BUILD_DIR for SECONDS each, starting from
# its committed seed corpus; new inputs go to a scratch copy.
set -eu
build_dir=${1:-build-fuzz}
seconds=${2:-60}
source_dir=$(cd "$(dirname "$0")" && pwd)
failed=0

for harness in "$build_dir"/tests/fuzz/fuzz_*; do
	[ -f "$harness" ] && [ -x "$harness" ] || continue
	name=$(basename "$harness")
	work=$(mktemp -d)
	cp -r "$source_dir/corpus/$name/." "$work/"
	echo "fuzz: $name for ${seconds}s"
	if ! "$harness" -max_total_time="$seconds" -max_len=65536 \
		-artifact_prefix="$build_dir/$name-" "$work" 2>"$build_dir/$name.log"; then
		echo "fuzz: $name FAILED, see $build_dir/$name.log" >&2
		failed=1
	fi
	tail -1 "$build_dir/$name.log"
	rm -rf "$work"
done
exit $failed
