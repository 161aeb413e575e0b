#!/usr/bin/env bash
# Generates the throwaway EC P-256 PKI of the proxy benchmark in DIR: a CA,
# the X.509-SVIDs of both sidecars, and two hostile client certificates
# (a wrong SPIFFE ID from the real CA, the right ID from a rogue CA).
#
# usage: bench/proxy/make_pki.sh DIR
#
# Files written: ca.{crt,key}, server.{crt,key,pem}, client.{crt,key,pem},
# intruder.{crt,key} (spiffe://example.org/intruder, real CA),
# rogue-ca.{crt,key}, rogue-client.{crt,key} (spiffe://example.org/client,
# rogue CA). A .pem file is the certificate followed by its key, the form
# HAProxy's crt option reads.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: bench/proxy/make_pki.sh DIR" >&2
	exit 2
fi
DIR=$1
TRUST_DOMAIN=spiffe://example.org
mkdir -p "$DIR"
chmod 700 "$DIR"

new_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/$1.key" 2>/dev/null
}

# Self-signed CA with the trust domain as its URI SAN, as a SPIFFE signing
# certificate carries it.
make_ca() {
	local name=$1 common_name=$2
	new_key "$name"
	openssl req -x509 -new -key "$DIR/$name.key" -sha256 -days 30 \
		-subj "/O=example.org/CN=$common_name" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectAltName=URI:$TRUST_DOMAIN" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$DIR/$name.crt"
}

# Leaf with the X.509-SVID profile: CA:FALSE, digitalSignature as the only
# (critical) key usage, serverAuth and clientAuth, one URI SAN.
make_leaf() {
	local name=$1 issuer=$2 san=$3
	new_key "$name"
	openssl req -new -key "$DIR/$name.key" -subj "/O=example.org/CN=$name" \
		-out "$DIR/$name.csr"
	cat >"$DIR/$name.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/$issuer.crt" \
		-CAkey "$DIR/$issuer.key" -CAcreateserial -days 30 -sha256 \
		-extfile "$DIR/$name.ext" -out "$DIR/$name.crt" 2>/dev/null
	cat "$DIR/$name.crt" "$DIR/$name.key" >"$DIR/$name.pem"
	rm -f "$DIR/$name.csr" "$DIR/$name.ext"
}

make_ca ca "proxy benchmark CA"
make_ca rogue-ca "rogue CA"
make_leaf server ca "URI:$TRUST_DOMAIN/server, DNS:inbound.example.org"
make_leaf client ca "URI:$TRUST_DOMAIN/client"
make_leaf intruder ca "URI:$TRUST_DOMAIN/intruder"
make_leaf rogue-client rogue-ca "URI:$TRUST_DOMAIN/client"

openssl verify -CAfile "$DIR/ca.crt" "$DIR/server.crt" "$DIR/client.crt" \
	"$DIR/intruder.crt" >/dev/null
