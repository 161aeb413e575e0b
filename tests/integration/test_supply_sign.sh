#!/bin/sh
# `warden keygen`, `sign-blob` and `verify-blob` against OpenSSL: a key pair
# made with COSIGN_PASSWORD signs a file, and both warden and
# `openssl dgst -sha256 -verify` accept the signature and reject a tampered
# blob and a wrong key. An OpenSSL signature is also checked by warden.
set -eu
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl not found"
cd "$TMP"
export COSIGN_PASSWORD='test password'

# Exit status of a command, without tripping set -e.
status() {
	set +e
	"$@" >out.txt 2>err.txt </dev/null
	echo $?
	set -e
}

# Key generation: cosign's file names, mode and PEM types.
expect_eq "keygen exit" "$(status "$WARDEN" keygen)" 0
expect_eq "cosign.key mode" "$(stat -c %a cosign.key)" 600
expect_eq "cosign.key first line" "$(head -n 1 cosign.key)" \
	"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
expect_eq "cosign.pub first line" "$(head -n 1 cosign.pub)" "-----BEGIN PUBLIC KEY-----"
openssl pkey -pubin -in cosign.pub -noout -text >pub.txt
expect_grep "cosign.pub curve" "prime256v1" pub.txt
expect_eq "keygen keeps existing files" "$(status "$WARDEN" keygen)" 1
expect_grep "keygen existing message" "already exists" err.txt
expect_eq "keygen second pair" "$(status "$WARDEN" keygen --output-key-prefix other)" 0

# The envelope inside the PEM body is cosign's JSON layout.
sed '1d;$d' cosign.key | openssl base64 -d >envelope.json
expect_grep "envelope kdf" '"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1}' envelope.json
expect_grep "envelope cipher" '"cipher":{"name":"nacl/secretbox","nonce":' envelope.json

printf 'release artifact\n' >blob
printf 'release artifacT\n' >tampered

# Signing: stdout and --output-signature give signatures over the same
# digest (ECDSA is randomized, so the bytes differ).
expect_eq "sign-blob exit" "$(status "$WARDEN" sign-blob --key cosign.key blob)" 0
cp out.txt sig.stdout
expect_eq "sign-blob to file" \
	"$(status "$WARDEN" sign-blob --key cosign.key --output-signature sig.b64 blob)" 0
expect_eq "signature file has no newline" "$(wc -l <sig.b64 | tr -d ' ')" 0
expect_eq "sign-blob wrong password" \
	"$(COSIGN_PASSWORD=wrong status "$WARDEN" sign-blob --key cosign.key blob)" 1
expect_grep "wrong password message" "wrong password" err.txt

# warden verifies both outputs and rejects a tampered blob and a wrong key.
expect_eq "verify-blob exit" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --signature sig.b64 blob)" 0
expect_eq "verify-blob output" "$(cat out.txt)" "Verified OK"
expect_eq "verify-blob stdout signature" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --signature sig.stdout blob)" 0
expect_eq "verify-blob tampered" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --signature sig.b64 tampered)" 1
expect_grep "tampered message" "invalid signature" err.txt
expect_eq "verify-blob wrong key" \
	"$(status "$WARDEN" verify-blob --key other.pub --signature sig.b64 blob)" 1
expect_grep "wrong key message" "invalid signature" err.txt

# OpenSSL verifies the same signature, and rejects the same failures.
openssl base64 -d -A -in sig.b64 -out sig.der
expect_eq "openssl verify" \
	"$(status openssl dgst -sha256 -verify cosign.pub -signature sig.der blob)" 0
expect_grep "openssl verify output" "Verified OK" out.txt
expect_eq "openssl tampered" \
	"$(status openssl dgst -sha256 -verify cosign.pub -signature sig.der tampered)" 1
expect_eq "openssl wrong key" \
	"$(status openssl dgst -sha256 -verify other.pub -signature sig.der blob)" 1

# warden verifies a signature made by OpenSSL with an OpenSSL key.
openssl ecparam -name prime256v1 -genkey -noout -out ossl.key 2>/dev/null
openssl ec -in ossl.key -pubout -out ossl.pub 2>/dev/null
openssl dgst -sha256 -sign ossl.key -out ossl.der blob
openssl base64 -A -in ossl.der -out ossl.b64
expect_eq "verify openssl signature" \
	"$(status "$WARDEN" verify-blob --key ossl.pub --signature ossl.b64 blob)" 0
expect_eq "verify openssl signature, tampered" \
	"$(status "$WARDEN" verify-blob --key ossl.pub --signature ossl.b64 tampered)" 1

# Each reason for a failure is named.
printf 'not base64!' >bad.b64
expect_eq "malformed base64" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --signature bad.b64 blob)" 1
expect_grep "malformed base64 message" "malformed signature: not valid base64" err.txt
openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null
openssl pkey -in ed.key -pubout -out ed.pub
expect_eq "wrong key type" \
	"$(status "$WARDEN" verify-blob --key ed.pub --signature sig.b64 blob)" 1
expect_grep "wrong key type message" "wrong key type: ED25519" err.txt
expect_eq "missing --signature" "$(status "$WARDEN" verify-blob --key cosign.pub blob)" 2

# A key file under the older COSIGN PEM type still signs.
sed 's/SIGSTORE PRIVATE KEY/COSIGN PRIVATE KEY/' cosign.key >legacy.key
expect_eq "legacy key signs" \
	"$(status "$WARDEN" sign-blob --key legacy.key --output-signature legacy.b64 blob)" 0
expect_eq "legacy signature verifies" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --signature legacy.b64 blob)" 0

# Sigstore bundles: sign-blob --bundle writes a v0.3 bundle with the key's
# hint, the blob's digest and the signature, which verify-blob reads.
expect_eq "sign-blob --bundle" "$(status "$WARDEN" sign-blob --key cosign.key \
	--bundle blob.sigstore.json --output-signature bundle-sig.b64 blob)" 0
/usr/bin/python3 - blob.sigstore.json cosign.pub blob bundle-sig.b64 >bundle-check.txt <<'PY'
import base64, hashlib, json, subprocess, sys

bundle = json.load(open(sys.argv[1]))
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", sys.argv[2], "-outform", "DER"],
                     capture_output=True, check=True).stdout
expected = {
    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
    "verificationMaterial": {
        "publicKey": {"hint": base64.b64encode(hashlib.sha256(der).digest()).decode()}},
    "messageSignature": {
        "messageDigest": {
            "algorithm": "SHA2_256",
            "digest": base64.b64encode(hashlib.sha256(open(sys.argv[3], "rb").read()).digest()).decode()},
        "signature": open(sys.argv[4]).read()},
}
print("match" if bundle == expected else f"differs: {bundle} != {expected}")
PY
expect_eq "bundle layout" "$(cat bundle-check.txt)" "match"
expect_eq "verify-blob --bundle" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --bundle blob.sigstore.json blob)" 0
expect_eq "verify-blob --bundle output" "$(cat out.txt)" "Verified OK"
expect_eq "bundle, tampered blob" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --bundle blob.sigstore.json tampered)" 1
expect_grep "bundle, tampered blob message" "digest mismatch: the bundle signs sha256:" err.txt
expect_eq "bundle, wrong key" \
	"$(status "$WARDEN" verify-blob --key other.pub --bundle blob.sigstore.json blob)" 1
expect_grep "bundle, wrong key message" "invalid signature" err.txt
expect_eq "bundle and signature together" "$(status "$WARDEN" verify-blob --key cosign.pub \
	--bundle blob.sigstore.json --signature sig.b64 blob)" 2
expect_eq "bundle without trust" \
	"$(status "$WARDEN" verify-blob --bundle blob.sigstore.json blob)" 2
expect_grep "bundle without trust message" "missing --key, or --trust-bundle with --spiffe-id" err.txt
sed 's/bundle.v0.3+json/bundle.v0.9+json/' blob.sigstore.json >future.sigstore.json
expect_eq "unknown bundle version" \
	"$(status "$WARDEN" verify-blob --key cosign.pub --bundle future.sigstore.json blob)" 1
expect_grep "unknown bundle version message" \
	'unsupported mediaType "application/vnd.dev.sigstore.bundle.v0.9+json"' err.txt

# Without COSIGN_PASSWORD and a terminal there is no password to use.
expect_eq "no password source" \
	"$(status env -u COSIGN_PASSWORD setsid "$WARDEN" sign-blob --key cosign.key blob)" 1
expect_grep "no password message" "COSIGN_PASSWORD" err.txt

# The terminal prompt: script(1) gives warden a pseudo-terminal. The prompt
# flushes typed-ahead input, so each line is sent after a pause.
if command -v script >/dev/null; then
	(sleep 2; printf 'typed secret\n'; sleep 1; printf 'typed secret\n'; sleep 2) |
		env -u COSIGN_PASSWORD script -qec "'$WARDEN' keygen --output-key-prefix typed" \
			/dev/null >prompt.txt 2>&1 || true
	expect_grep "prompt shown" "Enter password for private key again: " prompt.txt
	expect_eq "prompt does not echo" "$(grep -c 'typed secret' prompt.txt || true)" 0
	(sleep 2; printf 'typed secret\n'; sleep 2) |
		env -u COSIGN_PASSWORD script -qec \
			"'$WARDEN' sign-blob --key typed.key --output-signature typed.b64 blob" \
			/dev/null >prompt.txt 2>&1 || true
	expect_eq "prompted key signs" \
		"$(status "$WARDEN" verify-blob --key typed.pub --signature typed.b64 blob)" 0
else
	echo "script(1) not found: the terminal prompt is not tested"
fi

finish
