#!/usr/bin/python3
"""`warden attest` and `warden verify-attestation`. The DSSE envelope and
in-toto Statement are checked field by field, and Python's cryptography
package checks the signature over the PAE. An envelope that Python signs
verifies in warden, and every tampering is rejected with its reason. A real
warden server issues the X.509-SVID for the attestations signed with one."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import unittest

import wardenlib
from wardenlib import Server

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PASSWORD = "attest password"
INTOTO = "application/vnd.in-toto+json"
PREDICATE = {"spdxVersion": "SPDX-2.3", "name": "release", "packages": [{"name": "zlib"}]}
SIGNER = "spiffe://example.org/ci/attestor"


def pae(payload_type, payload):
    """The DSSE pre-authentication encoding, written from the protocol."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


class AttestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.env = dict(os.environ, COSIGN_PASSWORD=PASSWORD)
        for prefix in ("cosign", "other"):
            result = subprocess.run([wardenlib.WARDEN, "keygen", "--output-key-prefix",
                                     os.path.join(cls.dir.name, prefix)],
                                    env=cls.env, capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stderr
        with open(os.path.join(cls.dir.name, "cosign.pub"), "rb") as f:
            cls.public_key = serialization.load_pem_public_key(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def setUp(self):
        self.artifact = self.path("release.tar.gz")
        with open(self.artifact, "wb") as f:
            f.write(os.urandom(4096))
        with open(self.artifact, "rb") as f:
            self.digest = hashlib.sha256(f.read()).hexdigest()
        self.write_json("predicate.json", PREDICATE)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def write_json(self, name, value):
        with open(self.path(name), "w") as f:
            json.dump(value, f)
        return self.path(name)

    def warden(self, *args):
        return subprocess.run([wardenlib.WARDEN, *args], cwd=self.dir.name, env=self.env,
                              capture_output=True, text=True, check=False)

    def attest(self, kind="spdx", output="att.json"):
        result = self.warden("attest", "--key", "cosign.key", "--predicate", "predicate.json",
                             "--type", kind, "--output", output, self.artifact)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.path(output)) as f:
            return json.load(f)

    def verify(self, envelope="att.json", *extra, key="cosign.pub"):
        return self.warden("verify-attestation", "--key", key, *extra, self.artifact, envelope)

    def test_envelope_and_statement_are_exact(self):
        for kind, uri in (("spdx", "https://spdx.dev/Document"),
                          ("cyclonedx", "https://cyclonedx.org/bom"),
                          ("slsaprovenance", "https://slsa.dev/provenance/v1"),
                          ("https://example.com/review/v1", "https://example.com/review/v1")):
            with self.subTest(kind=kind):
                envelope = self.attest(kind)
                self.assertEqual(list(envelope), ["payload", "payloadType", "signatures"])
                self.assertEqual(envelope["payloadType"], INTOTO)
                self.assertEqual(len(envelope["signatures"]), 1)
                self.assertEqual(list(envelope["signatures"][0]), ["keyid", "sig"])
                self.assertEqual(envelope["signatures"][0]["keyid"], "")

                payload = base64.b64decode(envelope["payload"], validate=True)
                statement = json.loads(payload)
                self.assertEqual(list(statement), ["_type", "subject", "predicateType",
                                                   "predicate"])
                self.assertEqual(statement, {
                    "_type": "https://in-toto.io/Statement/v1",
                    "subject": [{"name": "release.tar.gz",
                                 "digest": {"sha256": self.digest}}],
                    "predicateType": uri,
                    "predicate": PREDICATE,
                })

                # The signature is ECDSA P-256 over SHA-256 of the PAE.
                signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
                self.public_key.verify(signature, pae(INTOTO, payload),
                                       ec.ECDSA(hashes.SHA256()))
                with self.assertRaises(InvalidSignature):
                    self.public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))

                result = self.verify("att.json", "--type", kind)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout, "Verified OK\n")
                self.assertEqual(result.stderr, f"Predicate type {uri}\n")

    def test_stdout_output(self):
        result = self.warden("attest", "--key", "cosign.key", "--predicate", "predicate.json",
                             "--type", "spdx", self.artifact)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.path("stdout.json"), "w") as f:
            f.write(result.stdout)
        self.assertEqual(self.verify("stdout.json").returncode, 0)

    def test_python_envelope_verifies(self):
        key = ec.generate_private_key(ec.SECP256R1())
        with open(self.path("python.pub"), "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        statement = json.dumps({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "other-name", "digest": {"sha512": "00", "sha256": self.digest}}],
            "predicateType": "https://cyclonedx.org/bom",
            "predicate": {"bomFormat": "CycloneDX"},
        }, indent=2).encode()
        signature = key.sign(pae(INTOTO, statement), ec.ECDSA(hashes.SHA256()))
        self.write_json("python.json", {
            "payloadType": INTOTO,
            "payload": base64.urlsafe_b64encode(statement).decode().rstrip("="),
            "signatures": [{"sig": base64.b64encode(signature).decode()}],
        })
        result = self.verify("python.json", "--type", "cyclonedx", key="python.pub")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_tampering_fails(self):
        envelope = self.attest()
        statement = json.loads(base64.b64decode(envelope["payload"]))

        changed = dict(statement, predicate={"spdxVersion": "SPDX-2.3", "name": "forged"})
        self.write_json("predicate-changed.json", dict(
            envelope, payload=base64.b64encode(json.dumps(changed).encode()).decode()))
        result = self.verify("predicate-changed.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("invalid signature", result.stderr)

        self.write_json("type-changed.json", dict(envelope, payloadType="application/json"))
        result = self.verify("type-changed.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("invalid signature", result.stderr)

        result = self.verify("att.json", key="other.pub")
        self.assertEqual(result.returncode, 1)
        self.assertIn("invalid signature", result.stderr)

        result = self.verify("att.json", "--type", "cyclonedx")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden verify-attestation: wrong predicate type: the "
                         "attestation has \"https://spdx.dev/Document\", expected "
                         "\"https://cyclonedx.org/bom\"\n")

        with open(self.artifact, "ab") as f:
            f.write(b"x")
        result = self.verify("att.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no subject of the in-toto Statement has the artifact's digest sha256:",
                      result.stderr)

    def test_bad_input_named(self):
        with open(self.path("list.json"), "w") as f:
            f.write("[1, 2]")
        result = self.warden("attest", "--key", "cosign.key", "--predicate", "list.json",
                             "--type", "spdx", self.artifact)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr,
                         "warden attest: list.json: the document is not a JSON object\n")

        result = self.warden("attest", "--key", "cosign.key", "--predicate", "predicate.json",
                             "--type", "sbom", self.artifact)
        self.assertEqual(result.returncode, 1)
        self.assertIn("invalid predicate type \"sbom\"", result.stderr)

        result = self.warden("attest", "--key", "cosign.key", "--type", "spdx", self.artifact)
        self.assertEqual(result.returncode, 2)
        self.assertIn("missing --predicate", result.stderr)

        self.write_json("no-signatures.json", {"payload": "e30=", "payloadType": INTOTO,
                                               "signatures": []})
        result = self.verify("no-signatures.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("field \"signatures\" is empty", result.stderr)


class SvidAttestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")
        cls.dir = tempfile.TemporaryDirectory()
        result = subprocess.run([wardenlib.WARDEN, "svid", "mint", "--spiffe-id", SIGNER,
                                 "--out", cls.dir.name, "--admin-socket",
                                 cls.server.admin_socket],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def warden(self, *args):
        return subprocess.run([wardenlib.WARDEN, *args], cwd=self.dir.name,
                              capture_output=True, text=True, check=False)

    def test_svid_attestation_is_a_bundle(self):
        with open(self.path("artifact"), "wb") as f:
            f.write(b"built by ci\n")
        with open(self.path("provenance.json"), "w") as f:
            json.dump({"buildDefinition": {"buildType": "https://example.com/build/v1"}}, f)
        result = self.warden("attest", "--svid", "svid.pem", "--svid-key", "svid.key",
                             "--predicate", "provenance.json", "--type", "slsaprovenance",
                             "--output", "att.sigstore.json", "artifact")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.path("att.sigstore.json")) as f:
            bundle = json.load(f)
        self.assertEqual(list(bundle), ["mediaType", "verificationMaterial", "dsseEnvelope"])
        self.assertEqual(list(bundle["verificationMaterial"]), ["certificate"])
        self.assertEqual(bundle["dsseEnvelope"]["payloadType"], INTOTO)

        trust = ("--trust-bundle", "bundle.pem", "--spiffe-id", SIGNER)
        result = self.warden("verify-attestation", *trust, "--type", "slsaprovenance",
                             "artifact", "att.sigstore.json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "Predicate type https://slsa.dev/provenance/v1\n"
                         f"Signed by {SIGNER}\n")

        # verify-blob reads the same bundle: a DSSE envelope about the file.
        result = self.warden("verify-blob", *trust, "--bundle", "att.sigstore.json", "artifact")
        self.assertEqual(result.returncode, 0, result.stderr)

        result = self.warden("verify-attestation", "--trust-bundle", "bundle.pem",
                             "--spiffe-id", "spiffe://example.org/ci/other", "artifact",
                             "att.sigstore.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("wrong signer: the certificate's SPIFFE ID is " + SIGNER, result.stderr)


if __name__ == "__main__":
    wardenlib.main()
