#!/usr/bin/python3
"""A warden server on a PostgreSQL datastore (`--datastore postgresql://...`)
backed by a throwaway PostgreSQL 15 cluster. The tests run an identity flow
(entry, node attestation, workload SVID), a secrets flow with hvac (init,
unseal, KV v2, token create) and a policy flow with curl (PUT policy,
decision). The rows land in PostgreSQL, not in a SQLite file, and survive a
restart of the server on the same database. Skips (exit 77) when no
cluster can start."""
import json
import os
import subprocess
import sys
import unittest

from cryptography.hazmat.primitives.asymmetric import ec

import pglib
import wardenlib
from wardenlib import Server, csr_pem, load_certs

POLICY = """package example.authz

default allow := false

allow if input.user == "alice"
"""

SERVER_CONFIG = """identity:
  dns_names: [localhost]
"""


class PostgresDatastoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pglib.Postgres(database="warden")
        cls.url = (f"postgresql://{cls.pg.admin_user}:{cls.pg.admin_password}@/warden"
                   f"?host={cls.pg.socket_dir}")
        try:
            cls.server = Server(config=SERVER_CONFIG, datastore=cls.url)
        except BaseException:
            cls.pg.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()

    def rows(self, sql):
        return self.pg.psql(sql)

    def restart(self):
        """Stops the server and starts it on the same data and database."""
        server = self.server
        server.stop()
        server.log = open(server.log_path, "a")
        server.process = subprocess.Popen(
            [wardenlib.WARDEN, "server", "--trust-domain", server.trust_domain, "--data-dir",
             server.data_dir, "--listen", "127.0.0.1:0", "--policy-listen", "127.0.0.1:0",
             "--secrets-listen", "127.0.0.1:0", "--admin-socket", server.admin_socket,
             "--config", os.path.join(server.dir, "server.yaml")] + server.datastore_args,
            stdout=server.log, stderr=subprocess.STDOUT)
        open(server.log_path, "w").close()
        server.port = server._wait_ready()

    def curl_policy(self, method, path, body, cert, key, content_type="application/json"):
        port = self.server.policy_port
        args = ["curl", "-sS", "--cacert", self.server.bundle_path, "--cert", cert,
                "--key", key, "-X", method, "-o", "-", "-w", "\n%{http_code}",
                "--resolve", f"localhost:{port}:127.0.0.1",
                f"https://localhost:{port}{path}", "--data-binary", body,
                "-H", f"Content-Type: {content_type}"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text, _, status = proc.stdout.rpartition("\n")
        return int(status), text

    def svid_files(self, spiffe_id, admin=False):
        if admin:
            self.server.create_entry(spiffe_id, "spiffe://example.org/warden/server", admin=True)
        minted = self.server.mint(spiffe_id)
        name = spiffe_id.rsplit("/", 1)[-1]
        return (self.server.write(f"{name}.pem", minted["svid"]),
                self.server.write(f"{name}.key", minted["private_key"]))

    def test_1_state_in_postgres(self):
        self.assertNotIn(self.pg.admin_password, self.server.read_log())
        self.assertIn("datastore=postgres", self.server.read_log())
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "datastore.sqlite3")))
        components = {row[0]: int(row[1]) for row in self.rows(
            "SELECT component, MAX(version) FROM schema_migrations GROUP BY component")}
        self.assertEqual(components, {"authority": 4, "registry": 5, "admission": 1,
                                      "policy": 1, "secrets_barrier": 1})
        self.assertEqual(self.rows("SELECT COUNT(*) FROM authority_slots WHERE state = 'active'"),
                         [["1"]])

    def test_2_identity(self):
        agent_id, node_cert, node_key = self.server.new_agent()
        self.assertTrue(agent_id.startswith("spiffe://example.org/warden/agent/join_token/"))
        self.assertEqual(self.rows(f"SELECT banned FROM registry_nodes WHERE agent_id = '{agent_id}'"),
                         [["0"]])
        # The join token's hash is a BYTEA primary key of 32 bytes.
        self.assertEqual(self.rows("SELECT COUNT(*) FROM registry_join_tokens "
                                   "WHERE length(token_hash) = 32 AND used_at IS NOT NULL"),
                         [["1"]])

        entry = self.server.create_entry("spiffe://example.org/api", agent_id,
                                         selectors=("unix:uid:1000", "unix:gid:50"))
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/svid/x509",
                                   {"entry_id": entry["id"], "csr": csr_pem(key, "api")},
                                   cert=node_cert, key=node_key)
        self.assertEqual(response.status, 200, response)
        leaf = load_certs(response.json()["svid"])[0]
        serial = format(leaf.serial_number, "x")
        self.assertEqual(self.rows(
            f"SELECT spiffe_id, entry_id FROM authority_serials WHERE entry_id = '{entry['id']}'"),
            [["spiffe://example.org/api", entry["id"]]])
        self.assertTrue(any(serial in row[0].lower().replace(":", "") for row in self.rows(
            f"SELECT serial FROM authority_serials WHERE entry_id = '{entry['id']}'")))
        self.assertEqual(self.rows(
            f"SELECT type, value FROM registry_entry_selectors WHERE entry_id = '{entry['id']}' "
            "ORDER BY type, value"), [["unix", "gid:50"], ["unix", "uid:1000"]])

        # The unique identity hash rejects a duplicate entry.
        response = self.server.admin("POST", "/v1/entries", {
            "spiffe_id": "spiffe://example.org/api", "parent_id": agent_id,
            "selectors": ["unix:gid:50", "unix:uid:1000"]})
        self.assertEqual(response.status, 409, response)

        # The delta sync reads the change counter the entry's create bumped.
        response = self.server.tls("GET", "/v1/node/entries?since=0", cert=node_cert,
                                   key=node_key)
        self.assertEqual(response.status, 200, response)
        self.assertEqual([e["id"] for e in response.json()["changed"]], [entry["id"]])
        self.assertEqual(response.json()["revision"], int(self.rows(
            "SELECT value FROM registry_counters WHERE name = 'entry_change_seq'")[0][0]))

    def test_3_secrets(self):
        client = self.server.vault(token="")
        self.assertEqual(client.sys.read_seal_status()["storage_type"], "postgres")
        result = client.sys.initialize(secret_shares=3, secret_threshold=2)
        client.sys.submit_unseal_key(result["keys"][0])
        status = client.sys.submit_unseal_key(result["keys"][1])
        self.assertIs(status["sealed"], False)
        # The first unseal moved the CA keys, encrypted, into the datastore.
        # Each row starts with the key file magic "WDCAKEY" and version 1.
        self.assertEqual(self.rows(
            "SELECT slot_id, role, substr(sealed_key, 1, 8) = decode('574443414b455901', 'hex')"
            " FROM authority_keys ORDER BY role"), [["1", "jwt", "t"], ["1", "x509-ca", "t"]])
        self.assertEqual(os.listdir(os.path.join(self.server.data_dir, "authority")), [])
        root = self.server.vault(token=result["root_token"])
        self.assertIn("secret/", root.sys.list_mounted_secrets_engines()["data"])
        root.secrets.kv.v2.create_or_update_secret(path="app", secret={"user": "admin", "n": 3})
        root.secrets.kv.v2.create_or_update_secret(path="app", secret={"user": "root"})
        latest = root.secrets.kv.v2.read_secret_version(path="app")
        self.assertEqual(latest["data"]["data"], {"user": "root"})
        self.assertEqual(latest["data"]["metadata"]["version"], 2)
        first = root.secrets.kv.v2.read_secret_version(path="app", version=1)
        self.assertEqual(first["data"]["data"], {"user": "admin", "n": 3})

        created = root.auth.token.create(policies=["default"], ttl="1h")
        child = self.server.vault(token=created["auth"]["client_token"])
        self.assertEqual(child.auth.token.lookup_self()["data"]["policies"], ["default"])

        # Stored values are sealed: no plaintext in the database.
        dump = self.rows("SELECT encode(value, 'escape') FROM secrets_barrier")
        self.assertTrue(dump)
        self.assertFalse(any("admin" in row[0] for row in dump))

        self.__class__.unseal_keys = result["keys"][:2]
        self.__class__.root_token = result["root_token"]

    def test_4_policy(self):
        admin_cert, admin_key = self.svid_files("spiffe://example.org/ops", admin=True)
        status, body = self.curl_policy("PUT", "/v1/policies/authz", POLICY, admin_cert,
                                        admin_key, content_type="text/plain")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.rows("SELECT id FROM policy_modules"), [["authz"]])
        status, body = self.curl_policy("POST", "/v1/data/example/authz/allow",
                                        json.dumps({"input": {"user": "alice"}}), admin_cert,
                                        admin_key)
        self.assertEqual(status, 200, body)
        self.assertIs(json.loads(body)["result"], True)
        self.__class__.admin_files = (admin_cert, admin_key)

    def test_5_restart_keeps_state(self):
        entries = self.server.entry_count()
        self.restart()
        self.assertEqual(self.server.entry_count(), entries)

        client = self.server.vault(token="")
        for key in self.unseal_keys:
            status = client.sys.submit_unseal_key(key)
        self.assertIs(status["sealed"], False)
        root = self.server.vault(token=self.root_token)
        self.assertEqual(root.secrets.kv.v2.read_secret_version(path="app")["data"]["data"],
                         {"user": "root"})

        cert, key = self.admin_files
        status, body = self.curl_policy("POST", "/v1/data/example/authz/allow",
                                        json.dumps({"input": {"user": "bob"}}), cert, key)
        self.assertEqual(status, 200, body)
        self.assertIs(json.loads(body)["result"], False)
        self.assertNotIn(self.pg.admin_password, self.server.read_log())


if __name__ == "__main__":
    if not os.path.exists(wardenlib.WARDEN):
        print(f"SKIP: warden binary {wardenlib.WARDEN} not found")
        sys.exit(wardenlib.SKIP_EXIT)
    pglib.skip_unless_available()
    unittest.main(verbosity=2)
