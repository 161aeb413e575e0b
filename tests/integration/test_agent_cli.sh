#!/bin/sh
# `warden agent run` and the Workload API clients: help text and usage
# errors, without a server.
set -eu

WARDEN=${WARDEN:-build/warden}
WORK=$(mktemp -d /tmp/warden-agent-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$WARDEN" agent run --help >"$WORK/help.txt"
for option in --config --server-address --trust-domain --trust-bundle \
	--trust-bundle-fingerprint --join-token --data-dir --socket-path --sync-interval \
	--log-format --log-level; do
	grep -q -- "$option" "$WORK/help.txt" || { echo "agent run --help lacks $option" >&2; exit 1; }
done
grep -q "SPIFFE_ENDPOINT_SOCKET" "$WORK/help.txt" || { echo "agent run --help lacks SPIFFE_ENDPOINT_SOCKET" >&2; exit 1; }

# A missing server address is a configuration error: exit 1 with the key named.
rc=0
"$WARDEN" agent run --trust-domain example.org --data-dir "$WORK/data" \
	--socket-path "$WORK/agent.sock" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 1 ] || { echo "agent run without server address exited $rc" >&2; exit 1; }
grep -q "server_address" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }

# Repeated --server-address flags form one list, checked address by address.
rc=0
"$WARDEN" agent run --server-address 127.0.0.1:1 --server-address 127.0.0.1:0 \
	--trust-domain example.org --data-dir "$WORK/data" \
	--socket-path "$WORK/agent.sock" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 1 ] || { echo "agent run with a bad second address exited $rc" >&2; exit 1; }
grep -q "invalid server_address '127.0.0.1:0'" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }

# An unknown flag is a usage error.
rc=0
"$WARDEN" agent run --no-such-flag 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || { echo "agent run --no-such-flag exited $rc, expected 2" >&2; exit 1; }

for sub in fetch fetch-jwt validate-jwt watch; do
	"$WARDEN" svid "$sub" --help | grep -q -- "--socket-path" ||
		{ echo "svid $sub --help lacks --socket-path" >&2; exit 1; }
done

# No agent on the socket: fetch fails with exit 1 and names the socket.
rc=0
SPIFFE_ENDPOINT_SOCKET="unix://$WORK/none.sock" "$WARDEN" svid fetch 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 1 ] || { echo "svid fetch without agent exited $rc" >&2; exit 1; }
grep -q "$WORK/none.sock" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }

# A tcp endpoint is rejected as a usage error.
rc=0
SPIFFE_ENDPOINT_SOCKET="tcp://127.0.0.1:1" "$WARDEN" svid fetch 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || { echo "svid fetch with a tcp endpoint exited $rc, expected 2" >&2; exit 1; }

echo "agent cli checks passed"
