#!/usr/bin/python3
"""Admission control for signed binaries against a real warden server: an
entry with require_signed gets SVIDs only for a binary whose registered
signature verifies against admission.trusted_keys or
admission.trusted_spiffe_ids. Signatures come from `warden sign-blob` and
`warden attest` and are registered with `warden signature add`. The tests
ask for SVIDs through the /v1/svid/x509 and /v1/svid/jwt routes with a node
SVID, as the agent does; test_admission_agent.py runs a real agent."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import wardenlib
from wardenlib import Server, csr_pem

from cryptography.hazmat.primitives.asymmetric import ec

PASSWORD = "admission password"
BUILDER = "spiffe://example.org/ci/builder"
DEPLOYER = "spiffe://example.org/ci/deployer"
SPDX = "https://spdx.dev/Document"


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def admission_config(work):
    return ("admission:\n"
            f"  trusted_keys: [{os.path.join(work, 'trusted.pub')}]\n"
            f"  trusted_spiffe_ids: [{BUILDER}]\n"
            "  predicate_types: [spdx]\n")


class AdmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="warden-admission-")
        cls.env = dict(os.environ, COSIGN_PASSWORD=PASSWORD)
        for prefix in ("trusted", "untrusted"):
            result = subprocess.run([wardenlib.WARDEN, "keygen", "--output-key-prefix",
                                     os.path.join(cls.work, prefix)],
                                    env=cls.env, capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stderr
        cls.server = Server("example.org", config=admission_config(cls.work))
        cls.other_server = Server("example.org")
        cls.agent_id, cls.node_cert, cls.node_key = cls.server.new_agent()
        cls.builder = cls.mint_svid(cls.server, BUILDER, "builder")
        cls.deployer = cls.mint_svid(cls.server, DEPLOYER, "deployer")
        cls.foreign_builder = cls.mint_svid(cls.other_server, BUILDER, "foreign")
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.other_server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def mint_svid(cls, server, spiffe_id, name):
        """Mints an X.509-SVID; returns (cert path, key path, serial)."""
        reply = server.mint(spiffe_id)
        cert = os.path.join(cls.work, f"{name}.pem")
        key = os.path.join(cls.work, f"{name}.key")
        with open(cert, "w") as f:
            f.write(reply["svid"])
        with open(key, "w") as f:
            f.write(reply["private_key"])
        os.chmod(key, 0o600)
        return cert, key, reply["serial"]

    # Helpers ---------------------------------------------------------------

    def path(self, name):
        return os.path.join(self.work, name)

    def warden(self, *args):
        env = dict(self.env, WARDEN_ADMIN_SOCKET=self.server.admin_socket)
        return subprocess.run([wardenlib.WARDEN, *args], cwd=self.work, env=env,
                              capture_output=True, text=True, check=False)

    def binary(self, name):
        """Writes a fresh binary; returns its path and hex SHA-256."""
        type(self).count += 1
        path = self.path(f"{name}-{self.count}")
        with open(path, "wb") as f:
            f.write(b"\x7fELF binary %d %s\n" % (self.count, os.urandom(16).hex().encode()))
        return path, sha256_file(path)

    def sign_key(self, blob, key="trusted.key"):
        bundle = blob + ".sigstore.json"
        result = self.warden("sign-blob", "--key", key, "--bundle", bundle, blob)
        self.assertEqual(result.returncode, 0, result.stderr)
        return bundle

    def sign_svid(self, blob, svid):
        bundle = blob + ".svid.sigstore.json"
        result = self.warden("sign-blob", "--svid", svid[0], "--svid-key", svid[1],
                             "--bundle", bundle, blob)
        self.assertEqual(result.returncode, 0, result.stderr)
        return bundle

    def attest(self, blob, kind="spdx", key="trusted.key"):
        predicate = self.path("predicate.json")
        with open(predicate, "w") as f:
            json.dump({"spdxVersion": "SPDX-2.3", "name": "release"}, f)
        envelope = blob + f".{kind}.intoto.json"
        result = self.warden("attest", "--key", key, "--predicate", predicate, "--type", kind,
                             "--output", envelope, blob)
        self.assertEqual(result.returncode, 0, result.stderr)
        return envelope

    def add(self, bundle, blob=None, digest=None):
        target = ["--file", blob] if blob else ["--digest", f"sha256:{digest}"]
        return self.warden("signature", "add", "--json", *target, bundle)

    def add_ok(self, bundle, blob):
        result = self.add(bundle, blob)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def entry(self, digest, require_signed=True, name=None):
        type(self).count += 1
        spiffe_id = f"spiffe://example.org/app/{name or 'w'}{self.count}"
        return self.server.create_entry(spiffe_id, self.agent_id,
                                        selectors=("unix:uid:0", f"unix:sha256:{digest}"),
                                        require_signed=require_signed)

    def issue_x509(self, entry):
        key = ec.generate_private_key(ec.SECP256R1())
        return self.server.tls("POST", "/v1/svid/x509",
                               {"entry_id": entry["id"], "csr": csr_pem(key)},
                               cert=self.node_cert, key=self.node_key)

    def issue_jwt(self, entry):
        return self.server.tls("POST", "/v1/svid/jwt",
                               {"entry_id": entry["id"], "audience": ["db"]},
                               cert=self.node_cert, key=self.node_key)

    def audit_records(self):
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def records(self, action, obj):
        return [r for r in self.audit_records()
                if r.get("action") == action and r.get("object") == obj]

    def assert_refused(self, entry, message):
        admitted = len(self.records("svid.admit", entry["spiffe_id"]))
        for issue, action in ((self.issue_x509, "svid.issue"), (self.issue_jwt, "jwt.issue")):
            denied_before = [r for r in self.records(action, entry["spiffe_id"])
                             if r["outcome"] == "denied"]
            response = issue(entry)
            self.assertEqual(response.status, 403, response)
            self.assertEqual(response.json()["error"]["code"], "EPERM")
            self.assertEqual(response.error_message(), message)
            denied = [r for r in self.records(action, entry["spiffe_id"])
                      if r["outcome"] == "denied"]
            self.assertEqual(len(denied), len(denied_before) + 1)
            self.assertEqual(denied[-1]["actor"], self.agent_id)
            self.assertEqual(denied[-1]["detail"], message)
        self.assertEqual(len(self.records("svid.admit", entry["spiffe_id"])), admitted)
        self.assertIn(f"svid issuance refused by admission control entry_id={entry['id']}",
                      self.server.read_log())

    def assert_issued(self, entry, signature):
        response = self.issue_x509(entry)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["spiffe_id"], entry["spiffe_id"])
        response = self.issue_jwt(entry)
        self.assertEqual(response.status, 200, response)
        admitted = self.records("svid.admit", entry["spiffe_id"])
        self.assertEqual(len(admitted), 2)
        digest = signature["digest"].split(":")[1]
        self.assertEqual(admitted[0]["detail"],
                         f"entry={entry['id']} sha256:{digest} signature={signature['id']} "
                         f"signer={signature['signer']}")
        self.assertEqual(admitted[0]["actor"], self.agent_id)

    # Issuance ------------------------------------------------------------

    def test_key_signed_binary_issued(self):
        blob, digest = self.binary("app")
        signature = self.add_ok(self.sign_key(blob), blob)
        self.assertEqual(signature["digest"], f"sha256:{digest}")
        self.assertEqual(signature["kind"], "signature")
        self.assertRegex(signature["signer"], r"^key:[A-Za-z0-9+/]{43}=$")
        self.assertEqual(signature["predicate_type"], "")
        self.assert_issued(self.entry(digest), signature)

        added = [r for r in self.records("signature.add", f"sha256:{digest}")]
        self.assertEqual(len(added), 1)
        self.assertEqual(added[0]["outcome"], "success")
        self.assertEqual(added[0]["detail"], f"id={signature['id']} kind=signature "
                         f"signer={signature['signer']}")

    def test_svid_signed_binary_issued(self):
        blob, digest = self.binary("app")
        signature = self.add_ok(self.sign_svid(blob, self.builder), blob)
        self.assertEqual(signature["signer"], BUILDER)
        self.assert_issued(self.entry(digest), signature)

    def test_attestation_admits_binary(self):
        blob, digest = self.binary("app")
        signature = self.add_ok(self.attest(blob), blob)
        self.assertEqual(signature["kind"], "attestation")
        self.assertEqual(signature["predicate_type"], SPDX)
        self.assert_issued(self.entry(digest), signature)

    def test_unsigned_digest_refused(self):
        blob, _ = self.binary("app")
        self.add_ok(self.sign_key(blob), blob)
        # A modified copy of the signed binary has a digest of its own.
        modified = blob + ".modified"
        shutil.copyfile(blob, modified)
        with open(modified, "ab") as f:
            f.write(b"\x90")
        digest = sha256_file(modified)
        entry = self.entry(digest)
        self.assert_refused(entry, f"entry {entry['id']} requires a signed binary: "
                                   f"sha256:{digest} has no registered signature")

    def test_flag_off_issued_as_before(self):
        _, digest = self.binary("app")
        entry = self.entry(digest, require_signed=False)
        self.assertIs(entry["require_signed"], False)
        self.assertEqual(self.issue_x509(entry).status, 200)
        self.assertEqual(self.issue_jwt(entry).status, 200)
        self.assertEqual(self.records("svid.admit", entry["spiffe_id"]), [])
        issued = self.records("svid.issue", entry["spiffe_id"])
        self.assertEqual([r["outcome"] for r in issued], ["success"])

    def test_deleted_signature_refuses_again(self):
        blob, digest = self.binary("app")
        signature = self.add_ok(self.sign_key(blob), blob)
        entry = self.entry(digest)
        self.assertEqual(self.issue_x509(entry).status, 200)

        result = self.warden("signature", "delete", signature["id"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"Deleted signature {signature['id']}\n")
        self.assert_refused(entry, f"entry {entry['id']} requires a signed binary: "
                                   f"sha256:{digest} has no registered signature")
        deleted = self.records("signature.delete", f"sha256:{digest}")
        self.assertEqual([(r["outcome"], r["detail"]) for r in deleted],
                         [("success", signature["id"])])

    def test_revoked_signer_refused_at_issuance(self):
        svid = self.mint_svid(self.server, BUILDER, "revoked")
        blob, digest = self.binary("app")
        signature = self.add_ok(self.sign_svid(blob, svid), blob)
        entry = self.entry(digest)
        self.assertEqual(self.issue_x509(entry).status, 200)

        response = self.server.admin("POST", "/v1/svid/revoke", {"serial": svid[2]})
        self.assertEqual(response.status, 200, response)
        self.assert_refused(entry, f"entry {entry['id']} requires a signed binary: no "
                                   f"signature of sha256:{digest} verifies now (1 registered; "
                                   f"signature {signature['id']}: the signer's X.509-SVID "
                                   f"(serial {svid[2]} of {BUILDER}) is revoked)")

        # A new signature by a current SVID admits the binary again.
        fresh = self.add_ok(self.sign_svid(blob, self.builder), blob)
        self.assertEqual(self.issue_x509(entry).status, 200)
        self.assertEqual(self.records("svid.admit", entry["spiffe_id"])[-1]["detail"],
                         f"entry={entry['id']} sha256:{digest} signature={fresh['id']} "
                         f"signer={BUILDER}")

    # Rejected at upload ----------------------------------------------------

    def assert_rejected(self, result, message, digest):
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertEqual(result.stderr, f"warden: signature rejected: {message}\n")
        listed = self.warden("signature", "list", "--json", "--digest", f"sha256:{digest}")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(json.loads(listed.stdout), {"signatures": []})
        failed = self.records("signature.add", f"sha256:{digest}")
        self.assertEqual(len(failed), 1)
        self.assertNotEqual(failed[0]["outcome"], "success")
        self.assertEqual(failed[0]["detail"], f"signature rejected: {message}")

    def test_untrusted_key_rejected(self):
        blob, digest = self.binary("app")
        bundle = self.sign_key(blob, key="untrusted.key")
        with open(bundle) as f:
            hint = json.load(f)["verificationMaterial"]["publicKey"]["hint"]
        self.assert_rejected(self.add(bundle, blob),
                             "untrusted signer: the signature does not verify with "
                             "admission.trusted_keys, and the bundle names key "
                             f"{hint}, which is not one of them", digest)

    def test_untrusted_key_attestation_rejected(self):
        blob, digest = self.binary("app")
        self.assert_rejected(self.add(self.attest(blob, key="untrusted.key"), blob),
                             "invalid signature: none of the DSSE envelope's 1 signatures "
                             "matches its payload and the public key", digest)

    def test_wrong_spiffe_id_rejected(self):
        blob, digest = self.binary("app")
        self.assert_rejected(self.add(self.sign_svid(blob, self.deployer), blob),
                             "untrusted signer: the certificate's SPIFFE ID is "
                             f"{DEPLOYER}, which admission.trusted_spiffe_ids does not list",
                             digest)

    def test_foreign_ca_rejected(self):
        blob, digest = self.binary("app")
        result = self.add(self.sign_svid(blob, self.foreign_builder), blob)
        self.assertEqual(result.returncode, 1)
        self.assertIn("X.509-SVID chain verification failed at depth 0", result.stderr)
        self.assertEqual(self.records("signature.add", f"sha256:{digest}")[0]["outcome"],
                         "error")

    def test_wrong_predicate_type_rejected(self):
        blob, digest = self.binary("app")
        self.assert_rejected(self.add(self.attest(blob, kind="cyclonedx"), blob),
                             "wrong predicate type: the attestation has "
                             "\"https://cyclonedx.org/bom\", which admission.predicate_types "
                             "does not list", digest)

    def test_signature_of_other_binary_rejected(self):
        blob, _ = self.binary("app")
        other, other_digest = self.binary("other")
        result = self.add(self.sign_key(blob), other)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"^warden: signature rejected: digest mismatch: the "
                         r"bundle signs sha256:[0-9a-f]{64}, the artifact is sha256:"
                         + other_digest + "\n$")

    def test_duplicate_signature_rejected(self):
        blob, digest = self.binary("app")
        bundle = self.sign_key(blob)
        first = self.add_ok(bundle, blob)
        result = self.add(bundle, blob)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, f"warden: duplicate signature: signature {first['id']} "
                         f"of sha256:{digest} has the same content\n")

    # Entries, CLI and configuration -------------------------------------------

    def test_entry_needs_digest(self):
        result = self.warden("entry", "create", "--spiffe-id", "spiffe://example.org/nodigest",
                             "--parent-id", self.agent_id, "--selector", "unix:uid:0",
                             "--require-signed")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden: entry spiffe://example.org/nodigest requires "
                         "signed binaries, but has no unix:sha256 selector that names one\n")

        _, digest = self.binary("app")
        result = self.warden("entry", "create", "--spiffe-id", "spiffe://example.org/flagged",
                             "--parent-id", self.agent_id, "--selector", "unix:uid:0",
                             "--selector", f"unix:sha256:{digest}", "--require-signed")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Require signed: true\n", result.stdout)
        entry_id = re.search(r"Entry ID +: (\S+)", result.stdout).group(1)

        result = self.warden("entry", "update", entry_id, "--selector", "unix:uid:0")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, f"warden: entry {entry_id} (spiffe://example.org/"
                         "flagged) requires signed binaries, but has no unix:sha256 selector "
                         "that names one\n")
        result = self.warden("entry", "update", entry_id, "--no-require-signed", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIs(json.loads(result.stdout)["require_signed"], False)
        result = self.warden("entry", "show", entry_id)
        self.assertNotIn("Require signed", result.stdout)

    def test_signature_cli(self):
        blob, digest = self.binary("app")
        bundle = self.sign_key(blob)
        result = self.warden("signature", "add", "--digest", f"sha256:{digest.upper()}", bundle)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"^Signature ID  : [0-9a-f-]{36}\n"
                         rf"Digest        : sha256:{digest}\n"
                         r"Kind          : signature\n"
                         r"Signer        : key:\S+\n"
                         r"Created at    : \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$")
        listed = self.warden("signature", "list", "--digest", f"sha256:{digest}")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(listed.stdout, "Found 1 signature\n\n" + result.stdout)

        for args, message in (
                ((bundle,), "give exactly one of --digest and --file"),
                (("--digest", "sha256:00", "--file", blob, bundle),
                 "give exactly one of --digest and --file"),
                (("--digest", "sha256:00"), "missing BUNDLE")):
            usage = self.warden("signature", "add", *args)
            self.assertEqual(usage.returncode, 2, usage.stderr)
            self.assertIn(message, usage.stderr)
        bad = self.warden("signature", "add", "--digest", "md5:00", bundle)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stderr, "warden: invalid \"digest\" \"md5:00\": expected sha256: "
                         "and 64 hex digits\n")
        missing = self.warden("signature", "delete", "0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55")
        self.assertEqual(missing.returncode, 1)
        self.assertEqual(missing.stderr, "warden: signature "
                         "\"0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55\" not found\n")
        help_text = self.warden("signature", "add", "--help")
        self.assertEqual(help_text.returncode, 0)
        self.assertIn("admission.trusted_spiffe_ids", help_text.stdout)

    def test_require_signed_needs_trust(self):
        _, digest = self.binary("app")
        response = self.other_server.admin("POST", "/v1/entries", {
            "spiffe_id": "spiffe://example.org/x", "parent_id": self.agent_id,
            "selectors": [f"unix:sha256:{digest}"], "require_signed": True})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.error_message(), "invalid \"require_signed\": the server "
                         "trusts no signer; set admission.trusted_keys or "
                         "admission.trusted_spiffe_ids in its configuration first")

    def test_bad_configuration_named(self):
        cases = (
            ("admission:\n  trusted_keys: [/nonexistent/cosign.pub]\n",
             "invalid admission.trusted_keys[0] '/nonexistent/cosign.pub': "),
            (f"admission:\n  trusted_keys: [{self.path('trusted.key')}]\n",
             f"invalid admission.trusted_keys[0] '{self.path('trusted.key')}': "),
            ("admission:\n  trusted_spiffe_ids: [spiffe://other.org/ci]\n",
             "invalid admission.trusted_spiffe_ids[0] 'spiffe://other.org/ci': not in trust "
             "domain example.org"),
            ("admission:\n  trusted_spiffe_ids: [not-an-id]\n",
             "invalid admission.trusted_spiffe_ids[0] 'not-an-id': "),
            ("admission:\n  predicate_types: [sbom]\n",
             "invalid admission.predicate_types[0]: invalid predicate type \"sbom\""),
            ("admission:\n  trusted_keys: 7\n", "admission.trusted_keys"),
        )
        for config, message in cases:
            with self.subTest(config=config):
                config_path = self.path("bad.yaml")
                with open(config_path, "w") as f:
                    f.write(config)
                data_dir = self.path("bad-data")
                result = subprocess.run(
                    [wardenlib.WARDEN, "server", "--trust-domain", "example.org", "--config",
                     config_path, "--data-dir", data_dir, "--admin-socket",
                     self.path("bad.sock"), "--listen", "127.0.0.1:0", "--policy-listen",
                     "127.0.0.1:0", "--secrets-listen", "127.0.0.1:0"],
                    capture_output=True, text=True, timeout=30, check=False)
                shutil.rmtree(data_dir, ignore_errors=True)
                self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
                self.assertIn(message, result.stdout + result.stderr)


if __name__ == "__main__":
    wardenlib.main()
