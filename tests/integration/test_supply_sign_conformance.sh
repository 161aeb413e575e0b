#!/bin/sh
# `warden verify-blob --bundle` on the sigstore-conformance suite's bundles.
# Every key-based case runs: a happy path must verify with its key.pub, a
# "_fail" case must be rejected (managed-key-no-key_fail, which has no key,
# is run without one). Cases signed keylessly (a Fulcio certificate, Rekor
# log entries, timestamps) are skipped with the reason printed, because
# warden verifies X.509-SVID chains against a SPIFFE trust bundle, not
# Fulcio and Rekor. Each of them must still parse: a happy path has to get
# as far as asking for a trust bundle, and a "_fail" case that warden
# rejects on its own (bad media type, base64, empty chain, digest) is
# counted with its message.
set -eu
. "$(dirname "$0")/lib.sh"

# The suite lives outside the repository: WARDEN_SIGSTORE_CONFORMANCE names
# its folder of case folders.
CASES=${WARDEN_SIGSTORE_CONFORMANCE:-}
[ -n "$CASES" ] || skip "WARDEN_SIGSTORE_CONFORMANCE is not set to the sigstore-conformance cases"
[ -f "$CASES/managed-key-happy-path/bundle.sigstore.json" ] ||
	skip "no sigstore-conformance cases in $CASES"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON not found"
command -v openssl >/dev/null || skip "openssl not found"
cd "$TMP"

# Exit status of a command, without tripping set -e.
status() {
	set +e
	"$@" >out.txt 2>err.txt </dev/null
	echo $?
	set -e
}

# Prints "key" or "certificate": the kind of verification material.
material() {
	"$PYTHON" - "$1" <<'PY'
import json, sys

material = json.load(open(sys.argv[1]))["verificationMaterial"]
print("key" if "publicKey" in material else "certificate")
PY
}

# A key that signed none of the cases, for running keyless bundles through
# the parser.
openssl ecparam -name prime256v1 -genkey -noout -out unrelated.key 2>/dev/null
openssl ec -in unrelated.key -pubout -out unrelated.pub 2>/dev/null

VERIFIED=0
REJECTED=0
SKIPPED=0
for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	bundle=$dir/bundle.sigstore.json
	[ -f "$bundle" ] || continue
	artifact=$CASES/a.txt
	[ -f "$dir/artifact" ] && artifact=$dir/artifact

	if [ "$(material "$bundle")" = key ]; then
		if [ -f "$dir/key.pub" ]; then
			got=$(status "$WARDEN" verify-blob --key "$dir/key.pub" --bundle "$bundle" "$artifact")
		else
			got=$(status "$WARDEN" verify-blob --bundle "$bundle" "$artifact")
		fi
		case $name in
		*_fail)
			expect_eq "$name is rejected" "$([ "$got" != 0 ] && echo rejected)" rejected
			REJECTED=$((REJECTED + 1))
			echo "rejected $name: $(head -n 1 err.txt)"
			;;
		*)
			expect_eq "$name verifies" "$got" 0
			expect_eq "$name output" "$(cat out.txt)" "Verified OK"
			VERIFIED=$((VERIFIED + 1))
			echo "verified $name"
			;;
		esac
		continue
	fi

	got=$(status "$WARDEN" verify-blob --key unrelated.pub --bundle "$bundle" "$artifact")
	if grep -q "comes with an X.509 certificate" err.txt; then
		SKIPPED=$((SKIPPED + 1))
		echo "skipped $name: keyless (Fulcio certificate and Rekor entries) is not verified by warden"
	else
		case $name in
		*_fail)
			expect_eq "$name rejection exit" "$got" 1
			REJECTED=$((REJECTED + 1))
			echo "rejected $name: $(head -n 1 err.txt)"
			;;
		*)
			fail "$name: the parser rejected a valid bundle: $(cat err.txt)"
			;;
		esac
	fi
done

# The malformed bundles are rejected for their own reason, named.
check_message() {
	[ -d "$CASES/$1" ] || return 0
	status "$WARDEN" verify-blob --key unrelated.pub --bundle "$CASES/$1/bundle.sigstore.json" \
		"$CASES/a.txt" >/dev/null
	expect_grep "$1 message" "$2" err.txt
}
check_message bundle-unknown-version_fail \
	'unsupported mediaType "application/vnd.dev.sigstore.bundle+json;version=99.9"'
check_message bundle-invalid-base64-signature_fail \
	'field "messageSignature.signature" is not valid base64: "INVALID!!!BASE64!!!ENCODING===="'
check_message bundle-empty-certificate-chain_fail \
	'the certificate chain "verificationMaterial.x509CertificateChain.certificates" is empty'
check_message message-digest-mismatch_fail "digest mismatch: the bundle signs sha256:"

# The key-based happy path also fails once the artifact changes.
CASE=$CASES/managed-key-happy-path
cp "$CASES/a.txt" artifact
printf 'x' >>artifact
expect_eq "changed artifact fails" \
	"$(status "$WARDEN" verify-blob --key "$CASE/key.pub" --bundle "$CASE/bundle.sigstore.json" artifact)" 1
expect_grep "changed artifact message" "digest mismatch" err.txt

echo "$VERIFIED verified, $REJECTED rejected, $SKIPPED keyless skipped"
[ "$VERIFIED" -ge 1 ] || fail "no key-based happy path ran"
finish
