# shellcheck shell=bash disable=SC2034
# Contenders of the proxy benchmark, sourced by bench/proxy.sh. Each
# contender_NAME function writes its configuration into $RUN_DIR, starts its
# processes with `spawn ROLE LABEL COMMAND...` (ROLE is inbound or outbound)
# and sets ENTRY_PORT, the port wrk connects to.
#
# Every chain is: plain listener on $OUTBOUND_PORT (outbound sidecar), mTLS
# with TLS 1.3 to $INBOUND_PORT (inbound sidecar), plain HTTP to nginx on
# $BACKEND_PORT. The inbound requires a client certificate from ca.crt with
# the SPIFFE ID $CLIENT_ID; the outbound checks the server's chain and name.
# A new outbound connection makes a full handshake: HAProxy gets
# no-ssl-reuse, stunnel sessionResume = no and warden --no-resume.
#
# Also reads: $PKI, $PROXY_THREADS, $MAX_CONNECTIONS, $IDLE_TIMEOUT_SECONDS,
# $WARDEN, $CLIENT_ID, $SERVER_ID, $SERVER_NAME.

contender_direct() {
	ENTRY_PORT=$BACKEND_PORT
}

# The DER of a GeneralName uniformResourceIdentifier (context tag [6],
# primitive: 0x86), a one-byte length and the URI, in upper-case hex as
# HAProxy's hex converter prints it. The length byte makes the match exact:
# a longer URI with the same prefix has another length.
uri_san_der_hex() {
	local uri=$1
	if ((${#uri} > 127)); then
		echo "uri_san_der_hex: $uri is longer than 127 bytes; the short-form length does not fit" >&2
		return 1
	fi
	printf '86%02X%s' "${#uri}" "$(printf '%s' "$uri" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F)"
}

# Writes and checks the HAProxy configuration of one side (inbound or
# outbound) in MODE tcp or http.
write_haproxy_config() {
	local side=$1 mode=$2 file=$3 spiffe_hex reuse=""
	[[ $mode == http ]] && reuse="http-reuse always"
	cat >"$file" <<EOF
global
    nbthread $PROXY_THREADS
    maxconn $MAX_CONNECTIONS
    ssl-default-bind-options ssl-min-ver TLSv1.3
    ssl-default-server-options ssl-min-ver TLSv1.3

defaults
    mode $mode
    maxconn $MAX_CONNECTIONS
    timeout connect 5s
    timeout client ${IDLE_TIMEOUT_SECONDS}s
    timeout server ${IDLE_TIMEOUT_SECONDS}s
    timeout http-keep-alive ${IDLE_TIMEOUT_SECONDS}s
EOF
	if [[ $side == inbound ]]; then
		spiffe_hex=$(uri_san_der_hex "$CLIENT_ID")
		# HAProxy 2.6 has no fetch for a URI SAN, so the SPIFFE ID check looks
		# for the ID's DER GeneralName inside the verified client certificate.
		cat >>"$file" <<EOF

frontend mtls_in
    bind 127.0.0.1:$INBOUND_PORT ssl crt $PKI/server.pem ca-file $PKI/ca.crt verify required
    tcp-request session reject unless { ssl_c_verify 0 } { ssl_c_der,hex -m sub $spiffe_hex }
    default_backend app

backend app
    $reuse
    server nginx 127.0.0.1:$BACKEND_PORT
EOF
	else
		cat >>"$file" <<EOF

frontend plain_out
    bind 127.0.0.1:$OUTBOUND_PORT
    default_backend mesh

backend mesh
    $reuse
    server inbound 127.0.0.1:$INBOUND_PORT ssl crt $PKI/client.pem ca-file $PKI/ca.crt verify required verifyhost $SERVER_NAME sni str($SERVER_NAME) no-ssl-reuse
EOF
	fi
	haproxy -c -q -f "$file"
}

start_haproxy() {
	local mode=$1
	write_haproxy_config inbound "$mode" "$RUN_DIR/haproxy-$mode-inbound.cfg"
	write_haproxy_config outbound "$mode" "$RUN_DIR/haproxy-$mode-outbound.cfg"
	spawn inbound "haproxy-$mode-inbound" haproxy -db -f "$RUN_DIR/haproxy-$mode-inbound.cfg"
	spawn outbound "haproxy-$mode-outbound" haproxy -db -f "$RUN_DIR/haproxy-$mode-outbound.cfg"
	ENTRY_PORT=$OUTBOUND_PORT
}

contender_haproxy() { start_haproxy tcp; }

# HAProxy in HTTP mode with pooled server connections on both sides: the
# layer-7 peer of warden --http.
contender_haproxy_http() { start_haproxy http; }

# stunnel 5.68 checks a peer's DNS name, IP address or email address but no
# URI SAN, so its inbound accepts any client certificate from the CA. It runs
# a thread per connection, so PROXY_THREADS does not apply.
contender_stunnel() {
	cat >"$RUN_DIR/stunnel-inbound.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = warning
[mtls_in]
accept = 127.0.0.1:$INBOUND_PORT
connect = 127.0.0.1:$BACKEND_PORT
cert = $PKI/server.crt
key = $PKI/server.key
CAfile = $PKI/ca.crt
requireCert = yes
verifyChain = yes
sslVersionMin = TLSv1.3
EOF
	cat >"$RUN_DIR/stunnel-outbound.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = warning
[mesh_out]
client = yes
accept = 127.0.0.1:$OUTBOUND_PORT
connect = 127.0.0.1:$INBOUND_PORT
cert = $PKI/client.crt
key = $PKI/client.key
CAfile = $PKI/ca.crt
verifyChain = yes
checkHost = $SERVER_NAME
sni = $SERVER_NAME
sessionResume = no
sslVersionMin = TLSv1.3
EOF
	spawn inbound stunnel-inbound stunnel4 "$RUN_DIR/stunnel-inbound.conf"
	spawn outbound stunnel-outbound stunnel4 "$RUN_DIR/stunnel-outbound.conf"
	ENTRY_PORT=$OUTBOUND_PORT
}

# Starts warden proxy on both sides. LAYER is tcp (bytes relayed after the
# handshake) or http (each HTTP/1.1 request parsed and checked against the
# allow-list, no Rego policy). --no-resume makes every new connection a full
# handshake, as the other contenders are set up.
start_warden() {
	local layer=$1 layer_flags=() engine_flags
	[[ $layer == http ]] && layer_flags=(--http)
	engine_flags=(--workers "$PROXY_THREADS" --max-connections "$MAX_CONNECTIONS"
		--idle-timeout "${IDLE_TIMEOUT_SECONDS}s" --no-resume --access-log off)
	spawn inbound "warden-$layer-inbound" "$WARDEN" proxy \
		--inbound "127.0.0.1:$INBOUND_PORT" --forward "127.0.0.1:$BACKEND_PORT" \
		"${layer_flags[@]}" --allow "$CLIENT_ID" \
		--cert "$PKI/server.crt" --key "$PKI/server.key" --bundle "$PKI/ca.crt" \
		"${engine_flags[@]}"
	spawn outbound "warden-$layer-outbound" "$WARDEN" proxy \
		--outbound "127.0.0.1:$OUTBOUND_PORT" --upstream "127.0.0.1:$INBOUND_PORT" \
		"${layer_flags[@]}" --expect "$SERVER_ID" --server-name "$SERVER_NAME" \
		--cert "$PKI/client.crt" --key "$PKI/client.key" --bundle "$PKI/ca.crt" \
		"${engine_flags[@]}"
	ENTRY_PORT=$OUTBOUND_PORT
}

contender_warden_tcp() { start_warden tcp; }
contender_warden_http() { start_warden http; }
