#!/bin/sh
# The main job on real input: a warden server issues SPIFFE identities that
# OpenSSL's own tools verify, use for mutual TLS, and see revoked; then a
# node agent hands two workloads their own SVIDs through the Workload API,
# and two services talk through warden proxies that a Rego policy guards.
# Then a workload logs in to the Vault-compatible secrets API with its SVID
# and gets a PostgreSQL user that disappears when its lease ends. Last, an
# SBOM of this machine and a cosign-compatible signature of a binary, and
# the eBPF sensor catching a compromised workload: it alerts, revokes the
# workload's identity and kills it.
# The agent step needs root, to run one workload as nobody, and the
# secrets step runs PostgreSQL as the postgres user.
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
PROXY_PIDS=""
NGINX_PID=""
SENSOR_PID=""
PG_DIR=""

cleanup() {
	if [ -n "$PG_DIR" ]; then
		runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_DIR/data" \
			-m immediate stop >/dev/null 2>&1 || true
	fi
	for pid in $SENSOR_PID $PROXY_PIDS $NGINX_PID $AGENT_PID $TLS_SERVER_PID $OTHER_PID $SERVER_PID; do
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
	# Vault clients check the host name: the serving SVID names localhost.
	# Binaries signed by the CI signer's SVID are admitted for entries that
	# require signed binaries.
	# The runtime sensor's SVID may report alerts and ask for revocations.
	printf 'identity:\n  dns_names: [localhost]\nadmission:\n  trusted_spiffe_ids: [spiffe://%s/ci/signer]\nsensor:\n  spiffe_ids: [spiffe://%s/sensor]\n' \
		"$trust_domain" "$trust_domain" >"$dir/server.yaml"
	"$WARDEN" server --config "$dir/server.yaml" --trust-domain "$trust_domain" --data-dir "$dir/data" \
		--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 --admin-socket "$dir/admin.sock" \
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

step "two services talk through warden proxies over mutual TLS; Rego decides each request"
# Service b is nginx behind an inbound proxy that evaluates
# deploy/proxy/policy.rego: a may GET /v1/data with an admin's JWT that
# carries the data:read scope; reports may not call b at all.
for name in a b reports; do
	"$WARDEN" svid mint --spiffe-id "spiffe://example.org/$name" --out "$WORK/svc-$name" >/dev/null
done
APP_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/body;
	proxy_temp_path $WORK/nginx/proxy;
	fastcgi_temp_path $WORK/nginx/fastcgi;
	uwsgi_temp_path $WORK/nginx/uwsgi;
	scgi_temp_path $WORK/nginx/scgi;
	server {
		listen 127.0.0.1:$APP_PORT;
		location = /v1/data {
			default_type application/json;
			return 200 '{"orders": 3, "caller": "\$http_x_forwarded_client_cert"}\n';
		}
	}
}
NGINX
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!

# JWTs from a stand-in identity provider: alice is an admin, bob is not.
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys, time
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

work = sys.argv[1]
key = ec.generate_private_key(ec.SECP256R1())
public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
public.update(kid="demo", alg="ES256", use="sig")
with open(f"{work}/jwks.json", "w") as f:
    json.dump({"keys": [public]}, f)
now = int(time.time())
for user, groups in (("alice", ["admin"]), ("bob", ["dev"])):
    claims = {"sub": user, "scope": "data:read", "groups": groups, "iat": now, "exp": now + 600}
    with open(f"{work}/{user}.jwt", "w") as f:
        f.write(jwt.encode(claims, key, algorithm="ES256", headers={"kid": "demo"}))
PY

# Starts a proxy in the background and sets PROXY_PORT to the port it
# listens on. It runs in this shell, not in $(...), so cleanup sees its pid.
start_proxy() {
	log=$1
	shift
	"$WARDEN" proxy --workers 1 "$@" >"$log" 2>&1 &
	PROXY_PIDS="$PROXY_PIDS $!"
	for _ in $(seq 1 100); do
		# The background job may not have created the log yet.
		PROXY_PORT=$(sed -n 's/.*proxy listening .*address=[0-9.]*:\([0-9]*\).*/\1/p' "$log" \
			2>/dev/null || true)
		[ -n "$PROXY_PORT" ] && return 0
		sleep 0.1
	done
	echo "demo: the proxy did not start; its log:" >&2
	cat "$log" >&2
	exit 1
}

echo "\$ warden proxy --inbound 127.0.0.1:0 --forward 127.0.0.1:$APP_PORT --http" \
	"--allow 'spiffe://example.org/*' --policy deploy/proxy/policy.rego --jwks jwks.json" \
	"--audit proxy-audit.log --cert svc-b/svid.pem --key svc-b/svid.key --bundle bundle.pem"
start_proxy "$WORK/proxy-in.log" --inbound 127.0.0.1:0 --forward "127.0.0.1:$APP_PORT" \
	--http --allow 'spiffe://example.org/*' --policy "$(dirname "$0")/../deploy/proxy/policy.rego" \
	--jwks "$WORK/jwks.json" --audit "$WORK/proxy-audit.log" --audit-allow-sample 1 \
	--access-log "$WORK/proxy-access.log" \
	--cert "$WORK/svc-b/svid.pem" --key "$WORK/svc-b/svid.key" --bundle "$WORK/bundle.pem"
IN_PORT=$PROXY_PORT
for name in a reports; do
	echo "\$ warden proxy --outbound 127.0.0.1:0 --upstream 127.0.0.1:$IN_PORT --http" \
		"--expect spiffe://example.org/b --cert svc-$name/svid.pem ..."
	start_proxy "$WORK/proxy-$name.log" --outbound 127.0.0.1:0 --upstream "127.0.0.1:$IN_PORT" \
		--http --expect spiffe://example.org/b \
		--cert "$WORK/svc-$name/svid.pem" --key "$WORK/svc-$name/svid.key" --bundle "$WORK/bundle.pem"
	eval "OUT_PORT_$name=$PROXY_PORT"
done

call() {
	label=$1 port=$2 token=$3 expected=$4
	status=$(curl -s -o "$WORK/reply.txt" -w '%{http_code}' -m 5 \
		-H "Authorization: Bearer $(cat "$WORK/$token.jwt")" "http://127.0.0.1:$port/v1/data")
	printf '%-36s -> %s %s\n' "$label" "$status" "$(cat "$WORK/reply.txt")"
	[ "$status" = "$expected" ] || { echo "demo: expected $expected" >&2; exit 1; }
}
call "a, alice (admin) GET /v1/data" "$OUT_PORT_a" alice 200
call "a, bob (not admin) GET /v1/data" "$OUT_PORT_a" bob 403
call "reports, alice GET /v1/data" "$OUT_PORT_reports" alice 403

echo "the proxy's audit trail:"
show "$WARDEN" audit verify "$WORK/proxy-audit.log"
/usr/bin/python3 - "$WORK/proxy-audit.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"  #{r['seq']} {r['actor']:<32} {r['object']:<14} {r['outcome']:<8} {r['detail']}")
PY


step "a workload logs in with its SVID and gets a just-in-time PostgreSQL user"
PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR=$WORK/pg
mkdir -p "$PG_DIR"
chown postgres "$PG_DIR"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
	-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR'" start >/dev/null
psql_admin() {
	runuser -u postgres -- psql -h "$PG_DIR" -U postgres -d app -v ON_ERROR_STOP=1 -qAt "$@"
}
runuser -u postgres -- psql -h "$PG_DIR" -U postgres -qc "CREATE DATABASE app"
psql_admin -c "CREATE ROLE vault_admin WITH LOGIN SUPERUSER PASSWORD 'demo-root-password'"
psql_admin -c "CREATE TABLE orders (id int, item text); INSERT INTO orders VALUES (1, 'book'), (2, 'lamp')"
echo "PostgreSQL 15 runs on the Unix socket in $PG_DIR"

SECRETS_PORT=$(sed -n 's/.*server started .*secrets_port=\([0-9]*\).*/\1/p' "$WORK/example.org/server.log")
export VAULT_ADDR="https://localhost:$SECRETS_PORT" VAULT_CACERT="$WORK/bundle.pem"
echo "the secrets API listens at $VAULT_ADDR; a new server is sealed:"
show "$WARDEN" operator status
echo "\$ warden operator init --key-shares 1 --key-threshold 1 --format json >init.json"
"$WARDEN" operator init --key-shares 1 --key-threshold 1 --format json >"$WORK/init.json"
UNSEAL_KEY=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unseal_keys_b64"][0])' "$WORK/init.json")
VAULT_TOKEN=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_token"])' "$WORK/init.json")
export VAULT_TOKEN
echo "\$ warden operator unseal <init.json's key>"
echo "$UNSEAL_KEY" | "$WARDEN" operator unseal | grep -E '^(Sealed|Unseal Progress)' 
echo "unsealed with the one share; the operator configures Vault's way, with curl:"
vault_api() {
	method=$1 path=$2
	shift 2
	curl -sS --fail-with-body --cacert "$VAULT_CACERT" -H "X-Vault-Token: $VAULT_TOKEN" \
		-X "$method" "$VAULT_ADDR/v1/$path" "$@"
}
vault_api POST sys/mounts/database -d '{"type":"database"}'
vault_api POST database/config/app -d "{\"plugin_name\":\"postgresql-database-plugin\",
	\"connection_url\":\"postgresql://{{username}}:{{password}}@/app?host=$PG_DIR\",
	\"username\":\"vault_admin\",\"password\":\"demo-root-password\",\"allowed_roles\":\"reader\"}"
vault_api POST database/roles/reader -d '{"db_name":"app","default_ttl":"8s","max_ttl":"1m",
	"creation_statements":["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '"'"'{{password}}'"'"' VALID UNTIL '"'"'{{expiration}}'"'"'; GRANT SELECT ON orders TO \"{{name}}\";"]}'
vault_api PUT sys/policies/acl/orders-reader \
	-d '{"policy":"path \"database/creds/reader\" { capabilities = [\"read\"] }"}'
vault_api POST sys/auth/cert -d '{"type":"cert"}'
vault_api POST auth/cert/certs/orders -d '{"allowed_uri_sans":"spiffe://example.org/orders",
	"token_policies":"orders-reader","token_ttl":"5m"}'
echo "database/ mounted, role reader (TTL 8 s), policy orders-reader, cert login for spiffe://example.org/orders"

echo "\$ warden svid mint --spiffe-id spiffe://example.org/orders --out orders"
"$WARDEN" svid mint --spiffe-id spiffe://example.org/orders --out "$WORK/orders" >/dev/null
echo "the workload logs in with its X.509-SVID over mutual TLS and asks for credentials:"
echo "\$ curl --cert orders/svid.pem --key orders/svid.key -X POST \$VAULT_ADDR/v1/auth/cert/login"
WORKLOAD_TOKEN=$(curl -sS --fail-with-body --cacert "$VAULT_CACERT" --cert "$WORK/orders/svid.pem" \
	--key "$WORK/orders/svid.key" -X POST "$VAULT_ADDR/v1/auth/cert/login" |
	/usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["auth"]; print(a["client_token"]); print("  token policies:", a["policies"], file=sys.stderr)')
curl -sS --fail-with-body --cacert "$VAULT_CACERT" -H "X-Vault-Token: $WORKLOAD_TOKEN" \
	"$VAULT_ADDR/v1/database/creds/reader" >"$WORK/creds.json"
DB_USER=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["username"])' "$WORK/creds.json")
DB_PASSWORD=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["password"])' "$WORK/creds.json")
LEASE_ID=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["lease_id"]); print("  lease", d["lease_id"], "for", d["lease_duration"], "s", file=sys.stderr)' "$WORK/creds.json")
echo "  user $DB_USER"
echo "psql logs in with them; SELECT works, INSERT is refused:"
PGPASSWORD=$DB_PASSWORD psql -h "$PG_DIR" -U "$DB_USER" -d app -qAt -c "SELECT count(*) || ' orders' FROM orders"
if PGPASSWORD=$DB_PASSWORD psql -h "$PG_DIR" -U "$DB_USER" -d app -qAt \
	-c "INSERT INTO orders VALUES (3, 'x')" 2>"$WORK/insert.err"; then
	echo "demo: the INSERT succeeded, but the role grants SELECT only" >&2
	exit 1
fi
sed 's/^/  /' "$WORK/insert.err"
show "$WARDEN" lease lookup "$LEASE_ID"
echo "a session stays open while the lease runs out..."
PGPASSWORD=$DB_PASSWORD psql -h "$PG_DIR" -U "$DB_USER" -d app -qAt -c "SELECT pg_sleep(60)" \
	>"$WORK/session.out" 2>&1 &
SESSION_PID=$!
for _ in $(seq 1 30); do
	[ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" ] && break
	sleep 1
done
wait "$SESSION_PID" 2>/dev/null || true
if [ -n "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" ]; then
	echo "demo: $DB_USER still exists after its lease ended" >&2
	exit 1
fi
echo "the lease ended: $DB_USER is gone from pg_roles, and its open session was ended:"
sed 's/^/  /' "$WORK/session.out"
echo "each secrets request is in the server's audit chain, its strings HMAC'd:"
grep -c '"action":"vault.request"' "$WORK/example.org/data/audit.log" | sed 's/^/  vault.request records: /'
grep '"object":"database/creds/reader"' "$WORK/example.org/data/audit.log" | tail -1 | cut -c1-220 | sed 's/^/  /'

step "an SBOM of this machine, and a cosign-compatible signature of the warden binary"
echo "\$ warden sbom / -o spdx-json --file sbom.spdx.json"
"$WARDEN" sbom / -o spdx-json --file "$WORK/sbom.spdx.json"
# The SBOM also lists Python, npm and Go packages and executables; only its
# Debian packages are what dpkg-query counts.
SBOM_COUNT=$(/usr/bin/python3 -c 'import json,sys; print(sum(p["SPDXID"].startswith("SPDXRef-Package-deb-") for p in json.load(open(sys.argv[1]))["packages"]))' "$WORK/sbom.spdx.json")
OTHER_COUNT=$(/usr/bin/python3 -c 'import json,sys; print(sum(not p["SPDXID"].startswith("SPDXRef-Package-deb-") for p in json.load(open(sys.argv[1]))["packages"]))' "$WORK/sbom.spdx.json")
DPKG_COUNT=$(dpkg-query -W -f '${Status}\n' | grep -c '^install ok installed$')
echo "the SBOM lists $SBOM_COUNT Debian packages; dpkg-query counts $DPKG_COUNT installed"
echo "it also lists $OTHER_COUNT Python, npm and Go packages and executables with their SHA-256"
[ "$SBOM_COUNT" = "$DPKG_COUNT" ] || { echo "demo: the SBOM and dpkg-query disagree" >&2; exit 1; }
"$WARDEN" sbom / | sed -n '1,4p'
cp "$WARDEN" "$WORK/warden-copy"
export COSIGN_PASSWORD=demo-password
show "$WARDEN" keygen --output-key-prefix "$WORK/cosign"
show "$WARDEN" sign-blob --key "$WORK/cosign.key" --output-signature "$WORK/warden.sig" "$WORK/warden-copy"
show "$WARDEN" verify-blob --key "$WORK/cosign.pub" --signature "$WORK/warden.sig" "$WORK/warden-copy"
base64 -d "$WORK/warden.sig" >"$WORK/warden.sig.der"
show openssl dgst -sha256 -verify "$WORK/cosign.pub" -signature "$WORK/warden.sig.der" "$WORK/warden-copy"
printf 'x' >>"$WORK/warden-copy"
echo "one byte appended to the binary:"
if "$WARDEN" verify-blob --key "$WORK/cosign.pub" --signature "$WORK/warden.sig" "$WORK/warden-copy" 2>&1 |
	sed 's/^/  /'; then :; fi
if "$WARDEN" verify-blob --key "$WORK/cosign.pub" --signature "$WORK/warden.sig" \
	"$WORK/warden-copy" >/dev/null 2>&1; then
	echo "demo: a modified binary verified" >&2
	exit 1
fi
unset COSIGN_PASSWORD

step "scan the SBOM against OSV records; sign a workload's binary with a SPIFFE identity; the server refuses an SVID to an unsigned copy"
# The workload is a copy of warden that fetches its own SVID; the copy
# with another byte appended has another digest, which no one signed. The
# signed copy gets a byte too, so that its entry does not match warden
# itself, which later steps run to fetch other workloads' SVIDs.
mkdir -p "$WORK/app"
chmod 0755 "$WORK/app"
cp "$WARDEN" "$WORK/app/app"
cp "$WARDEN" "$WORK/app/app-unsigned"
printf 'y' >>"$WORK/app/app"
printf 'x' >>"$WORK/app/app-unsigned"
APP_DIGEST=$(sha256sum "$WORK/app/app" | cut -d' ' -f1)
UNSIGNED_DIGEST=$(sha256sum "$WORK/app/app-unsigned" | cut -d' ' -f1)
show "$WARDEN" sbom "$WORK/app/app"
# Two OSV records for the Debian source package of bash: one affects the
# installed version, one was fixed long before it.
mkdir -p "$WORK/osv"
VERSION_ID=$(. /etc/os-release && echo "$VERSION_ID")
cat >"$WORK/osv/DEMO-2026-0001.json" <<EOF
{"schema_version": "1.6.0", "id": "DEMO-2026-0001", "modified": "2026-12-01T00:00:00Z",
 "summary": "demo: a flaw in every bash before 99:0",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:$VERSION_ID", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99:0"}]}]}]}
EOF
cat >"$WORK/osv/DEMO-2026-0002.json" <<EOF
{"schema_version": "1.6.0", "id": "DEMO-2026-0002", "modified": "2026-12-01T00:00:00Z",
 "summary": "demo: a flaw fixed in bash 1.0",
 "affected": [{"package": {"ecosystem": "Debian:$VERSION_ID", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}
EOF
echo "\$ warden scan sbom.spdx.json --db osv --fail-on high"
SCAN_STATUS=0
"$WARDEN" scan "$WORK/sbom.spdx.json" --db "$WORK/osv" --fail-on high || SCAN_STATUS=$?
echo "exit status $SCAN_STATUS: a match rated high or above fails the build"
[ "$SCAN_STATUS" = 1 ] || { echo "demo: the scan did not fail on the high match" >&2; exit 1; }
"$WARDEN" scan "$WORK/sbom.spdx.json" --db "$WORK/osv" -o sarif --file "$WORK/scan.sarif" || true
/usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["runs"][0]["results"]; print("SARIF results:", [(x["ruleId"], x["level"]) for x in r])' "$WORK/scan.sarif"
show "$WARDEN" svid mint --spiffe-id spiffe://example.org/ci/signer --out "$WORK/signer"
show "$WARDEN" sign-blob --svid "$WORK/signer/svid.pem" --svid-key "$WORK/signer/svid.key" \
	--bundle "$WORK/app.sigstore.json" --output-signature "$WORK/app.sig" "$WORK/app/app"
show "$WARDEN" verify-blob --bundle "$WORK/app.sigstore.json" --trust-bundle "$WORK/bundle.pem" \
	--spiffe-id spiffe://example.org/ci/signer "$WORK/app/app"
show "$WARDEN" signature add --file "$WORK/app/app" "$WORK/app.sigstore.json"
show "$WARDEN" entry create --spiffe-id spiffe://example.org/app --parent-id "$NODE_ID" \
	--selector "unix:sha256:$APP_DIGEST" --require-signed
show "$WARDEN" entry create --spiffe-id spiffe://example.org/app-unsigned --parent-id "$NODE_ID" \
	--selector "unix:sha256:$UNSIGNED_DIGEST" --require-signed
# The agent syncs every second; wait for the signed binary's SVID.
for _ in $(seq 1 100); do
	"$WORK/app/app" svid fetch --json 2>/dev/null | grep -q 'spiffe://example.org/app"' && break
	sleep 0.2
done
APP_IDS=$("$WORK/app/app" svid fetch --json | /usr/bin/python3 -c 'import json, sys; print(" ".join(s["spiffe_id"] for s in json.load(sys.stdin)["svids"]))')
UNSIGNED_IDS=$("$WORK/app/app-unsigned" svid fetch --json | /usr/bin/python3 -c 'import json, sys; print(" ".join(s["spiffe_id"] for s in json.load(sys.stdin)["svids"]))')
echo "the signed binary (sha256 ${APP_DIGEST%"${APP_DIGEST#????????????}"}...) got:   $APP_IDS"
echo "the unsigned copy (sha256 ${UNSIGNED_DIGEST%"${UNSIGNED_DIGEST#????????????}"}...) got: $UNSIGNED_IDS"
echo "the server's refusal:"
grep -m1 'requires a signed binary' "$WORK/example.org/server.log" | cut -c1-220 | sed 's/^/  /'
case " $APP_IDS " in *" spiffe://example.org/app "*) ;; *)
	echo "demo: the signed binary got no SVID for spiffe://example.org/app" >&2; exit 1 ;; esac
case " $UNSIGNED_IDS " in *" spiffe://example.org/app-unsigned "*)
	echo "demo: the unsigned copy got an SVID" >&2; exit 1 ;; esac
grep -q 'requires a signed binary' "$WORK/example.org/server.log" ||
	{ echo "demo: the server logged no refusal" >&2; exit 1; }

step "a compromised workload spawns a shell and reads a secret: the eBPF sensor alerts, revokes its identity and kills it"
if ! "$WARDEN" sensor events --help >/dev/null 2>&1; then
	echo "skipped: this warden was built without the eBPF sensor (clang, bpftool, libbpf-dev or /sys/kernel/btf/vmlinux missing)"
else
	# The workload runs as uid 4000 and owns a secret it has no business
	# reading. The sensor gets its own SVID from the agent, as root running
	# this warden binary.
	WEBAPP_UID=4000
	mkdir -p "$WORK/webapp"
	echo "api-key-for-the-demo" >"$WORK/webapp/api-key"
	chown -R "$WEBAPP_UID:$WEBAPP_UID" "$WORK/webapp"
	chmod 0600 "$WORK/webapp/api-key"
	show "$WARDEN" entry create --spiffe-id spiffe://example.org/webapp --parent-id "$NODE_ID" \
		--selector "unix:uid:$WEBAPP_UID"
	show "$WARDEN" entry create --spiffe-id spiffe://example.org/sensor --parent-id "$NODE_ID" \
		--selector unix:uid:0 --selector "unix:path:$WARDEN"
	for _ in $(seq 1 100); do
		setpriv --reuid=$WEBAPP_UID --regid=$WEBAPP_UID --clear-groups "$WARDEN" svid fetch \
			>/dev/null 2>&1 &&
			"$WARDEN" svid fetch --json | grep -q 'spiffe://example.org/sensor"' && break
		sleep 0.2
	done

	cat >"$WORK/rules.yaml" <<EOF
- list: sensitive_files
  items: [/etc/shadow, $WORK/webapp/api-key]
- list: shell_binaries
  items: [sh, bash, dash]
- rule: Shell in a workload
  desc: a workload process started a shell
  condition: evt.type = execve and proc.name in (shell_binaries) and user.uid = $WEBAPP_UID
  output: "shell started in a workload (user.uid=%user.uid cmdline=%proc.cmdline parent=%proc.pname)"
  priority: WARNING
  tags: [process, mitre_execution]
- rule: Workload reads a sensitive file
  desc: a workload process opened a file from the sensitive list
  condition: evt.type in (open, openat) and fd.name in (sensitive_files) and evt.is_open_read = true and user.uid = $WEBAPP_UID
  output: "%proc.name read %fd.name (user.uid=%user.uid pid=%proc.pid parent=%proc.pname)"
  priority: CRITICAL
  tags: [filesystem, mitre_credential_access]
  warden:
    actions: [revoke, kill]
- rule: Read sensitive file
  desc: a process read the shadow password file
  condition: evt.type in (open, openat) and fd.name = /etc/shadow and evt.is_open_read = true
  output: "%proc.name read %fd.name (user=%user.name parent=%proc.pname)"
  priority: WARNING
  tags: [filesystem, mitre_credential_access]
EOF
	cat "$WORK/rules.yaml"
	echo "\$ warden sensor run --rules rules.yaml --output alerts.json --server https://127.0.0.1:$PORT \\"
	echo "      --socket $WORK/agent/agent.sock --spiffe-id spiffe://example.org/sensor &"
	"$WARDEN" sensor run --rules "$WORK/rules.yaml" --output "$WORK/alerts.json" \
		--server "https://127.0.0.1:$PORT" --socket "$WORK/agent/agent.sock" \
		--spiffe-id spiffe://example.org/sensor 2>"$WORK/sensor.log" &
	SENSOR_PID=$!
	for _ in $(seq 1 300); do
		grep -q 'attached' "$WORK/sensor.log" 2>/dev/null && break
		kill -0 "$SENSOR_PID" 2>/dev/null || { cat "$WORK/sensor.log" >&2; exit 1; }
		sleep 0.1
	done
	grep -q 'attached' "$WORK/sensor.log" || { cat "$WORK/sensor.log" >&2; exit 1; }
	sed 's/^/  /' "$WORK/sensor.log"

	# The workload fetches its SVID, then an exploit turns its process into
	# a shell that reads the secret.
	echo "\$ (as uid $WEBAPP_UID) python3 webapp: fetch the SVID, then exec sh -c 'read key < api-key'"
	setpriv --reuid=$WEBAPP_UID --regid=$WEBAPP_UID --clear-groups /usr/bin/python3 -c '
import os, subprocess, sys, time
subprocess.run([sys.argv[1], "svid", "fetch", "--write", sys.argv[2]], check=True,
               stdout=subprocess.DEVNULL)
print("webapp: got my SVID, pid", os.getpid(), flush=True)
time.sleep(0.5)
os.execv("/bin/sh", ["sh", "-c", "read -r key < " + sys.argv[3] + "; echo webapp: stole the key; sleep 600"])
' "$WARDEN" "$WORK/webapp/svid" "$WORK/webapp/api-key" &
	WEBAPP_PID=$!
	WEBAPP_STATUS=""
	for _ in $(seq 1 100); do
		if ! kill -0 "$WEBAPP_PID" 2>/dev/null; then
			WEBAPP_STATUS=0
			wait "$WEBAPP_PID" || WEBAPP_STATUS=$?
			break
		fi
		sleep 0.1
	done
	if [ "$WEBAPP_STATUS" != 137 ]; then
		kill -9 "$WEBAPP_PID" 2>/dev/null || true
		echo "demo: the workload was not killed (status '$WEBAPP_STATUS')" >&2
		exit 1
	fi
	echo "the workload (pid $WEBAPP_PID) was killed by SIGKILL"
	echo "the sensor's alerts and responses:"
	sed 's/^/  /' "$WORK/alerts.json"
	grep -q '"rule":"Shell in a workload"' "$WORK/alerts.json" ||
		{ echo "demo: no alert for the shell" >&2; exit 1; }

	echo "the workload's SVID is on the server's CRL now:"
	for _ in $(seq 1 50); do
		"$WARDEN" crl show >"$WORK/crl-sensor.pem"
		cat "$WORK/bundle.pem" "$WORK/crl-sensor.pem" >"$WORK/bundle-crl-sensor.pem"
		openssl verify -crl_check -CAfile "$WORK/bundle-crl-sensor.pem" \
			"$WORK/webapp/svid/svid.pem" >/dev/null 2>&1 || break
		sleep 0.1
	done
	if openssl verify -crl_check -CAfile "$WORK/bundle-crl-sensor.pem" "$WORK/webapp/svid/svid.pem"; then
		echo "demo: the workload's SVID still verifies" >&2
		exit 1
	fi

	echo "\$ cat /etc/shadow >/dev/null"
	cat /etc/shadow >/dev/null
	for _ in $(seq 1 50); do
		grep -q '"rule":"Read sensitive file"' "$WORK/alerts.json" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '"rule":"Read sensitive file"' "$WORK/alerts.json" ||
		{ echo "demo: the sensor raised no alert for /etc/shadow" >&2; exit 1; }
	grep -m1 '"rule":"Read sensitive file"' "$WORK/alerts.json" | sed 's/^/  /'
	kill "$SENSOR_PID" 2>/dev/null || true
	wait "$SENSOR_PID" 2>/dev/null || true
	SENSOR_PID=
	echo "the server's audit chain holds the sensor's records:"
	grep '"action":"sensor\.\|"action":"svid.revoke"' "$WORK/example.org/data/audit.log" |
		/usr/bin/python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("  %s %s by %s: %s" % (r["action"], r["object"], r["actor"], r["outcome"]))'
	show "$WARDEN" audit verify "$WORK/example.org/data/audit.log"
fi

printf '\ndemo finished\n'
