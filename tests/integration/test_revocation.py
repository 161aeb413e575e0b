#!/usr/bin/python3
"""Revocation beyond SPIRE: revoked serials appear on the CA-signed CRL that
OpenSSL reads, a revoked SVID is refused at the server's TLS handshake, and
deleting an entry or evicting/banning an agent revokes its live SVIDs."""
import re
import subprocess
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

import wardenlib
from wardenlib import Server, csr_pem, load_certs


class RevocationTest(unittest.TestCase):
    def setUp(self):
        self.server = Server("example.org")

    def tearDown(self):
        self.server.cleanup()

    def crl(self):
        response = self.server.admin("GET", "/v1/crl")
        self.assertEqual(response.status, 200, response)
        return x509.load_pem_x509_crl(response.body)

    def revoked_serials(self):
        return {entry.serial_number for entry in self.crl()}

    def test_revoke_serial_appears_on_crl(self):
        web = self.server.mint("spiffe://example.org/web")
        db = self.server.mint("spiffe://example.org/db")
        self.assertEqual(self.revoked_serials(), set())
        sequence_before = self.server.admin("GET", "/v1/bundle").json()["spiffe_sequence"]

        response = self.server.admin("POST", "/v1/svid/revoke", {"serial": db["serial"]})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["revoked_serials"], [db["serial"]])

        crl = self.crl()
        ca = load_certs(self.server.bundle_pem)[0]
        self.assertTrue(crl.is_signature_valid(ca.public_key()))
        self.assertEqual(crl.issuer, ca.subject)
        self.assertEqual({e.serial_number for e in crl}, {int(db["serial"], 16)})
        self.assertNotIn(int(web["serial"], 16), self.revoked_serials())
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        self.assertGreaterEqual(number, 1)
        # Revocation travels with bundle updates.
        self.assertGreater(self.server.admin("GET", "/v1/bundle").json()["spiffe_sequence"],
                           sequence_before)

        # OpenSSL's own CRL check agrees.
        db_cert = self.server.write("db.pem", db["svid"])
        crl_path = self.server.write("crl.pem", self.server.admin("GET", "/v1/crl").body)
        result = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile",
                                 self.server.bundle_path, "-CRLfile", crl_path, db_cert],
                                capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("certificate revoked", result.stdout + result.stderr)

    def test_agents_receive_crl_with_bundle_updates(self):
        agent_id, cert, key = self.server.new_agent()
        first = self.server.tls("GET", "/v1/node/bundle", cert=cert, key=key)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.json()["bundle"], self.server.admin("GET", "/v1/bundle").json())
        self.assertEqual(len(x509.load_pem_x509_crl(first.json()["crl"].encode()) and
                             list(x509.load_pem_x509_crl(first.json()["crl"].encode()))), 0)

        victim = self.server.mint("spiffe://example.org/victim")
        self.server.admin("POST", "/v1/svid/revoke", {"serial": victim["serial"]})

        update = self.server.tls("GET", "/v1/node/bundle", cert=cert, key=key).json()
        self.assertGreater(update["sequence"], first.json()["sequence"])
        self.assertEqual(update["bundle"]["spiffe_sequence"], update["sequence"])
        crl = x509.load_pem_x509_crl(update["crl"].encode())
        self.assertEqual({e.serial_number for e in crl}, {int(victim["serial"], 16)})

    def test_revoke_unknown_serial(self):
        response = self.server.admin("POST", "/v1/svid/revoke", {"serial": "abcdef0123"})
        self.assertEqual(response.status, 404, response)
        self.assertIn("abcdef0123", response.error_message())
        response = self.server.admin("POST", "/v1/svid/revoke", {"serial": "xyz"})
        self.assertEqual(response.status, 400, response)
        response = self.server.admin("POST", "/v1/svid/revoke", {})
        self.assertEqual(response.status, 400, response)

    def test_revoke_by_spiffe_id(self):
        first = self.server.mint("spiffe://example.org/api")
        second = self.server.mint("spiffe://example.org/api")
        other = self.server.mint("spiffe://example.org/other")
        response = self.server.admin("POST", "/v1/svid/revoke",
                                     {"spiffe_id": "spiffe://example.org/api"})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(sorted(response.json()["revoked_serials"]),
                         sorted([first["serial"], second["serial"]]))
        self.assertEqual(self.revoked_serials(),
                         {int(first["serial"], 16), int(second["serial"], 16)})
        self.assertNotIn(int(other["serial"], 16), self.revoked_serials())

    def test_revoked_svid_refused_at_handshake(self):
        minted = self.server.mint("spiffe://example.org/revoked-workload")
        cert = self.server.write("revoked.pem", minted["svid"])
        key = self.server.write("revoked.key", minted["private_key"])
        self.assertEqual(self.server.tls("GET", "/v1/node/entries", cert=cert, key=key).status, 403)
        self.assertEqual(self.server.admin("POST", "/v1/svid/revoke",
                                           {"serial": minted["serial"]}).status, 200)
        with self.assertRaises(OSError):
            self.server.tls("GET", "/v1/health", cert=cert, key=key)
        self.assertIn("client certificate refused", self.server.read_log())

    def test_refusal_warnings_rate_limited(self):
        """A client that retries a revoked SVID in a loop gets one warning a
        second: the first refusal, then a line per second with the count of
        the others, so the lines account for every refusal."""
        minted = self.server.mint("spiffe://example.org/retrying-workload")
        cert = self.server.write("retrying.pem", minted["svid"])
        key = self.server.write("retrying.key", minted["private_key"])
        self.assertEqual(self.server.admin("POST", "/v1/svid/revoke",
                                           {"serial": minted["serial"]}).status, 200)
        attempts = 40
        for _ in range(attempts):
            with self.assertRaises(OSError):
                self.server.tls("GET", "/v1/health", cert=cert, key=key)
        # The tick that reports the last count comes within a second.
        time.sleep(2.5)

        lines = [line for line in self.server.read_log().splitlines()
                 if "client certificate refused" in line
                 and "spiffe://example.org/retrying-workload" in line]
        counted = [int(m.group(1)) for m in
                   (re.search(r"refused_in_last_second=(\d+)", line) for line in lines) if m]
        self.assertEqual(len(lines) - len(counted), 1, lines)
        self.assertEqual(1 + sum(counted), attempts, lines)
        self.assertLess(len(lines), attempts // 2, lines)

    def test_revoked_node_svid_told_why(self):
        """An agent's revoked node SVID completes the handshake so the node
        routes can say why, and no route serves it."""
        agent_id, cert, key = self.server.new_agent()
        with open(cert) as f:
            serial = format(load_certs(f.read())[0].serial_number, "x")
        self.assertEqual(self.server.admin("POST", "/v1/svid/revoke",
                                           {"serial": serial}).status, 200)
        response = self.server.tls("GET", "/v1/node/entries", cert=cert, key=key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.json()["error"]["code"], "EREVOKED")
        self.assertIn(serial, response.error_message())
        response = self.server.tls("GET", "/v1/health", cert=cert, key=key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.json()["error"]["code"], "EREVOKED")

    def test_entry_delete_revokes_its_svids(self):
        agent_id, node_cert, node_key = self.server.new_agent()
        entry = self.server.create_entry("spiffe://example.org/short-lived", agent_id)
        key = ec.generate_private_key(ec.SECP256R1())
        issued = self.server.tls("POST", "/v1/svid/x509",
                                 {"entry_id": entry["id"], "csr": csr_pem(key)},
                                 cert=node_cert, key=node_key).json()
        response = self.server.admin("DELETE", f"/v1/entries/{entry['id']}")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["revoked_serials"], [issued["serial"]])
        self.assertIn(int(issued["serial"], 16), self.revoked_serials())
        # The agent can no longer obtain SVIDs for the deleted entry.
        response = self.server.tls("POST", "/v1/svid/x509",
                                   {"entry_id": entry["id"], "csr": csr_pem(key)},
                                   cert=node_cert, key=node_key)
        self.assertEqual(response.status, 404, response)

    def test_evicted_agent_refused(self):
        agent_id, cert, key = self.server.new_agent()
        response = self.server.admin("POST", "/v1/agents/evict", {"spiffe_id": agent_id})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json(), {"evicted": agent_id})
        # Its node SVID is revoked; the node routes say why.
        response = self.server.tls("GET", "/v1/node/entries", cert=cert, key=key)
        self.assertEqual(response.status, 404, response)
        self.assertIn("is not attested", response.error_message())
        agents = self.server.admin("GET", "/v1/agents").json()["agents"]
        self.assertNotIn(agent_id, [a["spiffe_id"] for a in agents])

    def test_banned_agent_listed_and_refused(self):
        agent_id, cert, key = self.server.new_agent()
        response = self.server.admin("POST", "/v1/agents/ban", {"spiffe_id": agent_id})
        self.assertEqual(response.status, 200, response)
        agents = {a["spiffe_id"]: a for a in self.server.admin("GET", "/v1/agents").json()["agents"]}
        self.assertTrue(agents[agent_id]["banned"])
        response = self.server.tls("GET", "/v1/node/entries", cert=cert, key=key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.json()["error"]["code"], "EBANNED")

    def test_evict_unknown_agent(self):
        response = self.server.admin("POST", "/v1/agents/evict",
                                     {"spiffe_id": "spiffe://example.org/warden/agent/join_token/none"})
        self.assertEqual(response.status, 404, response)
        self.assertIn("spiffe://example.org/warden/agent/join_token/none", response.error_message())


if __name__ == "__main__":
    wardenlib.main()
