#!/bin/sh
# The server's YAML configuration: every unknown or invalid setting is named
# with its file, line and key, and the server refuses to start.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

cat >"$TMP/bad.yaml" <<'YAML'
trust_domain: example.org
identity:
  ca_tll: 24h
  ca_key_type: ec-p999
limits:
  max_body_bytes: ten
YAML
status=0
"$WARDEN" server --config "$TMP/bad.yaml" --data-dir "$TMP/data" --admin-socket "$TMP/a.sock" \
	>"$TMP/out" 2>&1 || status=$?
expect_eq "bad config exit status" "$status" "1"
expect_grep "unknown key named" "bad.yaml:3.*identity.ca_tll" "$TMP/out"
expect_grep "bad enum named" "bad.yaml:4.*identity.ca_key_type" "$TMP/out"
expect_grep "bad size named" "bad.yaml:6.*limits.max_body_bytes" "$TMP/out"
[ ! -e "$TMP/data" ] || fail "a rejected configuration created the data directory"

status=0
"$WARDEN" server --data-dir "$TMP/data" --admin-socket "$TMP/a.sock" >"$TMP/out" 2>&1 || status=$?
expect_eq "missing trust domain exit status" "$status" "1"
expect_grep "missing trust domain named" "trust_domain" "$TMP/out"

status=0
"$WARDEN" server --trust-domain Bad_Domain --data-dir "$TMP/data" --admin-socket "$TMP/a.sock" \
	>"$TMP/out" 2>&1 || status=$?
expect_eq "invalid trust domain exit status" "$status" "1"
expect_grep "invalid trust domain named" "Bad_Domain" "$TMP/out"

status=0
"$WARDEN" server --bogus >"$TMP/out" 2>&1 || status=$?
expect_eq "unknown flag exit status" "$status" "2"

# A datastore URL is checked, and its password never echoed.
cat >"$TMP/store.yaml" <<'YAML'
trust_domain: example.org
datastore: mysql://warden:hunter2@db/warden
YAML
status=0
"$WARDEN" server --config "$TMP/store.yaml" --data-dir "$TMP/store-data" \
	--admin-socket "$TMP/a.sock" >"$TMP/out" 2>&1 || status=$?
expect_eq "bad datastore scheme exit status" "$status" "1"
expect_grep "bad datastore scheme named" 'invalid datastore: unsupported URL "mysql:\.\.\."; expected a postgres://' "$TMP/out"
! grep -q hunter2 "$TMP/out" || fail "the datastore password reached the output"

# A bare path has no scheme, and gets the hint to write sqlite:PATH.
status=0
"$WARDEN" server --trust-domain example.org --data-dir "$TMP/store-data" \
	--datastore "$TMP/store.sqlite3" --admin-socket "$TMP/a.sock" >"$TMP/out" 2>&1 || status=$?
expect_eq "datastore without scheme exit status" "$status" "1"
expect_grep "datastore without scheme named" "invalid datastore: the value has no URL scheme" "$TMP/out"

status=0
"$WARDEN" server --trust-domain example.org --data-dir "$TMP/store-data" \
	--datastore "postgres://warden:hunter2@/warden?host=$TMP/no-such-dir" \
	--admin-socket "$TMP/a.sock" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 \
	--secrets-listen 127.0.0.1:0 >"$TMP/out" 2>&1 || status=$?
expect_eq "unreachable datastore exit status" "$status" "1"
expect_grep "unreachable datastore named" 'cannot connect to PostgreSQL database .*warden' "$TMP/out"
expect_grep "unreachable datastore host named" 'no-such-dir' "$TMP/out"
! grep -q hunter2 "$TMP/out" || fail "the datastore password reached the output"

cat >"$TMP/good.yaml" <<'YAML'
trust_domain: good.example
log:
  format: json
identity:
  default_x509_svid_ttl: 30m
YAML
start_server good.example "$TMP/good" --config "$TMP/good.yaml"
expect_grep "JSON log lines" '"msg":"server started"' "$TMP/good/server.log"
mint=$(admin_post "$TMP/good" /v1/svid/mint '{"spiffe_id": "spiffe://good.example/x"}')
expires=$(printf '%s' "$mint" | json_field expires_at)
now=$(date +%s)
delta=$((expires - now))
[ "$delta" -ge 1790 ] && [ "$delta" -le 1801 ] || fail "default_x509_svid_ttl 30m gave an SVID expiring in $delta s"

# A data directory keeps the trust domain of the CA it holds.
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
status=0
"$WARDEN" server --trust-domain other.example --data-dir "$TMP/good/data" \
	--admin-socket "$TMP/other.sock" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 >"$TMP/out" 2>&1 || status=$?
expect_eq "foreign data dir exit status" "$status" "1"
expect_grep "foreign data dir named" "holds the CA of trust domain good.example, not other.example" "$TMP/out"

finish
