#!/usr/bin/python3
"""The database secrets engine against a real PostgreSQL 15, driven with
hvac (Debian's python3-hvac 0.11) and `warden db`. The tests cover
connection configs, roles, credentials that log in with exactly the role's
grants, and revocation that drops the user and ends its sessions. They
also cover expiry, TTL capping, renewal, rollback of a failed creation,
root rotation and recovery after a crash.

Skips (exit 77) when PostgreSQL 15 or hvac is missing."""
import concurrent.futures
import datetime
import os
import re
import subprocess
import sys
import tempfile
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

ROOT_TOKEN = "root"
CONFIG = "pg"
READER_STATEMENTS = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
    "VALID UNTIL '{{expiration}}'; GRANT SELECT ON allowed_table TO \"{{name}}\";",
]
USERNAME = re.compile(r"^v-root-([A-Za-z0-9_.-]{1,8})-[0-9A-Za-z]{20}-[0-9]{10}$")
LEASE_ID = re.compile(r"^database/creds/([A-Za-z0-9_.-]+)/[0-9A-Za-z]{24}$")


def wait_for(condition, timeout, interval=0.2):
    """Return True once condition() holds, False after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class DatabaseEngineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pglib.Postgres()
        cls.pg.psql("CREATE TABLE allowed_table (id int); INSERT INTO allowed_table VALUES (7); "
                    "CREATE TABLE other_table (id int); INSERT INTO other_table VALUES (8)")

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        self.server = Server(dev_root_token=ROOT_TOKEN)
        self.client = self.server.vault()
        self.client.sys.enable_secrets_engine("database")
        self.configure(allowed_roles=["reader", "short", "capped", "bad", "custom", "cli-*"])

    def tearDown(self):
        self.server.cleanup()
        # Users a test left behind would change the role lists of the next.
        self.pg.psql("DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles "
                     "WHERE rolname LIKE 'v-%' OR rolname = 'rotator' LOOP "
                     "EXECUTE format('DROP OWNED BY %I', r.rolname); "
                     "EXECUTE format('DROP ROLE %I', r.rolname); END LOOP; END $$",
                     user="postgres", password=self.pg.bootstrap_password)

    def configure(self, **fields):
        body = dict(connection_url=self.pg.connection_url(), username=self.pg.admin_user,
                    password=self.pg.admin_password)
        body.update(fields)
        return self.client.secrets.database.configure(CONFIG, "postgresql-database-plugin", **body)

    def create_role(self, name, statements=READER_STATEMENTS, **fields):
        return self.client.secrets.database.create_role(name, CONFIG, statements, **fields)

    def creds(self, role):
        return self.client.secrets.database.generate_credentials(role)

    def assert_login_fails(self, username, password):
        with self.assertRaises(pglib.PsqlError) as caught:
            self.pg.psql("SELECT 1", user=username, password=password)
        return str(caught.exception)

    def valid_until(self, username):
        rows = self.pg.psql("SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles "
                            f"WHERE rolname = '{username}'")
        return int(rows[0][0])

    # Credentials ------------------------------------------------------

    def test_creds_have_exactly_the_role_grants(self):
        self.create_role("reader", default_ttl=60, max_ttl=120)
        before = int(time.time())
        reply = self.creds("reader")
        after = int(time.time())

        self.assertRegex(reply["lease_id"], LEASE_ID)
        self.assertTrue(reply["lease_id"].startswith("database/creds/reader/"))
        self.assertEqual(reply["lease_duration"], 60)
        self.assertIs(reply["renewable"], True)
        self.assertIsNone(reply["warnings"])
        username = reply["data"]["username"]
        password = reply["data"]["password"]
        self.assertRegex(username, USERNAME)
        self.assertEqual(USERNAME.match(username).group(1), "reader")
        self.assertLessEqual(len(username), 63)
        self.assertEqual(len(password), 20)
        for pattern in ("[A-Z]", "[a-z]", "[0-9]", "-"):
            self.assertRegex(password, pattern)
        self.assertRegex(password, r"^[A-Za-z0-9-]+$")

        # VALID UNTIL is the lease's end plus 5 s.
        self.assertGreaterEqual(self.valid_until(username), before + 65)
        self.assertLessEqual(self.valid_until(username), after + 65)

        self.assertEqual(self.pg.psql("SELECT id FROM allowed_table", user=username,
                                      password=password), [["7"]])
        with self.assertRaises(pglib.PsqlError) as caught:
            self.pg.psql("INSERT INTO allowed_table VALUES (1)", user=username, password=password)
        self.assertIn("permission denied for table allowed_table", str(caught.exception))
        with self.assertRaises(pglib.PsqlError) as caught:
            self.pg.psql("SELECT id FROM other_table", user=username, password=password)
        self.assertIn("permission denied for table other_table", str(caught.exception))
        self.assertIn("password authentication failed",
                      self.assert_login_fails(username, password + "x"))

        # The lease keeps the username for revocation, but never shows it.
        lease = self.client.sys.read_lease(reply["lease_id"])["data"]
        self.assertEqual(lease["id"], reply["lease_id"])
        self.assertNotIn("username", lease)
        self.assertNotIn(password, str(lease))

    def test_unknown_role_is_400(self):
        response = self.server.vault_raw("GET", "/v1/database/creds/nosuch")
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["unknown role: nosuch"]})
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.creds("nosuch")

    def test_role_not_allowed_is_500(self):
        self.create_role("outsider")
        response = self.server.vault_raw("GET", "/v1/database/creds/outsider")
        self.assertEqual(response.status, 500, response)
        self.assertEqual(response.json(), {"errors": ['"outsider" is not an allowed role']})

        # A glob in allowed_roles matches.
        self.create_role("cli-reader")
        self.assertRegex(self.creds("cli-reader")["data"]["username"], r"^v-root-cli-read-")

    def test_ttl_above_max_is_capped(self):
        # A role's own default may not pass its max (400), so the cap here
        # is the mount's maximum.
        self.client.sys.tune_mount_configuration(path="database", max_lease_ttl=60)
        self.create_role("capped", default_ttl="2h", max_ttl="3h")
        reply = self.creds("capped")
        self.assertEqual(reply["lease_duration"], 60)
        self.assertEqual(reply["warnings"], ['TTL of "2h0m0s" exceeded the effective max_ttl of '
                                             '"1m0s"; TTL value is capped accordingly'])

        # A renewal past the max is capped as well, and moves VALID UNTIL.
        renewed = self.client.sys.renew_lease(reply["lease_id"], increment=3600)
        self.assertLessEqual(renewed["lease_duration"], 60)
        self.assertGreaterEqual(renewed["lease_duration"], 55)
        expected = int(time.time()) + renewed["lease_duration"] + 5
        self.assertLessEqual(abs(self.valid_until(reply["data"]["username"]) - expected), 2)

    def test_renew_moves_valid_until(self):
        self.create_role("reader", default_ttl=600, max_ttl=3600)
        reply = self.creds("reader")
        username = reply["data"]["username"]
        renewed = self.client.sys.renew_lease(reply["lease_id"], increment=30)
        self.assertEqual(renewed["lease_duration"], 30)
        self.assertIs(renewed["renewable"], True)
        self.assertLessEqual(abs(self.valid_until(username) - (int(time.time()) + 35)), 2)

        # A deleted role cannot renew.
        self.client.secrets.database.delete_role("reader")
        response = self.server.vault_raw("PUT", "/v1/sys/leases/renew",
                                         {"lease_id": reply["lease_id"], "increment": 30})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(),
                         {"errors": ['error during renew: could not find role with name "reader"']})

    # Revocation -------------------------------------------------------

    def test_revoke_drops_role_and_ends_sessions(self):
        self.create_role("reader")
        reply = self.creds("reader")
        username = reply["data"]["username"]
        password = reply["data"]["password"]
        session = self.pg.session(username, password)
        self.assertTrue(session.alive())
        self.assertIn(username, self.pg.roles())

        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(username, self.pg.roles())
        self.assertFalse(session.alive())
        self.assertIn("terminating connection due to administrator command", session.close())
        # PostgreSQL reports "password authentication failed" for a missing role.
        self.assertIn("password authentication failed",
                      self.assert_login_fails(username, password))

        # Revoking again is a no-op, and so is revoking a user already gone.
        response = self.server.vault_raw("PUT", "/v1/sys/leases/revoke",
                                         {"lease_id": reply["lease_id"]})
        self.assertEqual(response.status, 204, response)
        other = self.creds("reader")
        self.pg.psql(f"REVOKE ALL ON allowed_table FROM \"{other['data']['username']}\"; "
                     f"DROP ROLE \"{other['data']['username']}\"")
        self.client.sys.revoke_lease(other["lease_id"])
        response = self.server.vault_raw("PUT", "/v1/sys/leases/lookup",
                                         {"lease_id": other["lease_id"]})
        self.assertEqual(response.status, 400, response)

    def test_ttl_expiry_removes_role(self):
        self.create_role("short", default_ttl=3, max_ttl=10)
        reply = self.creds("short")
        username = reply["data"]["username"]
        self.assertEqual(reply["lease_duration"], 3)
        self.assertIn(username, self.pg.roles())
        # The role is dropped by the lease's revocation, not by VALID UNTIL,
        # which only refuses logins 8 s from now.
        self.assertTrue(wait_for(lambda: username not in self.pg.roles(), 12),
                        self.server.read_log()[-2000:])
        response = self.server.vault_raw("PUT", "/v1/sys/leases/lookup",
                                         {"lease_id": reply["lease_id"]})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["invalid lease"]})

    def test_custom_revocation_and_deleted_role(self):
        self.create_role("custom", revocation_statements=[
            "REVOKE ALL ON allowed_table FROM \"{{name}}\"; DROP ROLE \"{{name}}\";"])
        reply = self.creds("custom")
        username = reply["data"]["username"]

        # With the role deleted, the statements kept in the lease still run.
        self.client.secrets.database.delete_role("custom")
        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(username, self.pg.roles())

    def test_default_revocation_clears_other_schemas(self):
        self.pg.psql("CREATE SCHEMA IF NOT EXISTS reports; "
                     "CREATE TABLE IF NOT EXISTS reports.daily (id int)")
        self.create_role("reader", [READER_STATEMENTS[0] + " GRANT USAGE ON SCHEMA reports TO "
                                    "\"{{name}}\"; GRANT SELECT ON reports.daily TO \"{{name}}\";"])
        reply = self.creds("reader")
        username = reply["data"]["username"]
        self.assertEqual(self.pg.psql("SELECT count(*) FROM reports.daily", user=username,
                                      password=reply["data"]["password"]), [["0"]])
        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(username, self.pg.roles())

    def test_default_revocation_clears_column_grants(self):
        # A column grant in a schema where the user holds nothing else shows
        # only in the columns' ACLs; without a REVOKE there, PostgreSQL
        # refuses to drop the user.
        self.pg.psql("CREATE SCHEMA IF NOT EXISTS ledger; "
                     "CREATE TABLE IF NOT EXISTS ledger.entries (id int, amount int)")
        self.create_role("reader", [READER_STATEMENTS[0] +
                                    " GRANT SELECT (id) ON ledger.entries TO \"{{name}}\";"])
        reply = self.creds("reader")
        username = reply["data"]["username"]
        self.assertEqual(self.pg.psql(f"SELECT has_column_privilege('{username}', "
                                      "'ledger.entries', 'id', 'SELECT')"), [["t"]])
        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(username, self.pg.roles())

    # Failures and rollback --------------------------------------------

    def test_failed_creation_rolls_back(self):
        self.create_role("bad", [
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';",
            "GRANT SELECT ON missing_table TO \"{{name}}\";"])
        roles_before = self.pg.roles()
        response = self.server.vault_raw("GET", "/v1/database/creds/bad")
        self.assertEqual(response.status, 500, response)
        message = response.json()["errors"][0]
        self.assertEqual(message, "failed to create the database user: "
                                  'relation "missing_table" does not exist')
        self.assertEqual(self.pg.roles(), roles_before)
        # No lease is left behind.
        response = self.server.vault_raw("LIST", "/v1/sys/leases/lookup/database/creds/bad/")
        self.assertEqual(response.status, 404, response)

    def test_error_never_shows_password(self):
        # PostgreSQL quotes the bad value, here the password, in its message.
        self.create_role("bad", ["SELECT '{{password}}'::int;"])
        response = self.server.vault_raw("GET", "/v1/database/creds/bad")
        self.assertEqual(response.status, 500, response)
        self.assertEqual(response.json(), {"errors": [
            "failed to create the database user: "
            'invalid input syntax for type integer: "[password]"']})

    # Configs and roles ------------------------------------------------

    def test_config_read_hides_password(self):
        config = self.client.secrets.database.read_connection(CONFIG)["data"]
        self.assertEqual(config["plugin_name"], "postgresql-database-plugin")
        self.assertEqual(config["allowed_roles"],
                         ["reader", "short", "capped", "bad", "custom", "cli-*"])
        self.assertIs(config["verify_connection"], True)
        self.assertEqual(config["connection_details"],
                         {"connection_url": self.pg.connection_url(),
                          "username": self.pg.admin_user})
        self.assertEqual(config["root_credentials_rotate_statements"], [])
        self.assertNotIn(self.pg.admin_password, str(config))
        self.assertEqual(self.client.secrets.database.list_connections()["data"]["keys"], [CONFIG])

        # A literal password in the URL is redacted on read, with a warning.
        response = self.server.vault_raw("POST", "/v1/database/config/literal", {
            "plugin_name": "postgresql-database-plugin", "verify_connection": False,
            "connection_url": "postgresql://warden:s3cret@localhost/app"})
        self.assertEqual(response.status, 200, response)
        self.assertIn("Password found in connection_url", response.json()["warnings"][0])
        read = self.client.secrets.database.read_connection("literal")["data"]
        self.assertEqual(read["connection_details"]["connection_url"],
                         "postgresql://warden:xxxxx@localhost/app")

    def test_config_verification_failure_is_400(self):
        response = self.server.vault_raw("POST", "/v1/database/config/broken", {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": self.pg.connection_url(), "username": "warden",
            "password": "Wrong-Password-123"})
        self.assertEqual(response.status, 400, response)
        message = response.json()["errors"][0]
        self.assertTrue(message.startswith("error creating database object: error verifying "
                                           "connection: failed to connect to database \"app\" "
                                           f"at \"{self.pg.socket_dir}\""), message)
        self.assertIn('password authentication failed for user "warden"', message)
        self.assertNotIn("Wrong-Password-123", message)
        self.assertEqual(self.server.vault_raw("GET", "/v1/database/config/broken").status, 404)

        # verify_connection=false (as Vault's CLI sends it, a string) stores it.
        response = self.server.vault_raw("POST", "/v1/database/config/broken", {
            "plugin_name": "postgresql-database-plugin", "verify_connection": "false",
            "connection_url": self.pg.connection_url(), "username": "warden",
            "password": "Wrong-Password-123", "password_policy": "strong"})
        self.assertEqual(response.status, 200, response)
        self.assertIn("password_policy is ignored", response.json()["warnings"][0])

        for body, expected in [
                ({"plugin_name": "mysql-database-plugin", "connection_url": "x"},
                 'plugin_name "mysql-database-plugin" is not supported'),
                ({"plugin_name": "postgresql-database-plugin"}, "connection_url cannot be empty"),
                ({}, "empty plugin name")]:
            response = self.server.vault_raw("POST", "/v1/database/config/other", body)
            self.assertEqual(response.status, 400, response)
            self.assertIn(expected, response.json()["errors"][0])

        self.client.secrets.database.delete_connection("broken")
        self.assertEqual(self.server.vault_raw("GET", "/v1/database/config/broken").status, 404)

    def test_role_crud_and_checks(self):
        response = self.server.vault_raw("POST", "/v1/database/roles/orphan", {
            "db_name": "nosuch", "creation_statements": READER_STATEMENTS})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(),
                         {"errors": ['unknown database config: "nosuch" (db_name)']})
        response = self.server.vault_raw("POST", "/v1/database/roles/empty", {"db_name": CONFIG})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["creation_statements are required"]})

        self.assertEqual(self.server.vault_raw("LIST", "/v1/database/roles").status, 404)
        self.create_role("reader", default_ttl="1h", max_ttl="24h",
                         renew_statements=["ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}'"])
        role = self.client.secrets.database.read_role("reader")["data"]
        self.assertEqual(role, {
            "db_name": CONFIG, "creation_statements": READER_STATEMENTS,
            "revocation_statements": [], "rollback_statements": [],
            "renew_statements": ["ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}'"],
            "default_ttl": 3600, "max_ttl": 86400, "credential_type": "password"})
        self.assertEqual(self.client.secrets.database.list_roles()["data"]["keys"], ["reader"])

        # An update changes only the fields it names.
        response = self.server.vault_raw("POST", "/v1/database/roles/reader",
                                         {"default_ttl": 120, "unknown_field": 1})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["warnings"],
                         ["Endpoint ignored these unrecognized parameters: [unknown_field]"])
        role = self.client.secrets.database.read_role("reader")["data"]
        self.assertEqual((role["default_ttl"], role["max_ttl"]), (120, 86400))

        self.client.secrets.database.delete_role("reader")
        self.assertEqual(self.server.vault_raw("GET", "/v1/database/roles/reader").status, 404)
        self.assertEqual(self.server.vault_raw("GET", "/v1/database/roles/a/b").status, 404)

    def test_scram_password_and_unmount(self):
        # With scram-sha-256 the server stores the verifier warden computed.
        self.configure(allowed_roles=["reader"], password_authentication="scram-sha-256")
        self.create_role("reader")
        reply = self.creds("reader")
        username = reply["data"]["username"]
        self.assertEqual(self.pg.psql("SELECT id FROM allowed_table", user=username,
                                      password=reply["data"]["password"]), [["7"]])
        verifier = self.pg.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{username}'")
        self.assertTrue(verifier[0][0].startswith("SCRAM-SHA-256$4096:"), verifier)

        response = self.server.vault_raw("POST", "/v1/database/reset/pg")
        self.assertEqual(response.status, 204, response)
        response = self.server.vault_raw("POST", "/v1/database/reset/nosuch")
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ['unknown database config: "nosuch"']})

        # Unmounting revokes the mount's leases, so the user goes too.
        self.client.sys.disable_secrets_engine("database")
        self.assertNotIn(username, self.pg.roles())

    # Connections ------------------------------------------------------

    def test_broken_connection_reopens_once(self):
        # Several worker threads keep a connection each, and a request may
        # go to one that has none yet: end them all until a request finds
        # its connection broken.
        self.create_role("reader")
        self.creds("reader")
        for _ in range(20):
            self.pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'warden'")
            reply = self.creds("reader")
            self.assertIn(reply["data"]["username"], self.pg.roles())
            if "connection broke; reconnecting once" in self.server.read_log():
                break
        self.assertIn("connection broke; reconnecting once", self.server.read_log())

    def test_rotate_root(self):
        # A superuser, as Vault's default revocation needs: it revokes on
        # every table of public.
        self.pg.psql("CREATE ROLE rotator WITH LOGIN SUPERUSER PASSWORD 'Rotator-Initial-1'")
        self.client.secrets.database.configure(
            "rotating", "postgresql-database-plugin", allowed_roles=["reader"],
            connection_url=self.pg.connection_url(), username="rotator",
            password="Rotator-Initial-1")
        self.client.secrets.database.create_role("reader", "rotating", READER_STATEMENTS)

        response = self.client.secrets.database.rotate_root_credentials("rotating")
        self.assertEqual(response.status_code, 204)
        self.assertIn("password authentication failed",
                      self.assert_login_fails("rotator", "Rotator-Initial-1"))
        self.assertNotIn("Rotator-Initial-1", self.server.read_log())

        # The server logs in with the new password, which only it has.
        reply = self.client.secrets.database.generate_credentials("reader")
        self.assertEqual(self.pg.psql("SELECT id FROM allowed_table",
                                      user=reply["data"]["username"],
                                      password=reply["data"]["password"]), [["7"]])
        self.client.secrets.database.rotate_root_credentials("rotating")
        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(reply["data"]["username"], self.pg.roles())

    def test_concurrent_creds_and_revokes(self):
        # Users are made and dropped on several worker threads at once, and
        # every one of them changes allowed_table's privileges: none may
        # fail with PostgreSQL's "tuple concurrently updated".
        self.create_role("reader")
        count = 16

        def issue(_):
            return self.server.vault().secrets.database.generate_credentials("reader")

        def revoke(reply):
            self.server.vault().sys.revoke_lease(reply["lease_id"])
            return reply["data"]["username"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(issue, range(count)))
            usernames = {reply["data"]["username"] for reply in replies}
            self.assertEqual(len(usernames), count)
            self.assertLessEqual(usernames, self.pg.roles())
            revoked = set(pool.map(revoke, replies))
        self.assertEqual(revoked, usernames)
        self.assertEqual(usernames & self.pg.roles(), set())

    def test_revoke_without_superuser(self):
        # An admin with CREATEROLE alone may create and drop users but not
        # end their sessions: the revocation still drops the user and warns.
        self.pg.psql("CREATE ROLE creator WITH LOGIN CREATEROLE PASSWORD 'Creator-Pass-1'; "
                     "CREATE TABLE creator_table (id int); INSERT INTO creator_table VALUES (5); "
                     "ALTER TABLE creator_table OWNER TO creator")
        self.addCleanup(self.pg.psql, "DROP TABLE creator_table; DROP ROLE creator")
        self.client.secrets.database.configure(
            "limited", "postgresql-database-plugin", allowed_roles=["limited-reader"],
            connection_url=self.pg.connection_url(), username="creator",
            password="Creator-Pass-1")
        self.client.secrets.database.create_role(
            "limited-reader", "limited",
            ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}'; "
             "GRANT SELECT ON creator_table TO \"{{name}}\";"],
            # The default revocation would fail: it revokes on every table
            # of public, and creator owns only creator_table.
            revocation_statements=["REVOKE ALL ON creator_table FROM \"{{name}}\"; "
                                   "DROP ROLE \"{{name}}\";"])
        reply = self.client.secrets.database.generate_credentials("limited-reader")
        username = reply["data"]["username"]
        session = self.pg.session(username, reply["data"]["password"])
        self.addCleanup(session.close)
        self.assertTrue(session.alive())

        self.client.sys.revoke_lease(reply["lease_id"])
        self.assertNotIn(username, self.pg.roles())
        self.assertIn("failed to end the user's sessions", self.server.read_log())

    # Crash recovery ------------------------------------------------------

    def test_crash_recovery_revokes_expired_lease(self):
        # A server whose barrier survives restarts, unlike the dev server.
        server = Server(localhost_name=True)
        self.addCleanup(server.cleanup)
        init = server.vault(token="").sys.initialize(secret_shares=1, secret_threshold=1)
        server.vault(token="").sys.submit_unseal_key(init["keys"][0])
        client = server.vault(token=init["root_token"])
        client.sys.enable_secrets_engine("database")
        client.secrets.database.configure(
            CONFIG, "postgresql-database-plugin", allowed_roles=["short"],
            connection_url=self.pg.connection_url(), username=self.pg.admin_user,
            password=self.pg.admin_password)
        client.secrets.database.create_role("short", CONFIG, READER_STATEMENTS, default_ttl=2)
        username = client.secrets.database.generate_credentials("short")["data"]["username"]

        # The lease expires while the server is down; after the unseal the
        # restored lease is due at once.
        server.process.kill()
        server.process.wait()
        server.log.close()
        time.sleep(3)
        self.assertIn(username, self.pg.roles())
        server.log = open(server.log_path, "a")
        server.process = subprocess.Popen(
            [wardenlib.WARDEN, "server", "--trust-domain", server.trust_domain, "--data-dir",
             server.data_dir, "--listen", "127.0.0.1:0", "--policy-listen", "127.0.0.1:0",
             "--secrets-listen", "127.0.0.1:0", "--admin-socket", server.admin_socket,
             "--config", os.path.join(server.dir, "server.yaml")] + server.datastore_args,
            stdout=server.log, stderr=subprocess.STDOUT)
        open(server.log_path, "w").close()
        server.port = server._wait_ready()
        server.vault(token="").sys.submit_unseal_key(init["keys"][0])
        self.assertTrue(wait_for(lambda: username not in self.pg.roles(), 10),
                        server.read_log()[-2000:])

    # The CLI ------------------------------------------------------------

    def test_warden_db_cli(self):
        env = dict(os.environ, VAULT_ADDR=self.server.vault_url, VAULT_TOKEN=ROOT_TOKEN,
                   VAULT_CACERT=self.server.bundle_path)

        def warden_db(*args, stdin=None):
            return subprocess.run([wardenlib.WARDEN, "db", *args], env=env, input=stdin,
                                  capture_output=True, text=True, timeout=30)

        result = warden_db("config", "write", "cli", "--connection-url", self.pg.connection_url(),
                           "--username", self.pg.admin_user, "--password-file", "-",
                           "--allowed-roles", "cli-reader", stdin=self.pg.admin_password + "\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Success! Data written to: database/config/cli\n")
        result = warden_db("config", "list")
        self.assertEqual(result.stdout, "cli\npg\n")

        result = warden_db("role", "write", "cli-reader", "--db-name", "cli",
                           "--creation-statement", READER_STATEMENTS[0], "--default-ttl", "5m")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = warden_db("role", "read", "cli-reader", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('"default_ttl": 300', result.stdout)

        result = warden_db("creds", "cli-reader")
        self.assertEqual(result.returncode, 0, result.stderr)
        fields = dict(line.split(None, 1) for line in result.stdout.splitlines()[2:])
        self.assertRegex(fields["lease_id"], r"^database/creds/cli-reader/[0-9A-Za-z]{24}$")
        self.assertEqual(fields["lease_duration"], "300")
        self.assertEqual(self.pg.psql("SELECT id FROM allowed_table", user=fields["username"],
                                      password=fields["password"]), [["7"]])

        result = warden_db("creds", "nosuch")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden db creds: the server returned 400: "
                                        "unknown role: nosuch\n")
        result = warden_db("config", "read", "cli")
        self.assertNotIn(self.pg.admin_password, result.stdout)
        self.assertIn("postgresql-database-plugin", result.stdout)
        # The other tests need the fixture's password back afterwards.
        self.addCleanup(self.pg.psql, f"ALTER ROLE warden PASSWORD '{self.pg.admin_password}'",
                        user="postgres", password=self.pg.bootstrap_password)
        result = warden_db("rotate-root", "pg")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Success! Rotated the root credentials of pg\n")
        self.assertIn("password authentication failed",
                      self.assert_login_fails(self.pg.admin_user, self.pg.admin_password))


if __name__ == "__main__":
    unittest.main()
