#!/usr/bin/python3
"""Blob signatures made with an X.509-SVID from a real warden server:
`warden svid mint` writes the SVID, `warden sign-blob --svid` signs with its
key into a Sigstore bundle that carries the certificate, and
`warden verify-blob --trust-bundle --spiffe-id` checks the chain, the SPIFFE
ID and the signature. OpenSSL verifies the same signature with the key of
the bundle's certificate."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import unittest

import wardenlib
from wardenlib import Server, load_certs

from cryptography.hazmat.primitives import serialization

SIGNER = "spiffe://example.org/ci/builder"


class SvidSigningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")
        cls.other_server = Server("example.org")
        cls.dir = tempfile.TemporaryDirectory()
        cls.svid_dir = os.path.join(cls.dir.name, "svid")
        cls.other_dir = os.path.join(cls.dir.name, "other")
        cls.mint(cls.server, SIGNER, cls.svid_dir)
        cls.mint(cls.server, SIGNER, cls.other_dir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.other_server.cleanup()
        cls.dir.cleanup()

    @classmethod
    def mint(cls, server, spiffe_id, out_dir):
        result = subprocess.run([wardenlib.WARDEN, "svid", "mint", "--spiffe-id", spiffe_id,
                                 "--out", out_dir, "--admin-socket", server.admin_socket],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr

    def setUp(self):
        self.work = tempfile.TemporaryDirectory()
        self.blob = self.path("release.tar")
        with open(self.blob, "wb") as blob:
            blob.write(b"release contents\n" * 100)

    def tearDown(self):
        self.work.cleanup()

    def path(self, name):
        return os.path.join(self.work.name, name)

    def warden(self, *args):
        return subprocess.run([wardenlib.WARDEN, *args], capture_output=True, text=True,
                              check=False, cwd=self.work.name)

    def sign(self, svid_dir=None, bundle="blob.sigstore.json"):
        svid_dir = svid_dir or self.svid_dir
        result = self.warden("sign-blob", "--svid", os.path.join(svid_dir, "svid.pem"),
                             "--svid-key", os.path.join(svid_dir, "svid.key"),
                             "--bundle", bundle, "--output-signature", "blob.sig", self.blob)
        self.assertEqual(result.returncode, 0, result.stderr)
        return self.path(bundle)

    def verify(self, bundle, spiffe_id=SIGNER, trust_bundle=None, blob=None):
        trust_bundle = trust_bundle or os.path.join(self.svid_dir, "bundle.pem")
        return self.warden("verify-blob", "--trust-bundle", trust_bundle,
                           "--spiffe-id", spiffe_id, "--bundle", bundle, blob or self.blob)

    def test_bundle_carries_svid(self):
        bundle_path = self.sign()
        with open(bundle_path) as f:
            bundle = json.load(f)
        with open(os.path.join(self.svid_dir, "svid.pem")) as f:
            leaf = load_certs(f.read())[0]
        with open(self.blob, "rb") as f:
            digest = hashlib.sha256(f.read()).digest()
        with open(self.path("blob.sig")) as f:
            signature = f.read()

        self.assertEqual(bundle, {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"certificate": {"rawBytes": base64.b64encode(
                leaf.public_bytes(serialization.Encoding.DER)).decode()}},
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256",
                                  "digest": base64.b64encode(digest).decode()},
                "signature": signature},
        })

    def test_good_signature_verifies(self):
        result = self.verify(self.sign())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Verified OK\n")
        self.assertEqual(result.stderr, f"Signed by {SIGNER}\n")

    def test_tampered_blob_fails(self):
        bundle = self.sign()
        with open(self.blob, "ab") as blob:
            blob.write(b"x")
        result = self.verify(bundle)
        self.assertEqual(result.returncode, 1)
        self.assertIn("digest mismatch: the bundle signs sha256:", result.stderr)

    def test_wrong_key_fails(self):
        # The signature comes from another SVID's key while the bundle
        # names the first SVID's certificate.
        bundle_path = self.sign(svid_dir=self.other_dir)
        with open(bundle_path) as f:
            bundle = json.load(f)
        with open(os.path.join(self.svid_dir, "svid.pem")) as f:
            leaf = load_certs(f.read())[0]
        bundle["verificationMaterial"]["certificate"]["rawBytes"] = base64.b64encode(
            leaf.public_bytes(serialization.Encoding.DER)).decode()
        with open(bundle_path, "w") as f:
            json.dump(bundle, f)
        result = self.verify(bundle_path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden verify-blob: invalid signature: it does not "
                         "match the blob and public key\n")

        # A key file that is not the SVID's is refused at signing.
        result = self.warden("sign-blob", "--svid", os.path.join(self.svid_dir, "svid.pem"),
                             "--svid-key", os.path.join(self.other_dir, "svid.key"), self.blob)
        self.assertEqual(result.returncode, 1)
        self.assertIn("does not hold the private key of the first certificate", result.stderr)

    def test_wrong_spiffe_id_fails(self):
        result = self.verify(self.sign(), spiffe_id="spiffe://example.org/ci/deployer")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden verify-blob: wrong signer: the certificate's "
                         f"SPIFFE ID is {SIGNER}, expected spiffe://example.org/ci/deployer\n")

    def test_other_server_ca_fails(self):
        result = self.verify(self.sign(), trust_bundle=self.other_server.bundle_path)
        self.assertEqual(result.returncode, 1)
        self.assertIn("X.509-SVID chain verification failed at depth 0", result.stderr)

    def test_key_verification_of_svid_bundle_refused(self):
        pub = self.path("svid.pub")
        subprocess.run(["openssl", "x509", "-in", os.path.join(self.svid_dir, "svid.pem"),
                        "-pubkey", "-noout", "-out", pub], check=True)
        result = self.warden("verify-blob", "--key", pub, "--bundle", self.sign(), self.blob)
        self.assertEqual(result.returncode, 1)
        self.assertIn("comes with an X.509 certificate", result.stderr)

    def test_openssl_verifies_signature(self):
        bundle_path = self.sign()
        with open(bundle_path) as f:
            bundle = json.load(f)
        cert_der = base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"])
        signature = base64.b64decode(bundle["messageSignature"]["signature"])
        with open(self.path("leaf.der"), "wb") as f:
            f.write(cert_der)
        with open(self.path("sig.der"), "wb") as f:
            f.write(signature)
        subprocess.run(["openssl", "x509", "-inform", "DER", "-in", self.path("leaf.der"),
                        "-pubkey", "-noout", "-out", self.path("leaf.pub")], check=True)
        # OpenSSL also checks the chain against the server's bundle.
        chain = subprocess.run(["openssl", "verify", "-CAfile", self.server.bundle_path,
                                os.path.join(self.svid_dir, "svid.pem")],
                               capture_output=True, text=True, check=False)
        self.assertEqual(chain.returncode, 0, chain.stderr)

        good = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.path("leaf.pub"),
                               "-signature", self.path("sig.der"), self.blob],
                              capture_output=True, text=True, check=False)
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertEqual(good.stdout, "Verified OK\n")
        with open(self.blob, "ab") as blob:
            blob.write(b"x")
        bad = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.path("leaf.pub"),
                              "-signature", self.path("sig.der"), self.blob],
                             capture_output=True, text=True, check=False)
        self.assertEqual(bad.returncode, 1)

    def test_usage_errors(self):
        result = self.warden("verify-blob", "--trust-bundle", "b.pem", "--bundle", "x", "f")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--trust-bundle and --spiffe-id go together", result.stderr)
        result = self.warden("sign-blob", "--svid", "svid.pem", self.blob)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--svid and --svid-key go together", result.stderr)
        result = self.warden("sign-blob", "--key", "cosign.key", "--svid", "s.pem",
                             "--svid-key", "s.key", self.blob)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--key and --svid exclude each other", result.stderr)


if __name__ == "__main__":
    wardenlib.main()
