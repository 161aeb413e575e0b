#!/usr/bin/python3
"""The identity CA's keys encrypted under the secrets barrier, driven with
hvac (Debian's python3-hvac) and `warden operator`. The first unseal
encrypts the key files. A restarted server is sealed: minting fails with
503, but the secrets API is served with the saved certificate, and the
unseal brings back the same CA. Without a saved certificate the admin
socket still takes the unseal key. A seal locks the CA again, and --dev
rejects a data directory with encrypted keys."""
import json
import os
import ssl
import subprocess
import time
import unittest

from cryptography import x509

import wardenlib
from wardenlib import Server, load_certs

SEALED_MESSAGE = "the CA keys are sealed: unseal the secrets barrier"
ENCRYPTED_FILES = ["slot-1-jwt.key.enc", "slot-1-x509-ca.key.enc"]
PLAINTEXT_FILES = ["slot-1-jwt.pem", "slot-1-x509-ca.pem"]


def start(server, extra_args=()):
    """Starts the server again on its data directory with a fresh log; the
    process must become ready."""
    server.log = open(server.log_path, "w")
    server.process = subprocess.Popen(
        [wardenlib.WARDEN, "server", "--trust-domain", server.trust_domain, "--data-dir",
         server.data_dir, "--listen", "127.0.0.1:0", "--policy-listen", "127.0.0.1:0",
         "--secrets-listen", "127.0.0.1:0", "--admin-socket", server.admin_socket, "--config",
         os.path.join(server.dir, "server.yaml"), *server.datastore_args, *extra_args],
        stdout=server.log, stderr=subprocess.STDOUT)
    server.port = server._wait_ready()


class CaKeysTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(localhost_name=True)
        self.key_dir = os.path.join(self.server.data_dir, "authority")

    def tearDown(self):
        self.server.cleanup()

    def init_and_unseal(self):
        """Initializes with one share, unseals and returns (key, root token)."""
        client = self.server.vault(token="")
        result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        status = client.sys.submit_unseal_key(result["keys"][0])
        self.assertIs(status["sealed"], False)
        return result["keys"][0], result["root_token"]

    def mint(self):
        return self.server.admin("POST", "/v1/svid/mint", {"spiffe_id": "spiffe://example.org/app"})

    def mint_jwt(self):
        return self.server.admin("POST", "/v1/svid/jwt/mint",
                                 {"spiffe_id": "spiffe://example.org/app", "audience": ["db"]})

    def assert_minted_by_bundle_ca(self):
        response = self.mint()
        self.assertEqual(response.status, 200, response)
        leaf = load_certs(response.json()["svid"])[0]
        ca = load_certs(self.server.bundle_pem)[0]
        self.assertEqual(leaf.issuer, ca.subject)
        self.assertEqual(self.mint_jwt().status, 200)

    def assert_unavailable_sealed(self, response):
        self.assertEqual(response.status, 503, response)
        self.assertEqual(response.error_message(), SEALED_MESSAGE)

    def assert_keys_encrypted(self):
        self.assertEqual(sorted(os.listdir(self.key_dir)), ENCRYPTED_FILES)
        for name in ENCRYPTED_FILES:
            path = os.path.join(self.key_dir, name)
            self.assertEqual(os.stat(path).st_mode & 0o7777, 0o600, name)
            with open(path, "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(b"WDCAKEY\x01"), name)
            self.assertNotIn(b"PRIVATE KEY", data, name)

    def crl_serials(self):
        response = self.server.admin("GET", "/v1/crl")
        self.assertEqual(response.status, 200, response)
        crl = x509.load_pem_x509_crl(response.body)
        return {entry.serial_number for entry in crl}

    def bundle_pem(self):
        response = self.server.admin("GET", "/v1/bundle?format=pem")
        self.assertEqual(response.status, 200, response)
        return response.body

    def test_restart_seals_and_unseal_restores_ca(self):
        self.assertEqual(sorted(os.listdir(self.key_dir)), PLAINTEXT_FILES)
        client = self.server.vault(token="")
        result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        # The unseal inside init leaves the key files as they were.
        self.assertEqual(sorted(os.listdir(self.key_dir)), PLAINTEXT_FILES)
        client.sys.submit_unseal_key(result["keys"][0])
        self.assert_keys_encrypted()
        self.assert_minted_by_bundle_ca()
        serial = self.mint().json()["serial"]
        bundle = self.bundle_pem()
        serving = os.path.join(self.server.data_dir, "serving.pem")
        self.assertEqual(os.stat(serving).st_mode & 0o7777, 0o600)

        self.server.stop()
        start(self.server)
        self.assertIn("CA keys sealed", self.server.read_log())
        client = self.server.vault(token="")
        status = client.sys.read_seal_status()
        self.assertIs(status["sealed"], True)
        self.assertIs(status["initialized"], True)
        self.assert_unavailable_sealed(self.mint())
        self.assert_unavailable_sealed(self.mint_jwt())
        self.assertEqual(self.bundle_pem(), bundle)
        self.assertEqual(self.crl_serials(), set())
        # A revocation is recorded while sealed; the CRL follows the unseal.
        response = self.server.admin("POST", "/v1/svid/revoke", {"serial": serial})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(self.crl_serials(), set())

        status = client.sys.submit_unseal_key(result["keys"][0])
        self.assertIs(status["sealed"], False)
        self.assert_minted_by_bundle_ca()
        self.assertEqual(load_certs(self.bundle_pem()), load_certs(bundle))
        self.assertEqual(self.crl_serials(), {int(serial, 16)})
        self.assert_keys_encrypted()

    def test_unseal_over_admin_socket(self):
        key, _ = self.init_and_unseal()
        self.server.stop()
        os.unlink(os.path.join(self.server.data_dir, "serving.pem"))
        start(self.server)
        self.assertIn("no valid saved serving certificate", self.server.read_log())
        self.assertIn(f"VAULT_ADDR=unix://{self.server.admin_socket} warden operator unseal",
                      self.server.read_log())
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.server.vault_raw("GET", "/v1/sys/seal-status")

        env = dict(os.environ, VAULT_ADDR="unix://" + self.server.admin_socket)
        env.pop("VAULT_CACERT", None)
        env.pop("VAULT_TOKEN", None)
        out = subprocess.run([wardenlib.WARDEN, "operator", "status", "--format", "json"],
                             env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIs(json.loads(out.stdout)["sealed"], True)
        out = subprocess.run([wardenlib.WARDEN, "operator", "unseal", "--format", "json"],
                             env=env, input=key + "\n", capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIs(json.loads(out.stdout)["sealed"], False)
        self.assert_minted_by_bundle_ca()

        # The next tick mints a serving certificate that clients trust.
        deadline = time.monotonic() + 10
        while True:
            try:
                response = self.server.vault_raw("GET", "/v1/sys/seal-status")
                break
            except ssl.SSLCertVerificationError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.assertEqual(response.status, 200, response)
        self.assertIs(response.json()["sealed"], False)
        self.assertTrue(os.path.exists(os.path.join(self.server.data_dir, "serving.pem")))

    def test_seal_locks_ca(self):
        key, root_token = self.init_and_unseal()
        client = self.server.vault(token=root_token)
        client.sys.seal()
        self.assert_unavailable_sealed(self.mint())
        self.assertIn("CA keys sealed", self.server.read_log())

        status = client.sys.submit_unseal_key(key)
        self.assertIs(status["sealed"], False)
        self.assert_minted_by_bundle_ca()

    def test_dev_refuses_encrypted_keys(self):
        self.init_and_unseal()
        self.server.stop()
        self.server.log = open(self.server.log_path, "w")
        process = subprocess.run(
            [wardenlib.WARDEN, "server", "--trust-domain", "example.org", "--data-dir",
             self.server.data_dir, "--listen", "127.0.0.1:0", "--policy-listen", "127.0.0.1:0",
             "--secrets-listen", "127.0.0.1:0", "--admin-socket", self.server.admin_socket,
             "--dev", *self.server.datastore_args], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("--dev wipes at start: start without --dev",
                      process.stdout + process.stderr)
        self.assert_keys_encrypted()

    def test_dev_mode_keeps_plaintext_keys(self):
        server = Server(dev_root_token="root")
        try:
            key_dir = os.path.join(server.data_dir, "authority")
            self.assertEqual(sorted(os.listdir(key_dir)), PLAINTEXT_FILES)
            self.assertFalse(os.path.exists(os.path.join(server.data_dir, "serving.pem")))
            self.assertIn("dev mode: the CA keys stay unencrypted", server.read_log())
            self.assertEqual(server.mint("spiffe://example.org/app")["spiffe_id"],
                             "spiffe://example.org/app")
        finally:
            server.cleanup()


if __name__ == "__main__":
    wardenlib.main()
