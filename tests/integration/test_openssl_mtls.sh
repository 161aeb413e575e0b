#!/bin/sh
# OpenSSL as an independent peer: openssl verify accepts warden's SVIDs,
# s_server and s_client complete mutual TLS with them, and s_server refuses
# an SVID from another trust domain.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

command -v openssl >/dev/null || skip "openssl not installed"

start_server example.org "$TMP/a"
start_server other.org "$TMP/b"

mint_to "$TMP/a" spiffe://example.org/web "$TMP/web"
mint_to "$TMP/a" spiffe://example.org/db "$TMP/db"
mint_to "$TMP/b" spiffe://other.org/intruder "$TMP/intruder"

openssl verify -CAfile "$TMP/web/bundle.pem" "$TMP/web/svid.pem" "$TMP/db/svid.pem" >"$TMP/verify.out" 2>&1 || true
expect_grep "web verifies" "web/svid.pem: OK" "$TMP/verify.out"
expect_grep "db verifies" "db/svid.pem: OK" "$TMP/verify.out"

openssl verify -CAfile "$TMP/web/bundle.pem" "$TMP/intruder/svid.pem" >"$TMP/foreign.out" 2>&1 || true
expect_grep "foreign SVID fails verify" "unable to get local issuer certificate" "$TMP/foreign.out"

san=$(openssl x509 -in "$TMP/web/svid.pem" -noout -ext subjectAltName | tail -1 | tr -d ' ')
expect_eq "URI SAN" "$san" "URI:spiffe://example.org/web"

port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -cert "$TMP/web/svid.pem" -key "$TMP/web/svid.key" \
	-CAfile "$TMP/web/bundle.pem" -Verify 2 -verify_return_error -rev -naccept 2 \
	>"$TMP/s_server.log" 2>&1 &
tls_server_pid=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $tls_server_pid"
for _ in $(seq 1 50); do
	grep -q ACCEPT "$TMP/s_server.log" 2>/dev/null && break
	sleep 0.1
done

(echo "hello"; sleep 1) | openssl s_client -connect "127.0.0.1:$port" -cert "$TMP/db/svid.pem" \
	-key "$TMP/db/svid.key" -CAfile "$TMP/web/bundle.pem" -verify_return_error -quiet -no_ign_eof \
	>"$TMP/s_client.out" 2>"$TMP/s_client.err" || true
expect_eq "mutual TLS echo" "$(head -1 "$TMP/s_client.out")" "olleh"
expect_grep "server saw the client SVID" "verify return:1" "$TMP/s_server.log"

(echo "let me in"; sleep 1) | openssl s_client -connect "127.0.0.1:$port" -cert "$TMP/intruder/svid.pem" \
	-key "$TMP/intruder/svid.key" -CAfile "$TMP/web/bundle.pem" -quiet -no_ign_eof \
	>"$TMP/intruder.out" 2>"$TMP/intruder.err" || true
expect_eq "intruder got no echo" "$(cat "$TMP/intruder.out")" ""
wait "$tls_server_pid" 2>/dev/null || true
expect_grep "s_server refused the foreign SVID" "unable to get local issuer certificate\|certificate verify failed" "$TMP/s_server.log"

finish
