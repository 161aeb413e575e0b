#!/bin/sh
# The main job on real input: a warden server issues SPIFFE identities that
# OpenSSL's own tools verify, use for mutual TLS, and see revoked; then a
# node agent hands two workloads their own SVIDs through the Workload API.
# The agent step needs root, to run one workload as nobody.
#
# usage: scripts/demo.sh [path/to/warden]
set -eu

WARDEN=${1:-build/warden}
WARDEN=$(cd "$(dirname "$WARDEN")" && pwd)/$(basename "$WARDEN")
WORK=$(mktemp -d /tmp/warden-demo.XXXXXX)
SERVER_PID=""
OTHER_PID=""
TLS_SERVER_PID=""
AGENT_PID=""

cleanup() {
	for pid in $AGENT_PID $TLS_SERVER_PID $OTHER_PID $SERVER_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step() {
	printf '\n\033[1m== %s\033[0m\n' "$*"
}

show() {
	printf '$ %s\n' "$*"
	"$@"
}

# Starts a server for trust domain $1 in $WORK/$1 and waits until its admin
# socket answers.
start_server() {
	trust_domain=$1
	dir=$WORK/$trust_domain
	mkdir -p "$dir"
	"$WARDEN" server --trust-domain "$trust_domain" --data-dir "$dir/data" \
		--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --admin-socket "$dir/admin.sock" \
		>"$dir/server.log" 2>&1 &
	started_pid=$!
	for _ in $(seq 1 100); do
		if [ -S "$dir/admin.sock" ] &&
			WARDEN_ADMIN_SOCKET="$dir/admin.sock" "$WARDEN" bundle show >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$started_pid" 2>/dev/null; then
			echo "demo: the $trust_domain server exited; its log:" >&2
			cat "$dir/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "demo: the $trust_domain server did not become ready in 10 s" >&2
	exit 1
}

step "start a warden server for trust domain example.org"
start_server example.org
SERVER_PID=$started_pid
export WARDEN_ADMIN_SOCKET=$WORK/example.org/admin.sock
sed -n '1,5p' "$WORK/example.org/server.log"

step "register a node agent and two workloads"
show "$WARDEN" token generate --ttl 10m | tee "$WORK/token.txt"
AGENT_ID=$(sed -n 's/^agent id: *//p' "$WORK/token.txt")
show "$WARDEN" entry create --spiffe-id spiffe://example.org/web \
	--parent-id "$AGENT_ID" --selector unix:uid:1000 --dns-name web.example.org
show "$WARDEN" entry create --spiffe-id spiffe://example.org/db \
	--parent-id "$AGENT_ID" --selector unix:uid:1001
show "$WARDEN" entry list

step "mint X.509-SVIDs for web and db"
show "$WARDEN" svid mint --spiffe-id spiffe://example.org/web --dns-name web.example.org \
	--out "$WORK/web"
show "$WARDEN" svid mint --spiffe-id spiffe://example.org/db --out "$WORK/db"
ls -l "$WORK/web"

step "OpenSSL verifies them against the trust bundle"
show "$WARDEN" bundle show --format pem >"$WORK/bundle.pem"
show openssl verify -CAfile "$WORK/bundle.pem" "$WORK/web/svid.pem" "$WORK/db/svid.pem"
show openssl x509 -in "$WORK/web/svid.pem" -noout -subject -serial -dates \
	-ext subjectAltName,keyUsage,extendedKeyUsage,basicConstraints

step "mutual TLS between openssl s_server (web) and s_client (db)"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$WORK/web/svid.pem" -key "$WORK/web/svid.key" \
	-CAfile "$WORK/bundle.pem" -Verify 2 -verify_return_error -rev -naccept 2 \
	>"$WORK/s_server.log" 2>&1 &
TLS_SERVER_PID=$!
sleep 0.5
(echo "hello from db"; sleep 1) | openssl s_client -connect "127.0.0.1:$PORT" -cert "$WORK/db/svid.pem" \
	-key "$WORK/db/svid.key" -CAfile "$WORK/bundle.pem" -verify_return_error -quiet -no_ign_eof \
	>"$WORK/s_client.out" 2>"$WORK/s_client.err" || true
echo "s_client received (s_server echoes reversed):"
cat "$WORK/s_client.out"
grep -q "bd morf olleh" "$WORK/s_client.out" || { echo "demo: mutual TLS exchange failed" >&2; cat "$WORK/s_client.err" >&2; exit 1; }

step "a certificate from another trust domain is refused"
start_server other.org
OTHER_PID=$started_pid
WARDEN_ADMIN_SOCKET=$WORK/other.org/admin.sock \
	show "$WARDEN" svid mint --spiffe-id spiffe://other.org/intruder --out "$WORK/intruder"
if (echo "let me in"; sleep 1) | openssl s_client -connect "127.0.0.1:$PORT" \
	-cert "$WORK/intruder/svid.pem" -key "$WORK/intruder/svid.key" \
	-CAfile "$WORK/bundle.pem" -quiet -no_ign_eof >"$WORK/intruder.out" 2>&1 &&
	grep -q "ni em tel" "$WORK/intruder.out"; then
	echo "demo: the foreign certificate was accepted" >&2
	exit 1
fi
wait "$TLS_SERVER_PID" 2>/dev/null || true
TLS_SERVER_PID=""
echo "s_server refused it:"
grep -i -m1 "verify error\|unable to get\|alert" "$WORK/s_server.log" || tail -3 "$WORK/s_server.log"

step "revoke the db SVID and read the CRL"
SERIAL=$(openssl x509 -in "$WORK/db/svid.pem" -noout -serial | cut -d= -f2)
show "$WARDEN" svid revoke --serial "$SERIAL"
show "$WARDEN" crl show >"$WORK/crl.pem"
show openssl crl -in "$WORK/crl.pem" -noout -text
cat "$WORK/bundle.pem" "$WORK/crl.pem" >"$WORK/bundle-crl.pem"
if openssl verify -crl_check -CAfile "$WORK/bundle-crl.pem" "$WORK/db/svid.pem"; then
	echo "demo: the revoked SVID still verifies" >&2
	exit 1
fi
echo "openssl verify -crl_check now rejects the db SVID"

step "evaluate a Rego policy locally, then serve it through OPA's REST API"
cat >"$WORK/authz.rego" <<'REGO'
package demo.authz

default allow := false

# db may read from web; nothing else may call it.
allow if {
	input.caller == "spiffe://example.org/db"
	input.method == "GET"
	startswith(input.path, "/v1/")
}
REGO
echo '{"caller": "spiffe://example.org/db", "method": "GET", "path": "/v1/orders"}' >"$WORK/input.json"
show "$WARDEN" policy eval -d "$WORK/authz.rego" -i "$WORK/input.json" --format pretty data.demo.authz.allow
show curl -s --unix-socket "$WARDEN_ADMIN_SOCKET" -X PUT --data-binary @"$WORK/authz.rego" \
	http://localhost/v1/policies/demo/authz
echo
for method in GET DELETE; do
	body="{\"input\": {\"caller\": \"spiffe://example.org/db\", \"method\": \"$method\", \"path\": \"/v1/orders\"}}"
	show curl -s --unix-socket "$WARDEN_ADMIN_SOCKET" -d "$body" \
		http://localhost/v1/data/demo/authz/allow | tee "$WORK/decision-$method.json"
	echo
done
grep -q '"result":true' "$WORK/decision-GET.json" && grep -q '"result":false' "$WORK/decision-DELETE.json" ||
	{ echo "demo: the policy API gave the wrong decisions" >&2; exit 1; }
echo "each decision is in the audit chain:"
grep -c '"policy.decide"' "$WORK/example.org/data/audit.log"

step "the audit chain is intact"
show "$WARDEN" audit verify "$WORK/example.org/data/audit.log"

step "run a node agent and let two workloads fetch their own SVIDs"
PORT=$(sed -n 's/.*server started .* port=\([0-9]*\).*/\1/p' "$WORK/example.org/server.log" | head -1)
"$WARDEN" token generate --ttl 10m >"$WORK/agent-token.txt"
AGENT_TOKEN=$(sed -n 's/^Token: *//p' "$WORK/agent-token.txt")
NODE_ID=$(sed -n 's/^agent id: *//p' "$WORK/agent-token.txt")
show "$WARDEN" entry create --spiffe-id spiffe://example.org/workload/root \
	--parent-id "$NODE_ID" --selector unix:uid:0
show "$WARDEN" entry create --spiffe-id spiffe://example.org/workload/nobody \
	--parent-id "$NODE_ID" --selector unix:uid:65534
mkdir -p "$WORK/agent"
chmod 0755 "$WORK" "$WORK/agent"
echo "\$ $WARDEN agent run --server-address 127.0.0.1:$PORT --trust-domain example.org" \
	"--trust-bundle $WORK/bundle.pem --join-token ... --socket-path $WORK/agent/agent.sock"
"$WARDEN" agent run --server-address "127.0.0.1:$PORT" --trust-domain example.org \
	--trust-bundle "$WORK/bundle.pem" --join-token "$AGENT_TOKEN" \
	--data-dir "$WORK/agent/data" --socket-path "$WORK/agent/agent.sock" --sync-interval 1s \
	>"$WORK/agent/endpoint.txt" 2>"$WORK/agent/agent.log" &
AGENT_PID=$!
for _ in $(seq 1 100); do
	[ -s "$WORK/agent/endpoint.txt" ] && break
	if ! kill -0 "$AGENT_PID" 2>/dev/null; then
		echo "demo: the agent exited; its log:" >&2
		cat "$WORK/agent/agent.log" >&2
		exit 1
	fi
	sleep 0.1
done
cat "$WORK/agent/endpoint.txt"
eval "export $(cat "$WORK/agent/endpoint.txt")"
# The agent fetches the new entries' SVIDs on its first sync; wait for both.
for _ in $(seq 1 100); do
	"$WARDEN" svid fetch >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups "$WARDEN" svid fetch \
			>/dev/null 2>&1 && break
	sleep 0.2
done
show "$WARDEN" svid fetch
show setpriv --reuid=65534 --regid=65534 --clear-groups "$WARDEN" svid fetch
ROOT_ID=$("$WARDEN" svid fetch --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["svids"][0]["spiffe_id"])')
NOBODY_ID=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$WARDEN" svid fetch --json |
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["svids"][0]["spiffe_id"])')
echo "root (uid 0) got      $ROOT_ID"
echo "nobody (uid 65534) got $NOBODY_ID"
[ "$ROOT_ID" = spiffe://example.org/workload/root ] &&
	[ "$NOBODY_ID" = spiffe://example.org/workload/nobody ] ||
	{ echo "demo: the workloads got the wrong SPIFFE IDs" >&2; exit 1; }

printf '\ndemo finished\n'
