#!/usr/bin/python3
"""Requests the secrets API must reject without changing anything.

The cases: a sealed server (503), a missing, unknown or expired token
(403), malformed JSON (400), an unknown database role (400), a role whose
TTL is above its maximum (400), a login role that grants root, auth mounts
outside sys/auth, response wrapping and a PATCH without merge-patch+json.
Each test compares the barrier's rows, the PostgreSQL roles and the leases
before and after the rejected request.

Skips (exit 77) when PostgreSQL 15 or hvac is missing."""
import hashlib
import json
import sqlite3
import sys
import time
import unittest

import pglib

pglib.skip_unless_available()
try:
    import hvac
except ImportError:
    print("SKIP: python3-hvac is not installed")
    sys.exit(77)

import wardenlib
from wardenlib import Server

ROOT_TOKEN = "root-for-refusals"
READER_STATEMENTS = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
    "VALID UNTIL '{{expiration}}'; GRANT SELECT ON items TO \"{{name}}\";",
]


def barrier_digest(server):
    """Returns the number of barrier rows and a digest of every path and
    value, read from the server's SQLite datastore (WAL readers do not
    block the server), or from its PostgreSQL database."""
    if server.datastore:
        rows = [(path, bytes.fromhex(value)) for path, value in wardenlib.postgres_cluster().psql(
            "SELECT path, encode(value, 'hex') FROM secrets_barrier ORDER BY path",
            database=wardenlib.datastore_database(server.datastore))]
    else:
        db = sqlite3.connect(f"file:{server.data_dir}/datastore.sqlite3?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT path, value FROM secrets_barrier ORDER BY path").fetchall()
        finally:
            db.close()
    digest = hashlib.sha256()
    for path, value in rows:
        digest.update(path.encode() + b"\0" + bytes(value) + b"\0")
    return len(rows), digest.hexdigest()


class RefusalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pglib.Postgres()
        cls.pg.psql("CREATE TABLE items (id int)")
        cls.server = Server(dev_root_token=ROOT_TOKEN)
        cls.client = cls.server.vault()
        cls.client.sys.enable_secrets_engine("database")
        cls.client.secrets.database.configure(
            "pg", "postgresql-database-plugin", connection_url=cls.pg.connection_url(),
            username=cls.pg.admin_user, password=cls.pg.admin_password, allowed_roles=["*"])
        cls.client.secrets.database.create_role("reader", "pg", READER_STATEMENTS,
                                                default_ttl="1m", max_ttl="5m")
        cls.client.secrets.kv.v2.create_or_update_secret(path="app", secret={"k": "v1"})

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()

    def state(self):
        leases = self.server.vault_raw("LIST", "/v1/sys/leases/lookup/database/creds/reader/")
        lease_keys = leases.json()["data"]["keys"] if leases.status == 200 else []
        return barrier_digest(self.server), sorted(self.pg.roles()), lease_keys

    def assert_refused(self, response, status, message):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.headers.get("Content-Type"), "application/json")
        self.assertEqual(response.json(), {"errors": [message]})

    def test_missing_unknown_and_expired_tokens_are_403(self):
        before = self.state()
        body = {"data": {"k": "stolen"}}
        self.assert_refused(self.server.vault_raw("POST", "/v1/secret/data/app", body, token=""),
                            403, "permission denied")
        self.assert_refused(self.server.vault_raw("POST", "/v1/secret/data/app", body,
                                                  token="hvs.notARealToken00000000000"),
                            403, "permission denied")
        self.assert_refused(self.server.vault_raw("GET", "/v1/database/creds/reader",
                                                  token="", headers={"Authorization": "Basic eA=="}),
                            403, "permission denied")
        self.assertEqual(self.state(), before)

        short = self.client.auth.token.create(policies=["root"], ttl="1s")["auth"]["client_token"]
        before = self.state()
        time.sleep(2.2)
        self.assert_refused(self.server.vault_raw("POST", "/v1/secret/data/app", body, token=short),
                            403, "permission denied")
        self.assertEqual(self.client.secrets.kv.v2.read_secret_version(path="app")["data"]["data"],
                         {"k": "v1"})
        # The expired token itself is removed on the way; nothing else changes.
        self.assertEqual(self.state()[1:], before[1:])

    def test_malformed_json_is_400(self):
        before = self.state()
        for raw in ('{"data": {"k": ', '{"data": {"k": "a"}, "data": {"k": "b"}}', '[1, 2]'):
            with self.subTest(raw=raw):
                response = self.server.vault_raw("POST", "/v1/secret/data/app", raw=raw)
                self.assertEqual(response.status, 400, response)
                self.assertTrue(response.json()["errors"][0].startswith(
                    "failed to parse JSON input: "), response)
        self.assertEqual(self.state(), before)

    def test_unknown_role_is_400(self):
        before = self.state()
        self.assert_refused(self.server.vault_raw("GET", "/v1/database/creds/nobody"),
                            400, "unknown role: nobody")
        self.assertEqual(self.state(), before)

    def test_role_ttl_above_max_is_400(self):
        before = self.state()
        response = self.server.vault_raw("POST", "/v1/database/roles/greedy", {
            "db_name": "pg", "creation_statements": READER_STATEMENTS,
            "default_ttl": "2h", "max_ttl": "1h"})
        self.assertEqual(response.status, 400, response)
        self.assertIn("max_ttl", response.json()["errors"][0])
        self.assertEqual(self.server.vault_raw("GET", "/v1/database/roles/greedy").status, 404)
        self.assertEqual(self.state(), before)

    def test_login_role_with_root_policy_is_400(self):
        self.client.sys.enable_auth_method("cert")
        try:
            self.client.write("auth/cert/certs/escalate", token_policies=" Root ",
                              allowed_uri_sans="spiffe://example.org/escalate")
            minted = self.server.mint("spiffe://example.org/escalate")
            cert = self.server.write("escalate.pem", minted["svid"])
            key = self.server.write("escalate.key", minted["private_key"])
            before = self.state()
            client = self.server.vault(token="")
            with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
                client.auth.cert.login(cert_pem=cert, key_pem=key)
            self.assertIn("auth methods cannot create root tokens", str(caught.exception))
            self.assertEqual(self.state(), before)
        finally:
            self.client.sys.disable_auth_method("cert")

    def test_auth_mounts_outside_sys_auth_are_400(self):
        before = self.state()
        for method, path, body in (("POST", "/v1/sys/mounts/auth/jwt2", {"type": "jwt"}),
                                   ("DELETE", "/v1/sys/mounts/auth/token", None),
                                   ("POST", "/v1/sys/mounts/auth/token/tune",
                                    {"max_lease_ttl": "1000h"}),
                                   ("POST", "/v1/sys/mounts/cubbyhole", {"type": "kv"}),
                                   ("POST", "/v1/sys/mounts/identity", {"type": "kv"})):
            with self.subTest(method=method, path=path):
                response = self.server.vault_raw(method, path, body)
                self.assertEqual(response.status, 400, response)
        self.assertEqual(self.state(), before)

    def test_wrapping_and_plain_patch_are_refused(self):
        before = self.state()
        self.assert_refused(self.server.vault_raw("GET", "/v1/secret/data/app",
                                                  headers={"X-Vault-Wrap-TTL": "60s"}),
                            400, "response wrapping is not supported")
        self.assert_refused(self.server.vault_raw("PATCH", "/v1/secret/data/app",
                                                  {"data": {"k": "patched"}}),
                            415, "PATCH requires Content-Type: application/merge-patch+json")
        self.assertEqual(self.state(), before)

    def test_sealed_server_is_503(self):
        # A server of its own: sealing the shared one would end the others.
        server = Server(localhost_name=True)
        try:
            client = server.vault()
            init = client.sys.initialize(secret_shares=1, secret_threshold=1)
            # Written while sealed: no salt exists, so the root token and
            # the keys are left out of the record rather than hashed.
            with open(f"{server.data_dir}/audit.log") as log:
                audit = log.read()
            self.assertNotIn(init["root_token"], audit)
            self.assertIn('\\"root_token\\":\\"redacted\\"', audit)
            client.sys.submit_unseal_key(init["keys"][0])
            client.token = init["root_token"]
            client.secrets.kv.v2.create_or_update_secret(path="app", secret={"k": "v1"})
            client.sys.seal()
            before = barrier_digest(server)

            for method, path, body in (("GET", "/v1/secret/data/app", None),
                                       ("POST", "/v1/secret/data/app", {"data": {"k": "v2"}}),
                                       ("LIST", "/v1/secret/metadata/", None),
                                       ("POST", "/v1/auth/token/create", {})):
                with self.subTest(method=method, path=path):
                    self.assert_refused(server.vault_raw(method, path, body,
                                                         token=init["root_token"]),
                                        503, "Vault is sealed")
            status = server.vault_raw("GET", "/v1/sys/seal-status", token="").json()
            self.assertEqual((status["sealed"], status["initialized"]), (True, True))
            self.assertEqual(barrier_digest(server), before)

            client.sys.submit_unseal_key(init["keys"][0])
            self.assertEqual(client.secrets.kv.v2.read_secret_version(path="app")["data"]["data"],
                             {"k": "v1"})
        finally:
            server.cleanup()


if __name__ == "__main__":
    wardenlib.main()
