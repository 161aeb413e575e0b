#!/usr/bin/python3
"""Delta sync of GET /v1/node/entries against a real server: the first call
returns every authorized entry, ?since=revision returns only changes, and
entry_ids shows deletions and entries that left the agent's reach."""
import os
import subprocess
import unittest

import wardenlib
from wardenlib import Server


class AgentSyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def entries(self, cert, key, since=None):
        path = "/v1/node/entries" if since is None else f"/v1/node/entries?since={since}"
        response = self.server.tls("GET", path, cert=cert, key=key)
        self.assertEqual(response.status, 200, response)
        return response.json()

    def test_delta_sync(self):
        agent_id, cert, key = self.server.new_agent()
        web = self.server.create_entry("spiffe://example.org/sync/web", agent_id)
        db = self.server.create_entry("spiffe://example.org/sync/db", agent_id,
                                      selectors=("unix:uid:1001",))
        nested = self.server.create_entry("spiffe://example.org/sync/nested",
                                          "spiffe://example.org/sync/web",
                                          selectors=("unix:uid:1002",))
        other_id, _, _ = self.server.new_agent()
        other = self.server.create_entry("spiffe://example.org/sync/other", other_id)
        ids = sorted([web["id"], db["id"], nested["id"]])

        # Without since: today's shape plus revision and entry_ids.
        full = self.entries(cert, key)
        self.assertEqual(sorted(e["id"] for e in full["entries"]), ids)
        self.assertEqual(full["entry_ids"], ids)
        self.assertIn("bundle_sequence", full)
        self.assertNotIn("changed", full)
        revision = full["revision"]

        # since=0 returns everything as "changed".
        first = self.entries(cert, key, 0)
        self.assertEqual(sorted(e["id"] for e in first["changed"]), ids)
        self.assertEqual(first["revision"], revision)
        self.assertNotIn("entries", first)

        # Nothing changed since the revision.
        quiet = self.entries(cert, key, revision)
        self.assertEqual(quiet["changed"], [])
        self.assertEqual(quiet["entry_ids"], ids)
        self.assertEqual(quiet["revision"], revision)

        # Another agent's change brings this one nothing.
        response = self.server.admin("PATCH", f"/v1/entries/{other['id']}",
                                     {"x509_svid_ttl": 120})
        self.assertEqual(response.status, 200, response)
        quiet = self.entries(cert, key, revision)
        self.assertEqual(quiet["changed"], [])
        self.assertGreater(quiet["revision"], revision)
        revision = quiet["revision"]

        # An update appears alone, with its new revision.
        response = self.server.admin("PATCH", f"/v1/entries/{db['id']}", {"x509_svid_ttl": 60})
        self.assertEqual(response.status, 200, response)
        update = self.entries(cert, key, revision)
        self.assertEqual([e["id"] for e in update["changed"]], [db["id"]])
        self.assertEqual(update["changed"][0]["x509_svid_ttl"], 60)
        self.assertEqual(update["changed"][0]["revision"], 1)
        revision = update["revision"]

        # Deleting web removes it and takes the nested entry out of reach.
        response = self.server.admin("DELETE", f"/v1/entries/{web['id']}")
        self.assertEqual(response.status, 200, response)
        after = self.entries(cert, key, revision)
        self.assertEqual(after["changed"], [])
        self.assertEqual(after["entry_ids"], [db["id"]])

    def test_bad_since_rejected(self):
        _, cert, key = self.server.new_agent()
        for value in ("-1", "abc", "1x", "", "1234567890123456789"):
            response = self.server.tls("GET", f"/v1/node/entries?since={value}", cert=cert,
                                       key=key)
            self.assertEqual(response.status, 400, (value, response))
            self.assertEqual(response.json()["error"]["code"], "EINVAL")

    def test_since_needs_client_svid(self):
        response = self.server.tls("GET", "/v1/node/entries?since=0")
        self.assertEqual(response.status, 401, response)


class AgentEndToEndTest(unittest.TestCase):
    """Runs the C driver tests/unit/agent/test_sync against a real server:
    attestation, reload, pre-minting, updates, deletions, rotation and
    eviction through the agent library."""

    def test_agent_library(self):
        driver = os.path.join(os.environ.get("WARDEN_BUILD_ROOT", ""), "tests", "unit",
                              "agent", "test_sync")
        if not os.path.exists(driver):
            self.skipTest(f"agent driver {driver} not built")
        server = Server("example.org")
        try:
            env = dict(os.environ, WARDEN_TEST_ADDRESS=f"127.0.0.1:{server.port}",
                       WARDEN_TEST_ADMIN=server.admin_socket,
                       WARDEN_TEST_BUNDLE=server.bundle_path, WARDEN_TEST_DIR=server.dir)
            result = subprocess.run([driver], env=env, capture_output=True, text=True,
                                    timeout=120)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        finally:
            server.cleanup()


if __name__ == "__main__":
    wardenlib.main()
