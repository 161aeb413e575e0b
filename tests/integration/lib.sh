# Shared helpers for shell integration tests: a scratch directory removed on
# exit, assertions that print the expected and actual values, and a summary.
: "${WARDEN:?WARDEN must name the warden binary}"
TMP=$(mktemp -d)
CHECKS_FAILED=0
CHECKS_RUN=0
BACKGROUND_PIDS=""

cleanup() {
	for pid in $BACKGROUND_PIDS; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	CHECKS_FAILED=$((CHECKS_FAILED + 1))
}

expect_eq() {
	CHECKS_RUN=$((CHECKS_RUN + 1))
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$3', got '$2'"
	fi
}

expect_grep() {
	CHECKS_RUN=$((CHECKS_RUN + 1))
	if ! grep -q -- "$2" "$3"; then
		fail "$1: '$2' not found in $3:"
		sed 's/^/    /' "$3" >&2
	fi
}

skip() {
	echo "SKIP: $*"
	exit 77
}

finish() {
	echo "$CHECKS_RUN checks, $CHECKS_FAILED failed"
	[ "$CHECKS_FAILED" -eq 0 ]
}
