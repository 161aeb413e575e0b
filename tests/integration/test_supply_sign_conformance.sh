#!/bin/sh
# `warden verify-blob` on the key-based case of the sigstore-conformance
# suite (managed-key-happy-path): the bundle's messageSignature over a.txt,
# checked with the case's key.pub. Only the signature is verified, not the
# bundle's transparency log entry, which verify-blob does not read.
set -eu
. "$(dirname "$0")/lib.sh"

# The suite lives outside the repository: WARDEN_SIGSTORE_CONFORMANCE names
# its folder of case folders.
CASES=${WARDEN_SIGSTORE_CONFORMANCE:-}
[ -n "$CASES" ] || skip "WARDEN_SIGSTORE_CONFORMANCE is not set to the sigstore-conformance cases"
CASE=$CASES/managed-key-happy-path
[ -f "$CASE/bundle.sigstore.json" ] || skip "no sigstore-conformance cases in $CASES"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON not found"
cd "$TMP"

# Exit status of a command, without tripping set -e.
status() {
	set +e
	"$@" >out.txt 2>err.txt </dev/null
	echo $?
	set -e
}

# Writes the bundle's signature to sig.b64 and the hex of its SHA-256
# message digest to stdout.
"$PYTHON" - "$CASE/bundle.sigstore.json" <<'PY' >digest.txt
import base64, json, sys

message = json.load(open(sys.argv[1]))["messageSignature"]
assert message["messageDigest"]["algorithm"] == "SHA2_256"
open("sig.b64", "w").write(message["signature"])
print(base64.b64decode(message["messageDigest"]["digest"]).hex())
PY

cp "$CASES/a.txt" artifact
expect_eq "bundle digest is a.txt's" "$(cat digest.txt)" \
	"$(openssl dgst -sha256 -r artifact | cut -d ' ' -f 1)"
expect_eq "verify conformance signature" \
	"$(status "$WARDEN" verify-blob --key "$CASE/key.pub" --signature sig.b64 artifact)" 0
expect_eq "verify output" "$(cat out.txt)" "Verified OK"

printf 'x' >>artifact
expect_eq "changed artifact fails" \
	"$(status "$WARDEN" verify-blob --key "$CASE/key.pub" --signature sig.b64 artifact)" 1
expect_grep "changed artifact message" "invalid signature" err.txt

finish
