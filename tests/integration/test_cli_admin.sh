#!/bin/sh
# The operator commands against a real warden server over its admin socket:
# exact output lines and exit codes, and the SVID files, CRL and JWT that
# OpenSSL and the shell check independently.
set -eu
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

SOCK=$TMP/admin.sock
"$WARDEN" server --trust-domain example.org --data-dir "$TMP/data" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
	--admin-socket "$SOCK" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $SERVER_PID"

ready=no
for _ in $(seq 1 100); do
	if "$WARDEN" bundle show --admin-socket "$SOCK" >/dev/null 2>&1; then
		ready=yes
		break
	fi
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
if [ "$ready" != yes ]; then
	echo "FAIL: warden server did not answer on $SOCK within 10 s; its log:" >&2
	cat "$TMP/server.log" >&2
	exit 1
fi
export WARDEN_ADMIN_SOCKET="$SOCK"

# run CMD...: stdout to $TMP/out, stderr to $TMP/err, exit status to $status.
run() {
	status=0
	"$@" >"$TMP/out" 2>"$TMP/err" || status=$?
}

# field LABEL: the value of the first "LABEL : value" line of $TMP/out.
field() {
	sed -n "s/^$1 *: //p" "$TMP/out" | head -n 1
}

out() {
	cat "$TMP/out"
}

err() {
	cat "$TMP/err"
}

matches() {
	printf '%s\n' "$1" | grep -Eq -- "$2"
}

expect_match() {
	CHECKS_RUN=$((CHECKS_RUN + 1))
	if ! matches "$2" "$3"; then
		fail "$1: '$2' does not match /$3/"
	fi
}

# --- usage errors (exit 2) ---------------------------------------------------

run "$WARDEN" entry create --help
expect_eq "entry create --help status" "$status" "0"
expect_eq "entry create --help first line" "$(sed -n 1p "$TMP/out")" \
	"usage: warden entry create --spiffe-id ID --parent-id ID --selector TYPE:VALUE... [OPTIONS]"
expect_grep "entry create --help names --x509-svid-ttl" "--x509-svid-ttl DURATION" "$TMP/out"

run "$WARDEN" entry create --bogus
expect_eq "unknown option status" "$status" "2"
expect_eq "unknown option message" "$(sed -n 1p "$TMP/err")" \
	"warden entry create: unknown option '--bogus'"

run "$WARDEN" entry
expect_eq "entry without subcommand status" "$status" "2"

run "$WARDEN" entry frobnicate
expect_eq "unknown entry subcommand status" "$status" "2"
expect_grep "unknown entry subcommand message" "unknown command 'frobnicate'" "$TMP/err"

run "$WARDEN" token generate --ttl 10x
expect_eq "invalid --ttl status" "$status" "2"
expect_eq "invalid --ttl message" "$(err)" \
	"warden: invalid --ttl '10x': unknown unit 'x' (use d, h, m or s)"

run "$WARDEN" entry create --spiffe-id spiffe://example.org/x --parent-id spiffe://example.org/p
expect_eq "entry create without --selector status" "$status" "2"

run "$WARDEN" entry show
expect_eq "entry show without ID status" "$status" "2"

# --- token generate ----------------------------------------------------------

run "$WARDEN" token generate --ttl 10m
expect_eq "token generate status" "$status" "0"
expect_eq "token generate line count" "$(wc -l <"$TMP/out" | tr -d ' ')" "3"
expect_match "token line" "$(sed -n 1p "$TMP/out")" '^Token: [0-9a-f]{64}$'
expect_match "agent id line" "$(sed -n 2p "$TMP/out")" \
	'^agent id: spiffe://example.org/warden/agent/join_token/[0-9a-f]+$'
expect_match "expires line" "$(sed -n 3p "$TMP/out")" \
	'^Expires at: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
TOKEN=$(sed -n 's/^Token: //p' "$TMP/out")
AGENT=$(sed -n 's/^agent id: *//p' "$TMP/out")

run "$WARDEN" token generate --json
expect_eq "token generate --json status" "$status" "0"
expect_grep "token generate --json has agent_id" '"agent_id":"spiffe://example.org/' "$TMP/out"

# --- entry create / show / list / update / delete ----------------------------

run "$WARDEN" entry create --spiffe-id spiffe://example.org/web --parent-id "$AGENT" \
	--selector unix:uid:1000 --selector unix:gid:50 --dns-name web.example.org \
	--x509-svid-ttl 1h
expect_eq "entry create status" "$status" "0"
WEB_ID=$(field "Entry ID")
REVISION=$(field "Revision")
expect_match "entry id" "$WEB_ID" '^[0-9a-f-]{8,}$'
expect_match "entry revision" "$REVISION" '^[0-9]+$'
WEB_BLOCK="Entry ID      : $WEB_ID
SPIFFE ID     : spiffe://example.org/web
Parent ID     : $AGENT
Revision      : $REVISION
X509-SVID TTL : 1h
JWT-SVID TTL  : default
Selector      : unix:gid:50
Selector      : unix:uid:1000
DNS name      : web.example.org"
expect_eq "entry create output" "$(out)" "$WEB_BLOCK"

run "$WARDEN" entry show "$WEB_ID"
expect_eq "entry show status" "$status" "0"
expect_eq "entry show output" "$(out)" "$WEB_BLOCK"

run "$WARDEN" entry show "$WEB_ID" --json
expect_eq "entry show --json status" "$status" "0"
expect_grep "entry show --json id" "\"id\":\"$WEB_ID\"" "$TMP/out"
expect_grep "entry show --json ttl in seconds" '"x509_svid_ttl":3600' "$TMP/out"

run "$WARDEN" entry create --spiffe-id spiffe://example.org/db --parent-id "$AGENT" \
	--selector unix:uid:1001 --admin
expect_eq "admin entry create status" "$status" "0"
DB_ID=$(field "Entry ID")
expect_eq "admin entry Admin line" "$(field "Admin")" "true"

run "$WARDEN" entry list
expect_eq "entry list status" "$status" "0"
expect_eq "entry list header" "$(sed -n 1p "$TMP/out")" "Found 2 entries"
expect_eq "entry list blank after header" "$(sed -n 2p "$TMP/out")" ""
expect_eq "entry list block count" "$(grep -c '^Entry ID' "$TMP/out")" "2"
expect_eq "entry list blank lines" "$(grep -c '^$' "$TMP/out")" "2"

run "$WARDEN" entry list --spiffe-id spiffe://example.org/web
expect_eq "entry list by SPIFFE ID" "$(out)" "Found 1 entry

$WEB_BLOCK"

run "$WARDEN" entry list --selector unix:uid:1001
expect_eq "entry list by selector header" "$(sed -n 1p "$TMP/out")" "Found 1 entry"
expect_eq "entry list by selector id" "$(field "Entry ID")" "$DB_ID"

run "$WARDEN" entry list --parent-id spiffe://example.org/nobody
expect_eq "entry list with no match" "$(out)" "Found 0 entries"

run "$WARDEN" entry list --json
expect_eq "entry list --json status" "$status" "0"
expect_match "entry list --json shape" "$(out)" '^\{"entries":\[.*\],"next_page_token":""\}$'

run "$WARDEN" entry update "$WEB_ID" --selector unix:uid:2000 --jwt-svid-ttl 5m
expect_eq "entry update status" "$status" "0"
expect_eq "entry update output" "$(out)" "Entry ID      : $WEB_ID
SPIFFE ID     : spiffe://example.org/web
Parent ID     : $AGENT
Revision      : $((REVISION + 1))
X509-SVID TTL : 1h
JWT-SVID TTL  : 5m
Selector      : unix:uid:2000
DNS name      : web.example.org"

run "$WARDEN" entry update "$DB_ID" --no-admin
expect_eq "entry update --no-admin status" "$status" "0"
expect_eq "entry update --no-admin drops Admin" "$(field "Admin")" ""

run "$WARDEN" entry update "$WEB_ID"
expect_eq "entry update without options status" "$status" "2"

run "$WARDEN" entry create --spiffe-id spiffe://Example.org/x --parent-id "$AGENT" \
	--selector unix:uid:1
expect_eq "invalid SPIFFE ID status" "$status" "1"
expect_match "invalid SPIFFE ID message" "$(err)" '^warden: .*"spiffe://Example.org/x"'

run "$WARDEN" entry show no-such-entry
expect_eq "unknown entry status" "$status" "1"
expect_match "unknown entry message" "$(err)" '^warden: .*no-such-entry'

run "$WARDEN" entry delete "$DB_ID"
expect_eq "entry delete status" "$status" "0"
expect_eq "entry delete output" "$(out)" "Deleted entry $DB_ID"

run "$WARDEN" entry show "$DB_ID"
expect_eq "deleted entry show status" "$status" "1"

# --- svid mint ---------------------------------------------------------------

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/web --out "$TMP/web"
expect_eq "svid mint status" "$status" "0"
SERIAL=$(openssl x509 -in "$TMP/web/svid.pem" -noout -serial | cut -d= -f2)
SERIAL_LOWER=$(printf '%s' "$SERIAL" | tr 'A-F' 'a-f' | sed 's/^0*//')
expect_match "svid mint output" "$(out)" \
	"^Wrote X.509-SVID for spiffe://example.org/web \\(serial $SERIAL_LOWER, expires [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\\) to $TMP/web/svid.pem, svid.key and bundle.pem\$"
expect_eq "svid dir mode" "$(stat -c %a "$TMP/web")" "700"
expect_eq "svid.pem mode" "$(stat -c %a "$TMP/web/svid.pem")" "644"
expect_eq "svid.key mode" "$(stat -c %a "$TMP/web/svid.key")" "600"
expect_eq "bundle.pem mode" "$(stat -c %a "$TMP/web/bundle.pem")" "644"
expect_eq "openssl verify" "$(openssl verify -CAfile "$TMP/web/bundle.pem" "$TMP/web/svid.pem" 2>&1)" \
	"$TMP/web/svid.pem: OK"
openssl x509 -in "$TMP/web/svid.pem" -noout -ext subjectAltName >"$TMP/san"
expect_eq "SAN line count" "$(wc -l <"$TMP/san" | tr -d ' ')" "2"
expect_eq "SAN is exactly the URI" "$(sed -n 2p "$TMP/san" | tr -d ' ')" \
	"URI:spiffe://example.org/web"
expect_eq "key matches certificate" \
	"$(openssl pkey -in "$TMP/web/svid.key" -pubout 2>&1)" \
	"$(openssl x509 -in "$TMP/web/svid.pem" -noout -pubkey 2>&1)"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/api --dns-name api.example.org \
	--key-type ec-p384 --ttl 30m --out "$TMP/api"
expect_eq "svid mint with options status" "$status" "0"
expect_grep "svid mint DNS SAN" "DNS:api.example.org" \
	"$(openssl x509 -in "$TMP/api/svid.pem" -noout -ext subjectAltName >"$TMP/api-san"; echo "$TMP/api-san")"
expect_grep "svid mint P-384 key" "P-384" \
	"$(openssl pkey -in "$TMP/api/svid.key" -noout -text >"$TMP/api-key" 2>&1; echo "$TMP/api-key")"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/web
expect_eq "svid mint to stdout status" "$status" "0"
expect_eq "svid mint to stdout certificates" "$(grep -c 'BEGIN CERTIFICATE' "$TMP/out")" "2"
expect_eq "svid mint to stdout has no key" "$(grep -c 'PRIVATE KEY' "$TMP/out" || true)" "0"
expect_grep "svid mint to stdout explains the key" "--print-key" "$TMP/err"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/web --print-key
expect_eq "svid mint --print-key status" "$status" "0"
expect_grep "svid mint --print-key prints the key" "BEGIN PRIVATE KEY" "$TMP/out"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/web --json
expect_eq "svid mint --json status" "$status" "0"
expect_grep "svid mint --json serial" '"serial":' "$TMP/out"
expect_eq "svid mint --json without key" "$(grep -c 'private_key' "$TMP/out" || true)" "0"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/web --key-type dsa
expect_eq "svid mint bad key type status" "$status" "2"

run "$WARDEN" svid mint --out "$TMP/none"
expect_eq "svid mint without --spiffe-id status" "$status" "2"

# --- svid revoke and crl show ------------------------------------------------

run "$WARDEN" svid revoke --serial "$SERIAL"
expect_eq "svid revoke --serial status" "$status" "0"
expect_eq "svid revoke --serial output" "$(out)" "Revoked serial $SERIAL_LOWER"

run "$WARDEN" crl show
expect_eq "crl show status" "$status" "0"
cp "$TMP/out" "$TMP/crl.pem"
openssl crl -in "$TMP/crl.pem" -noout -text >"$TMP/crl.txt"
expect_grep "CRL lists the revoked serial" "Serial Number: $SERIAL\$" "$TMP/crl.txt"

run "$WARDEN" crl show --format der
expect_eq "crl show --format der status" "$status" "0"
cp "$TMP/out" "$TMP/crl.der"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text >"$TMP/crl-der.txt"
expect_grep "DER CRL lists the revoked serial" "Serial Number: $SERIAL\$" "$TMP/crl-der.txt"

# script(1) gives the command a terminal as stdout, where DER must not go.
if command -v script >/dev/null 2>&1; then
	status=0
	script -qec "'$WARDEN' crl show --format der" /dev/null >"$TMP/out" 2>&1 || status=$?
	expect_eq "crl show --format der to a terminal status" "$status" "2"
	expect_grep "crl show --format der to a terminal message" "not writing binary DER" "$TMP/out"
fi

run "$WARDEN" crl show --format text
expect_eq "crl show bad format status" "$status" "2"

run "$WARDEN" svid revoke --serial "$SERIAL" --spiffe-id spiffe://example.org/web
expect_eq "svid revoke with both flags status" "$status" "2"

run "$WARDEN" svid revoke
expect_eq "svid revoke with neither flag status" "$status" "2"

run "$WARDEN" svid mint --spiffe-id spiffe://example.org/db --out "$TMP/db1"
run "$WARDEN" svid mint --spiffe-id spiffe://example.org/db --out "$TMP/db2"
run "$WARDEN" svid revoke --spiffe-id spiffe://example.org/db
expect_eq "svid revoke --spiffe-id status" "$status" "0"
expect_eq "svid revoke --spiffe-id count" "$(grep -c '^Revoked serial [0-9a-f]*$' "$TMP/out")" "2"

run "$WARDEN" svid revoke --spiffe-id spiffe://example.org/db
expect_eq "svid revoke with nothing live" "$(out)" "No live SVIDs for spiffe://example.org/db"

run "$WARDEN" svid revoke --serial 0123456789abcdef
expect_eq "svid revoke unknown serial status" "$status" "1"

# --- jwt mint ----------------------------------------------------------------

run "$WARDEN" jwt mint --spiffe-id spiffe://example.org/web --audience api --audience db \
	--ttl 2m
expect_eq "jwt mint status" "$status" "0"
expect_eq "jwt mint line count" "$(wc -l <"$TMP/out" | tr -d ' ')" "1"
expect_match "jwt mint three base64url parts" "$(out)" \
	'^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
PAYLOAD=$(cut -d. -f2 "$TMP/out" | tr '_-' '/+')
case $((${#PAYLOAD} % 4)) in
2) PAYLOAD="$PAYLOAD==" ;;
3) PAYLOAD="$PAYLOAD=" ;;
esac
printf '%s' "$PAYLOAD" | base64 -d >"$TMP/jwt-payload" 2>/dev/null || true
expect_grep "jwt sub claim" '"sub":"spiffe://example.org/web"' "$TMP/jwt-payload"
expect_grep "jwt aud claim" '"aud":\["api","db"\]' "$TMP/jwt-payload"

run "$WARDEN" jwt mint --spiffe-id spiffe://example.org/web
expect_eq "jwt mint without --audience status" "$status" "2"

# --- bundle show and ca show -------------------------------------------------

run "$WARDEN" bundle show
expect_eq "bundle show status" "$status" "0"
expect_eq "bundle show is PEM" "$(sed -n 1p "$TMP/out")" "-----BEGIN CERTIFICATE-----"
expect_eq "bundle show matches the minted bundle" "$(out)" "$(cat "$TMP/web/bundle.pem")"

run "$WARDEN" bundle show --format spiffe
expect_eq "bundle show --format spiffe status" "$status" "0"
expect_match "SPIFFE bundle JSON" "$(out)" '^\{"keys":\['

run "$WARDEN" bundle show --format pem --json
expect_eq "bundle show --json with --format pem status" "$status" "2"

run "$WARDEN" ca show
expect_eq "ca show status" "$status" "0"
expect_eq "ca show trust domain" "$(sed -n 1p "$TMP/out")" "Trust domain  : example.org"
expect_eq "ca show active slot" "$(field "State")" "active"
expect_match "ca show fingerprint" "$(field "Fingerprint")" '^[0-9a-f]{64}$'
expect_match "ca show not after" "$(field "Not after")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'

run "$WARDEN" ca show --json
expect_eq "ca show --json status" "$status" "0"
expect_grep "ca show --json slots" '"slots":\[' "$TMP/out"

# --- agents ------------------------------------------------------------------

run "$WARDEN" agent list
expect_eq "agent list without agents" "$(out)" "Found 0 agents"

run "$WARDEN" agent evict --spiffe-id "$AGENT"
expect_eq "evict unknown agent status" "$status" "1"

run "$WARDEN" agent ban
expect_eq "agent ban without --spiffe-id status" "$status" "2"

# Attest a node with the join token over the identity API, so the agent
# commands have an agent to act on. The CSR travels as a JSON string.
PORT=$(sed -n 's/.* port=\([0-9]*\).*/\1/p' "$TMP/server.log" | head -n 1)
if command -v curl >/dev/null 2>&1 && [ -n "$PORT" ]; then
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TMP/node.key" -subj "/O=node" -out "$TMP/node.csr" 2>/dev/null
	CSR=$(awk '{ printf "%s\\n", $0 }' "$TMP/node.csr")
	printf '{"join_token":"%s","csr":"%s"}' "$TOKEN" "$CSR" >"$TMP/attest.json"
	# -k: the server's SVID names its SPIFFE ID, not 127.0.0.1, and a join
	# token attestation is what establishes trust in the first place.
	curl -sk -o "$TMP/attest.out" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$TMP/attest.json" "https://127.0.0.1:$PORT/v1/node/attest" \
		>"$TMP/attest.code" || true
	expect_eq "node attestation status" "$(cat "$TMP/attest.code")" "200"

	run "$WARDEN" agent list
	expect_eq "agent list status" "$status" "0"
	expect_eq "agent list header" "$(sed -n 1p "$TMP/out")" "Found 1 agent"
	expect_eq "agent list SPIFFE ID" "$(field "SPIFFE ID")" "$AGENT"
	expect_match "agent list serial" "$(field "Serial")" '^[0-9a-f]+$'
	expect_eq "agent list banned" "$(field "Banned")" "false"

	run "$WARDEN" agent ban --spiffe-id "$AGENT"
	expect_eq "agent ban status" "$status" "0"
	expect_eq "agent ban output" "$(out)" "Banned agent $AGENT"

	run "$WARDEN" agent list
	expect_eq "banned agent listed" "$(field "Banned")" "true"
	expect_eq "banned agent has no serial" "$(field "Serial")" "none"

	run "$WARDEN" agent evict --spiffe-id "$AGENT"
	expect_eq "agent evict status" "$status" "0"
	expect_eq "agent evict output" "$(out)" "Evicted agent $AGENT"

	run "$WARDEN" agent list --json
	expect_eq "agent list --json after evict" "$(out)" '{"agents":[],"next_page_token":""}'
else
	echo "note: curl or the server port is missing, so agent ban and evict are not run"
fi

# --- the server is unreachable -----------------------------------------------

run "$WARDEN" ca show --admin-socket "$TMP/missing.sock"
expect_eq "missing server status" "$status" "1"
expect_eq "missing server message" "$(err)" \
	"warden: cannot reach the warden server at $TMP/missing.sock: No such file or directory (is 'warden server' running? set --admin-socket or WARDEN_ADMIN_SOCKET)"

WARDEN_ADMIN_SOCKET=$TMP/other.sock run "$WARDEN" entry list
expect_eq "missing server from the environment status" "$status" "1"
expect_grep "missing server from the environment names the path" "$TMP/other.sock" "$TMP/err"

finish
