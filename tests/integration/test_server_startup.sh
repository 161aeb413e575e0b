#!/bin/sh
# Start-up checks of warden server: a busy admin socket, a damaged or
# missing audit chain and an open data directory each stop the server with
# a message naming the problem; SIGHUP does not stop it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

start_server a.example "$TMP/a"
first_pid=$SERVER_PID

# A second server must not take over the running server's socket.
status=0
"$WARDEN" server --trust-domain b.example --data-dir "$TMP/b/data" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
	--admin-socket "$TMP/a/admin.sock" >"$TMP/second.out" 2>&1 || status=$?
expect_eq "second server exit status" "$status" "1"
expect_grep "busy socket named" "another process is listening on admin socket $TMP/a/admin.sock" "$TMP/second.out"
health=$(curl -s --unix-socket "$TMP/a/admin.sock" http://x/v1/health | json_field trust_domain)
expect_eq "first server still answers" "$health" "a.example"

# Reserved identities cannot be registered or minted.
reply=$(admin_post "$TMP/a" /v1/svid/mint '{"spiffe_id": "spiffe://a.example/warden/server"}')
expect_eq "mint of the server identity refused" "$(printf '%s' "$reply" | json_field error | grep -c 'reserved for warden')" "1"
reply=$(admin_post "$TMP/a" /v1/entries '{"spiffe_id": "spiffe://a.example/warden", "parent_id": "spiffe://a.example/x", "selectors": ["a:b"]}')
expect_eq "entry for /warden refused" "$(printf '%s' "$reply" | json_field error | grep -c 'reserved for warden')" "1"

# SIGHUP renews the serving certificate and keeps the server running.
kill -HUP "$first_pid"
sleep 0.5
kill -0 "$first_pid" || fail "SIGHUP stopped the server"
expect_grep "SIGHUP logged" "SIGHUP: renewing the serving certificate" "$TMP/a/server.log"

kill "$first_pid"
wait "$first_pid" 2>/dev/null || true
[ ! -e "$TMP/a/admin.sock" ] || fail "the stopped server left its admin socket behind"

# An edited audit record stops the next start.
cp "$TMP/a/data/audit.log" "$TMP/audit.good"
sed -i 's/"server.start"/"server.started"/' "$TMP/a/data/audit.log"
status=0
"$WARDEN" server --trust-domain a.example --data-dir "$TMP/a/data" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
	--admin-socket "$TMP/a/admin.sock" >"$TMP/tampered.out" 2>&1 || status=$?
expect_eq "tampered audit exit status" "$status" "1"
expect_grep "tampered record named" "audit chain .* is broken at record 1" "$TMP/tampered.out"

# A deleted audit log with a populated datastore stops it too.
rm -f "$TMP/a/data/audit.log" "$TMP/a/data/audit.log.head"
status=0
"$WARDEN" server --trust-domain a.example --data-dir "$TMP/a/data" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
	--admin-socket "$TMP/a/admin.sock" >"$TMP/deleted.out" 2>&1 || status=$?
expect_eq "deleted audit exit status" "$status" "1"
expect_grep "missing audit log named" "audit log .* is missing but the datastore" "$TMP/deleted.out"

# A data directory that others can write to is refused.
mkdir -p "$TMP/open"
chmod 777 "$TMP/open"
status=0
"$WARDEN" server --trust-domain a.example --data-dir "$TMP/open" --listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 \
	--admin-socket "$TMP/open.sock" >"$TMP/open.out" 2>&1 || status=$?
expect_eq "open data dir exit status" "$status" "1"
expect_grep "open data dir named" "writable by group or others (mode 0777)" "$TMP/open.out"

finish
