#!/usr/bin/env bash
# Benchmarks `warden sbom` on this machine's root filesystem against cdxgen
# (@cyclonedx/cdxgen from npm, which catalogs a root filesystem through its
# bundled trivy) and against `dpkg-query -W`, the floor: reading the dpkg
# database and nothing else. Every contender runs in the same run, on the
# same filesystem; the wall time and peak RSS come from GNU time. The
# results replace the section between the supply-bench markers of
# docs/benchmarks.md.
#
# usage: bench/supply.sh BUILD_DIR
#
# By default every contender catalogs this machine's root filesystem, seen
# through a bind mount in a private mount namespace with /work, /tmp, /home,
# /root/.cache and /root/.npm hidden under empty tmpfs mounts: those hold
# this project's clones, build trees and caches (cdxgen's own included),
# which change from run to run. The bind mount leaves out /proc, /sys and
# /dev as well. This needs root.
#
# Environment (defaults in brackets):
#   BENCH_SUPPLY_TARGET       [the view above] a directory to catalog instead
#   BENCH_SUPPLY_REPS         [3] runs of warden and dpkg-query; the report
#                             gives the median
#   BENCH_SUPPLY_CDXGEN_REPS  [1] runs of cdxgen, which takes minutes
#   BENCH_CDXGEN              [empty] a cdxgen executable to use; when
#                             empty, cdxgen BENCH_CDXGEN_VERSION is
#                             installed with npm under
#                             ~/.cache/warden-bench/cdxgen
#   BENCH_CDXGEN_VERSION      [12.8.4]
#   BENCH_CDXGEN_TIMEOUT      [1800] seconds after which a cdxgen run is
#                             stopped; the report then gives its time as a
#                             lower bound
#   BENCH_OUTPUT              [docs/benchmarks.md]
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/supply.sh BUILD_DIR" >&2
	exit 2
fi
BUILD_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
WARDEN=$BUILD_DIR/warden
PYTHON=/usr/bin/python3
TARGET=${BENCH_SUPPLY_TARGET:-}
REPS=${BENCH_SUPPLY_REPS:-3}
CDXGEN_REPS=${BENCH_SUPPLY_CDXGEN_REPS:-1}
CDXGEN_VERSION=${BENCH_CDXGEN_VERSION:-12.8.4}
CDXGEN_TIMEOUT=${BENCH_CDXGEN_TIMEOUT:-1800}
OUTPUT=${BENCH_OUTPUT:-$REPO/docs/benchmarks.md}
CDXGEN_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/warden-bench/cdxgen

progress() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/supply.sh: error: %s\n' "$*" >&2; exit 1; }

for number in "$REPS" "$CDXGEN_REPS" "$CDXGEN_TIMEOUT"; do
	[[ $number =~ ^[1-9][0-9]*$ ]] || fail "'$number' is not a positive whole number; check BENCH_SUPPLY_REPS and BENCH_SUPPLY_CDXGEN_REPS"
done
[[ -x $WARDEN ]] || fail "$WARDEN not found: build it with 'ninja -C $BUILD_DIR'"
[[ -z $TARGET || -d $TARGET ]] || fail "BENCH_SUPPLY_TARGET '$TARGET' is not a directory"
[[ -x /usr/bin/time ]] || fail "GNU time (/usr/bin/time) is required: run 'scripts/install-deps.sh bench'"
command -v dpkg-query >/dev/null || fail "dpkg-query is required"

# Installs cdxgen and its binary plugins (trivy) once, into the cache.
cdxgen_path() {
	if [[ -n ${BENCH_CDXGEN:-} ]]; then
		[[ -x $BENCH_CDXGEN ]] || fail "BENCH_CDXGEN '$BENCH_CDXGEN' is not executable"
		echo "$BENCH_CDXGEN"
		return
	fi
	if [[ ! -x $CDXGEN_DIR/node_modules/.bin/cdxgen ]]; then
		command -v npm >/dev/null || fail "npm is required to install cdxgen: install Node.js and npm, or set BENCH_CDXGEN"
		progress "installing @cyclonedx/cdxgen@$CDXGEN_VERSION with npm into $CDXGEN_DIR"
		mkdir -p "$CDXGEN_DIR"
		(cd "$CDXGEN_DIR" && npm install --no-audit --no-fund --silent \
			"@cyclonedx/cdxgen@$CDXGEN_VERSION" "@cyclonedx/cdxgen-plugins-bin-linux-amd64" >&2) ||
			fail "npm could not install cdxgen; set BENCH_CDXGEN to an installed one"
	fi
	echo "$CDXGEN_DIR/node_modules/.bin/cdxgen"
}

# The root filesystem view: the script runs again inside a private mount
# namespace, where the mounts vanish with it.
if [[ -z $TARGET && -z ${BENCH_SUPPLY_VIEW:-} ]]; then
	((EUID == 0)) || fail "the root filesystem view needs root (mount namespaces); set BENCH_SUPPLY_TARGET to a directory instead"
	command -v unshare >/dev/null || fail "unshare (util-linux) is required"
	exec unshare --mount --propagation private env BENCH_SUPPLY_VIEW=1 "$0" "$@"
fi

WORK=$(mktemp -d /tmp/warden-bench-supply-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if [[ -z $TARGET ]]; then
	# The view's mount point is not under WORK, so that no rm -rf can ever
	# descend into the bind mount of /; it is removed with rmdir alone.
	TARGET=$(mktemp -d /tmp/warden-bench-view-XXXXXX)
	trap 'umount -R "$TARGET" 2>/dev/null; rmdir "$TARGET" 2>/dev/null; rm -rf "$WORK"' EXIT
	mount --bind / "$TARGET"
	for hidden in work tmp home root/.cache root/.npm; do
		if [[ -d $TARGET/$hidden ]]; then
			mount -t tmpfs -o size=1m,mode=0755 tmpfs "$TARGET/$hidden"
		fi
	done
	TARGET_NAME="/ (without /work, /tmp, /home, /root/.cache and /root/.npm)"
else
	TARGET_NAME=$TARGET
fi

# measure NAME REP COMMAND...: runs COMMAND under GNU time with its output in
# $WORK/NAME-REP.out and appends "name rep seconds peak_kib packages
# finished" to results.txt, where packages counts the dpkg packages in the
# output and finished is 0 when the run was stopped at its timeout.
measure() {
	local name=$1 rep=$2 out=$WORK/$1-$2.out stats=$WORK/$1-$2.time status=0 finished=1
	shift 2
	/usr/bin/time -f '%e %M' -o "$stats" "$@" >"$out" 2>"$WORK/$name-$rep.err" || status=$?
	# timeout(1) exits 124 when it stopped the command.
	if ((status == 124)); then
		finished=0
	elif ((status != 0)); then
		fail "$name failed (exit $status): $(tail -n 5 "$WORK/$name-$rep.err")"
	fi
	read -r seconds peak_kib < <(tail -n 1 "$stats")
	packages=$( ((finished)) && count_packages "$name" "$out" || echo 0)
	printf '%s %s %s %s %s %s\n' "$name" "$rep" "$seconds" "$peak_kib" "$packages" "$finished" \
		>>"$WORK/results.txt"
	progress "  $name: $seconds s$( ((finished)) || echo ' (stopped at the timeout)'), peak RSS $peak_kib KiB, $packages dpkg packages"
}

count_packages() {
	local name=$1 out=$2
	case $name in
	dpkg-query) grep -c ' install ok installed$' "$out" || true ;;
	warden) "$PYTHON" -c 'import json, sys; print(sum(1 for c in json.load(open(sys.argv[1]))["components"] if c.get("purl", "").startswith("pkg:deb/")))' "$out" ;;
	cdxgen) "$PYTHON" -c 'import json, sys; print(sum(1 for c in json.load(open(sys.argv[1])).get("components", []) if c.get("purl", "").startswith("pkg:deb/")))' "$WORK/cdxgen.json" ;;
	esac
}

CDXGEN=$(cdxgen_path)
# The version of the package the executable belongs to (node_modules/.bin
# links into it); `cdxgen --version` prints the Node.js runtime as well.
CDXGEN_REPORTED=$("$PYTHON" -c 'import json, os, sys; print(json.load(open(os.path.join(os.path.dirname(os.path.realpath(sys.argv[1])), "..", "package.json")))["version"])' \
	"$CDXGEN" 2>/dev/null || echo "$CDXGEN_VERSION")
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$WORK/results.txt"

# dpkg-query is run the way its count is defined: every package with its
# status, of which the installed ones are counted.
for ((rep = 1; rep <= REPS; rep++)); do
	progress "rep $rep/$REPS"
	measure dpkg-query "$rep" dpkg-query --admindir="$TARGET/var/lib/dpkg" -W \
		-f '${Package} ${Version} ${Architecture} ${Status}\n'
	measure warden "$rep" "$WARDEN" sbom "$TARGET" -o cyclonedx-json
done
for ((rep = 1; rep <= CDXGEN_REPS; rep++)); do
	progress "cdxgen rep $rep/$CDXGEN_REPS (minutes)"
	# cdxgen writes its document to a file. It needs a project name,
	# because "/" has no base name to derive one from.
	measure cdxgen "$rep" timeout "$CDXGEN_TIMEOUT" "$CDXGEN" -t rootfs --project-name rootfs \
		--no-install-deps -o "$WORK/cdxgen.json" "$TARGET"
done

REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	REVISION="$REVISION with uncommitted changes"
fi
COMMAND="bench/supply.sh $BUILD_DIR"
overrides=$(env | grep -E '^BENCH_(SUPPLY_[A-Z_]+|CDXGEN[A-Z_]*|OUTPUT)=' | grep -v '^BENCH_SUPPLY_VIEW=' | sort | tr '\n' ' ' || true)
[[ -n $overrides ]] && COMMAND="$overrides$COMMAND"
"$PYTHON" "$REPO/bench/supply/report.py" --results "$WORK/results.txt" --output "$OUTPUT" \
	--command "$COMMAND" --started "$STARTED" --revision "$REVISION" \
	--target "$TARGET_NAME" --cdxgen-version "$CDXGEN_REPORTED" --nproc "$(nproc)" \
	--cdxgen-timeout "$CDXGEN_TIMEOUT" \
	--build-type "$(meson introspect "$BUILD_DIR" --buildoptions 2>/dev/null |
		"$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
		2>/dev/null || echo unknown)"
progress "results written to $OUTPUT"
