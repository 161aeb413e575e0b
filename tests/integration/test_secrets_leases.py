#!/usr/bin/python3
"""Leases of the secrets API, on credentials of a real PostgreSQL 15, through
Debian's python3-hvac, raw HTTP and the `warden lease` command. Covered:
lookup, list, renew with TTL capping, revoke (sync and async), prefix and
force revocation, expiry, and revocation with the creating token."""
import datetime
import os
import re
import subprocess
import sys
import time
import unittest

import pglib
import wardenlib
from wardenlib import Server

ROOT_TOKEN = "root-leases-test"
CREATION = ['CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' '
            "VALID UNTIL '{{expiration}}'"]
LEASE_SUFFIX = re.compile(r"^[0-9A-Za-z]{24}$")


def parse_time(text):
    """Parse Vault's RFC 3339 time with nanoseconds ("...T10:20:30.123456789Z")."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    moment = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    return moment.replace(tzinfo=datetime.timezone.utc)


def wait_for(condition, timeout=15.0, interval=0.25):
    """Poll condition until it returns true; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class LeasesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pglib.Postgres()
        try:
            cls.server = Server("example.org", dev_root_token=ROOT_TOKEN)
        except BaseException:
            cls.pg.stop()
            raise
        cls.client = cls.server.vault()
        cls.client.sys.enable_secrets_engine("database", path="database")
        cls.client.sys.enable_secrets_engine("database", path="dbcap",
                                             config={"max_lease_ttl": "60s"})
        for mount in ("database", "dbcap"):
            cls.configure(mount, cls.pg.connection_url())
            cls.client.secrets.database.create_role(
                "app", db_name="pg", creation_statements=CREATION, default_ttl=300,
                max_ttl=3600, mount_point=mount)
        cls.client.secrets.database.create_role(
            "short", db_name="pg", creation_statements=CREATION, default_ttl=3, max_ttl=60,
            mount_point="database")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()

    @classmethod
    def configure(cls, mount, url):
        cls.client.secrets.database.configure(
            "pg", "postgresql-database-plugin", allowed_roles=["*"], connection_url=url,
            username=cls.pg.admin_user, password=cls.pg.admin_password, mount_point=mount)

    def creds(self, role="app", mount="database", client=None):
        reply = (client or self.client).secrets.database.generate_credentials(
            role, mount_point=mount)
        self.assertIn(reply["data"]["username"], self.pg.roles())
        return reply

    def role_exists(self, username):
        return username in self.pg.roles()

    def test_generated_lease_id_and_lookup(self):
        reply = self.creds()
        lease_id = reply["lease_id"]
        self.assertTrue(lease_id.startswith("database/creds/app/"), lease_id)
        self.assertRegex(lease_id[len("database/creds/app/"):], LEASE_SUFFIX)
        self.assertEqual(reply["lease_duration"], 300)
        self.assertTrue(reply["renewable"])

        data = self.client.sys.read_lease(lease_id)["data"]
        self.assertEqual(data["id"], lease_id)
        self.assertEqual(data["path"], "database/creds/app")
        self.assertTrue(data["renewable"])
        self.assertIsNone(data["last_renewal"])
        self.assertIn(data["ttl"], range(295, 301))
        issued = parse_time(data["issue_time"])
        expires = parse_time(data["expire_time"])
        self.assertEqual((expires - issued).total_seconds(), 300)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - issued).total_seconds()), 30)
        self.assertNotIn("revoke_error", data)

    def test_list_leases(self):
        lease_id = self.creds()["lease_id"]
        suffix = lease_id.rsplit("/", 1)[1]
        keys = self.client.sys.list_leases("database/creds/app")["data"]["keys"]
        self.assertIn(suffix, keys)
        keys = self.client.sys.list_leases("database/creds/")["data"]["keys"]
        self.assertIn("app/", keys)
        # An empty listing is a 404 with no message, which hvac's list
        # turns into InvalidPath.
        response = self.server.vault_raw("LIST", "/v1/sys/leases/lookup/nothing/here")
        self.assertEqual(response.status, 404, response)
        self.assertEqual(response.json(), {"errors": []})

    def test_renew_lease(self):
        lease_id = self.creds()["lease_id"]
        reply = self.client.sys.renew_lease(lease_id, increment=120)
        self.assertEqual(reply["lease_id"], lease_id)
        self.assertEqual(reply["lease_duration"], 120)
        self.assertTrue(reply["renewable"])
        self.assertIsNone(reply["data"])

        # hvac sends "increment": null without an increment: the role's TTL.
        reply = self.client.sys.renew_lease(lease_id)
        self.assertEqual(reply["lease_duration"], 300)
        data = self.client.sys.read_lease(lease_id)["data"]
        self.assertIsNotNone(data["last_renewal"])
        self.assertIn(data["ttl"], range(295, 301))

    def test_renew_capped_at_mount_max(self):
        reply = self.creds(mount="dbcap")
        self.assertLessEqual(reply["lease_duration"], 60)
        renewed = self.client.sys.renew_lease(reply["lease_id"], increment=3600)
        self.assertLessEqual(renewed["lease_duration"], 60)
        self.assertGreater(renewed["lease_duration"], 50)
        self.assertTrue(renewed["warnings"], renewed)
        self.assertRegex(renewed["warnings"][0],
                         r'^TTL of "1h0m0s" exceeded the effective max_ttl of "[0-9hms]+"; '
                         r"TTL value is capped accordingly$")

    def test_renew_errors(self):
        import hvac.exceptions
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest, "lease not found"):
            self.client.sys.renew_lease("database/creds/app/nope")
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest,
                                    "tokens cannot be renewed through this endpoint"):
            self.client.sys.renew_lease("auth/token/create/nope")
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest, "invalid lease"):
            self.client.sys.read_lease("database/creds/app/nope")

    def test_revoke_lease_drops_role(self):
        import hvac.exceptions
        reply = self.creds()
        response = self.client.sys.revoke_lease(reply["lease_id"])
        self.assertEqual(response.status_code, 204)
        self.assertFalse(self.role_exists(reply["data"]["username"]))
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest, "invalid lease"):
            self.client.sys.read_lease(reply["lease_id"])
        # Revoking it again is a no-op.
        self.assertEqual(self.client.sys.revoke_lease(reply["lease_id"]).status_code, 204)

    def test_revoke_async(self):
        reply = self.creds()
        response = self.server.vault_raw("PUT", "/v1/sys/leases/revoke",
                                         {"lease_id": reply["lease_id"], "sync": False})
        self.assertEqual(response.status, 202, response)
        self.assertEqual(response.body, b"")
        self.assertTrue(wait_for(lambda: not self.role_exists(reply["data"]["username"])))

    def test_revoke_prefix(self):
        replies = [self.creds() for _ in range(3)]
        other = self.creds(mount="dbcap")
        response = self.client.sys.revoke_prefix("database/creds/app")
        self.assertEqual(response.status_code, 204)
        roles = self.pg.roles()
        for reply in replies:
            self.assertNotIn(reply["data"]["username"], roles)
        self.assertIn(other["data"]["username"], roles)

        # The legacy path node-vault uses.
        response = self.server.vault_raw("PUT", "/v1/sys/revoke-prefix/dbcap/creds/app")
        self.assertEqual(response.status, 204, response)
        self.assertFalse(self.role_exists(other["data"]["username"]))

    def test_expiry_revokes_role(self):
        import hvac.exceptions
        reply = self.creds(role="short")
        self.assertEqual(reply["lease_duration"], 3)
        username = reply["data"]["username"]
        self.assertTrue(wait_for(lambda: not self.role_exists(username), timeout=20),
                        f"{username} still exists after its lease expired")
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest, "invalid lease"):
            self.client.sys.read_lease(reply["lease_id"])

    def test_token_revocation_revokes_leases(self):
        token = self.client.auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
        child = self.server.vault(token=token)
        replies = [self.creds(client=child) for _ in range(2)]
        self.client.auth.token.revoke(token)
        for reply in replies:
            username = reply["data"]["username"]
            self.assertTrue(wait_for(lambda: not self.role_exists(username)),
                            f"{username} outlived its token")

    def test_revoke_force_when_backend_fails(self):
        import hvac.exceptions
        self.client.sys.enable_secrets_engine("database", path="dbforce")
        self.configure("dbforce", self.pg.connection_url())
        self.client.secrets.database.create_role(
            "app", db_name="pg", creation_statements=CREATION, default_ttl=300, max_ttl=3600,
            mount_point="dbforce")
        reply = self.creds(mount="dbforce")
        username = reply["data"]["username"]

        # Point the connection at a socket directory with no server, so the
        # revocation fails: a normal revoke keeps the lease.
        self.client.secrets.database.configure(
            "pg", "postgresql-database-plugin", allowed_roles=["*"], verify_connection=False,
            connection_url=self.pg.connection_url().replace(self.pg.socket_dir, "/nonexistent"),
            username=self.pg.admin_user, password=self.pg.admin_password, mount_point="dbforce")
        with self.assertRaises(hvac.exceptions.VaultError):
            self.client.sys.revoke_lease(reply["lease_id"])
        self.assertEqual(self.client.sys.read_lease(reply["lease_id"])["data"]["id"],
                         reply["lease_id"])

        response = self.client.sys.revoke_force("dbforce/creds/app")
        self.assertEqual(response.status_code, 204)
        with self.assertRaisesRegex(hvac.exceptions.InvalidRequest, "invalid lease"):
            self.client.sys.read_lease(reply["lease_id"])
        # Force deletes the lease without revoking: the role is left to the
        # operator, which is what revoke-force promises.
        self.assertTrue(self.role_exists(username))
        self.pg.psql(f'DROP ROLE "{username}"')

    def test_irrevocable_count_and_list(self):
        response = self.server.vault_raw("GET", "/v1/sys/leases/count?type=irrevocable")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["lease_count"], 0)
        response = self.server.vault_raw("GET", "/v1/sys/leases?type=irrevocable")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["leases"], [])
        response = self.server.vault_raw("GET", "/v1/sys/leases/count?type=expiring")
        self.assertEqual(response.status, 404, response)
        response = self.server.vault_raw("POST", "/v1/sys/leases/tidy")
        self.assertEqual(response.status, 202, response)

    def test_raw_error_bodies(self):
        response = self.server.vault_raw("PUT", "/v1/sys/leases/lookup",
                                         {"lease_id": "database/creds/app/nope"})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.headers.get("Content-Type"), "application/json")
        self.assertEqual(response.json(), {"errors": ["invalid lease"]})
        response = self.server.vault_raw("PUT", "/v1/sys/leases/renew", {})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["lease_id must be specified"]})
        response = self.server.vault_raw("PUT", "/v1/sys/leases/revoke",
                                         {"lease_id": "database/creds/app/nope"})
        self.assertEqual(response.status, 204, response)

    def warden_lease(self, *args):
        env = dict(os.environ, VAULT_ADDR=self.server.vault_url, VAULT_TOKEN=ROOT_TOKEN,
                   VAULT_CACERT=self.server.bundle_path)
        return subprocess.run([wardenlib.WARDEN, "lease"] + list(args), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30)

    def test_cli(self):
        reply = self.creds()
        lease_id = reply["lease_id"]

        result = self.warden_lease("lookup", lease_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, rf"(?m)^Lease ID +: {re.escape(lease_id)}$")
        self.assertRegex(result.stdout, r"(?m)^Renewable +: true$")

        result = self.warden_lease("renew", "--increment", "2m", lease_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^Duration +: 2m$")

        result = self.warden_lease("revoke", lease_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"Revoked lease {lease_id}\n")
        self.assertFalse(self.role_exists(reply["data"]["username"]))

        result = self.warden_lease("lookup", lease_id)
        self.assertEqual(result.returncode, 1)
        self.assertIn("400: invalid lease", result.stderr)

        others = [self.creds() for _ in range(2)]
        result = self.warden_lease("revoke", "--prefix", "database/creds/app")
        self.assertEqual(result.returncode, 0, result.stderr)
        roles = self.pg.roles()
        for other in others:
            self.assertNotIn(other["data"]["username"], roles)

        result = self.warden_lease("revoke", "--force", lease_id)
        self.assertEqual(result.returncode, 2)


if __name__ == "__main__":
    pglib.skip_unless_available()
    try:
        import hvac  # noqa: F401
    except ImportError:
        print("SKIP: python3-hvac is not installed")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
