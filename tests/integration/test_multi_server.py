#!/usr/bin/python3
"""Three `warden server` processes on loopback ports share one trust domain
through one throwaway PostgreSQL datastore (pglib), unsealed with the same
key. An entry created through the first server is listed by the others,
and X.509-SVIDs issued for it by each server chain to one bundle.
/v1/health shows exactly one holder of the singleton lock. Then the holder
is killed with SIGKILL while dynamic PostgreSQL credentials are expiring.
Another server takes the lock within the takeover bound (10 s) plus a tick
and finishes the revocations. No role made by warden is left, and every
lease is revoked exactly once across the three servers' logs. A holder
stopped with SIGSTOP, on servers with a 3 s takeover bound, is replaced as
fast, stops once it runs again, and no lease is revoked twice. Skips (exit
77) when no cluster can start."""
import collections
import re
import signal
import ssl
import sys
import time
import unittest

from cryptography.hazmat.primitives.asymmetric import ec, padding

import pglib
import wardenlib
from wardenlib import Server, csr_pem, load_certs

TAKEOVER_SECONDS = 10
# singleton_takeover of FrozenHolderTest's servers.
FROZEN_TAKEOVER_SECONDS = 3
TICK_SECONDS = 1
LEASES = 24
TTL_SECONDS = 6
CREATION = ['CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' '
            "VALID UNTIL '{{expiration}}'"]
SERVER_CONFIG = "identity:\n  dns_names: [localhost]\n"


def wait_for(condition, timeout, interval=0.2):
    """Polls condition until it returns a true value, and returns the last
    value, which is false when timeout seconds passed first."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def verify_signed_by(leaf, ca):
    """Raises unless ca's key signed leaf (EC or RSA CAs)."""
    key = ca.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(leaf.signature, leaf.tbs_certificate_bytes,
                   ec.ECDSA(leaf.signature_hash_algorithm))
    else:
        key.verify(leaf.signature, leaf.tbs_certificate_bytes, padding.PKCS1v15(),
                   leaf.signature_hash_algorithm)


def serves_tls(server):
    """Whether the serving certificate verifies with the bundle."""
    try:
        server.vault_raw("GET", "/v1/sys/health")
        return True
    except (ssl.SSLError, OSError):
        return False


class SharedDatastoreCase(unittest.TestCase):
    """Three servers on one fresh PostgreSQL cluster, with server_config, a
    database secrets engine and its role "app"."""
    server_config = SERVER_CONFIG

    @classmethod
    def setUpClass(cls):
        cls.pg = pglib.Postgres(database="warden")
        cls.url = (f"postgresql://{cls.pg.admin_user}:{cls.pg.admin_password}@/warden"
                   f"?host={cls.pg.socket_dir}")
        cls.servers = []
        try:
            cls.set_up_servers()
        except BaseException:
            for server in cls.servers:
                print(server.read_log()[-3000:], file=sys.stderr)
                server.cleanup()
            cls.pg.stop()
            raise

    @classmethod
    def set_up_servers(cls):
        first = Server(config=cls.server_config, datastore=cls.url)
        cls.servers.append(first)
        client = first.vault(token="")
        init = client.sys.initialize(secret_shares=1, secret_threshold=1)
        cls.unseal_key = init["keys"][0]
        cls.root_token = init["root_token"]
        status = client.sys.submit_unseal_key(cls.unseal_key)
        assert status["sealed"] is False, status
        client.adapter.close()

        # The secrets engine is set up before the others unseal, so their
        # mount tables hold it.
        root = first.vault(token=cls.root_token)
        root.sys.enable_secrets_engine("database", path="database")
        root.secrets.database.configure(
            "pg", "postgresql-database-plugin", allowed_roles=["app"],
            connection_url=cls.pg.connection_url(), username=cls.pg.admin_user,
            password=cls.pg.admin_password)
        root.secrets.database.create_role("app", db_name="pg", creation_statements=CREATION,
                                          default_ttl=TTL_SECONDS, max_ttl=TTL_SECONDS)
        root.adapter.close()

        for _ in range(2):
            server = Server(config=cls.server_config, datastore=cls.url)
            cls.servers.append(server)
            # Sealed, with no serving certificate of its own yet: the admin
            # socket takes the unseal key.
            response = server.admin("PUT", "/v1/sys/unseal", {"key": cls.unseal_key})
            assert response.status == 200, response
            assert response.json()["sealed"] is False, response
        # The tick after the unseal replaces the placeholder serving
        # certificate with an SVID of the shared CA.
        for server in cls.servers:
            assert wait_for(lambda s=server: serves_tls(s), 10), server.read_log()

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.cleanup()
        cls.pg.stop()

    def health(self, server):
        response = server.admin("GET", "/v1/health")
        self.assertEqual(response.status, 200, response)
        return response.json()

    def holders(self, servers):
        return [server for server in servers
                if server.process.poll() is None and self.health(server)["singleton"]]

    def warden_roles(self):
        return {name for name in self.pg.roles() if name.startswith("v-")}

    def make_leases(self):
        """Issues LEASES credentials through the servers in turn over about
        3 s, so that they expire over as long, and returns the lease ids
        mapped to role names and the time the first was issued."""
        leases = {}
        started = time.monotonic()
        for index in range(LEASES):
            server = self.servers[index % 3]
            client = server.vault(token=self.root_token)
            reply = client.secrets.database.generate_credentials("app")
            client.adapter.close()
            leases[reply["lease_id"]] = reply["data"]["username"]
            time.sleep(3.0 / LEASES)
        self.assertEqual(set(leases.values()) - self.warden_roles(), set())
        return leases, started

    def revocation_counts(self):
        """Counts the "expired lease revoked" log lines of each lease id
        across the servers' logs."""
        revoked = collections.Counter()
        for server in self.servers:
            revoked.update(re.findall(r"expired lease revoked .*?\blease_id=(\S+)",
                                      server.read_log()))
        return revoked

    def granted_locks(self):
        rows = self.pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                            " AND classid = 2002874980 AND objid = 1701729095 AND granted")
        return int(rows[0][0])


class MultiServerTest(SharedDatastoreCase):

    def test_1_identity_shared(self):
        first, second, third = self.servers
        bundles = {server.admin("GET", "/v1/bundle?format=pem").body for server in self.servers}
        self.assertEqual(len(bundles), 1, "the servers publish different bundles")
        ca = load_certs(first.bundle_pem)[0]

        # The agent attests at the second server with a token the first made.
        token = first.join_token()["token"]
        agent_id, node_cert, node_key = second.attest(token)
        entry = first.create_entry("spiffe://example.org/api", agent_id)
        for server in self.servers:
            listed = server.admin("GET", "/v1/entries?limit=100")
            self.assertEqual(listed.status, 200, listed)
            self.assertEqual([e["id"] for e in listed.json()["entries"]], [entry["id"]])

        serials = set()
        for server in self.servers:
            key = ec.generate_private_key(ec.SECP256R1())
            response = server.tls("POST", "/v1/svid/x509",
                                  {"entry_id": entry["id"], "csr": csr_pem(key, "api")},
                                  cert=node_cert, key=node_key)
            self.assertEqual(response.status, 200, response)
            leaf = load_certs(response.json()["svid"])[0]
            self.assertEqual(leaf.issuer, ca.subject)
            verify_signed_by(leaf, ca)
            serials.add(leaf.serial_number)
        self.assertEqual(len(serials), 3)
        # Every issued serial is recorded in the one datastore.
        rows = self.pg.psql(f"SELECT count(*) FROM authority_serials WHERE entry_id = "
                            f"'{entry['id']}'")
        self.assertEqual(rows, [["3"]])

    def test_2_one_singleton_holder(self):
        holders = wait_for(lambda: len(self.holders(self.servers)) == 1, 5)
        self.assertTrue(holders, [self.health(s) for s in self.servers])
        for server in self.servers:
            health = self.health(server)
            self.assertEqual(health["datastore"]["backend"], "postgres")
            self.assertGreater(health["datastore"]["latency_ms"], 0, health)
            self.assertEqual(health["singleton_lock"]["shared"], True)
            self.assertEqual(health["singleton_lock"]["takeover_seconds"], TAKEOVER_SECONDS)
            self.assertRegex(health["singleton_lock"]["this_node"], r"^.+:\d+:[0-9a-f]{8}$")
        self.assertEqual(sum(1 for s in self.servers if self.health(s)["singleton"]), 1)
        # Every server names the holder's node, as pg_stat_activity shows it.
        holder = self.holders(self.servers)[0]
        holder_node = self.health(holder)["singleton_lock"]["this_node"]
        for server in self.servers:
            self.assertTrue(wait_for(
                lambda s=server: self.health(s)["singleton_lock"]["holder_node"] == holder_node,
                TICK_SECONDS + 2), self.health(server))

    def test_3_takeover_finishes_revocations(self):
        holder = wait_for(lambda: self.holders(self.servers), 5)[0]
        others = [server for server in self.servers if server is not holder]

        # Leases from every server, expiring over about 3 s, so the kill
        # lands while some are being revoked.
        leases, started = self.make_leases()

        # Kill the holder once the first leases have expired and the
        # revocations are under way.
        time.sleep(max(0.0, started + TTL_SECONDS + 1.5 - time.monotonic()))
        revoked_before = len(set(leases.values()) - self.warden_roles())
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait()
        killed_at = time.monotonic()

        new_holders = wait_for(lambda: self.holders(others), TAKEOVER_SECONDS + TICK_SECONDS + 5,
                               interval=0.1)
        takeover = time.monotonic() - killed_at
        self.assertTrue(new_holders, "no server took the singleton lock over")
        self.assertEqual(len(new_holders), 1)
        print(f"takeover after {takeover:.2f} s; {revoked_before} of {LEASES} roles dropped "
              f"before the kill", file=sys.stderr)
        self.assertLessEqual(takeover, TAKEOVER_SECONDS + TICK_SECONDS)

        # The new holder reads the leases again and revokes the rest; a
        # lease the dead holder claimed waits until its claim is stale.
        all_dropped = wait_for(lambda: not self.warden_roles(),
                               3 * TAKEOVER_SECONDS + TTL_SECONDS, interval=0.5)
        self.assertTrue(all_dropped, f"roles outlived their leases: {sorted(self.warden_roles())}\n"
                        f"{new_holders[0].read_log()[-3000:]}")
        response = new_holders[0].vault_raw("LIST", "/v1/sys/leases/lookup/database/creds/app/",
                                            token=self.root_token)
        self.assertEqual(response.status, 404, response)

        # Each lease was revoked exactly once, by one server or the other.
        revoked = self.revocation_counts()
        self.assertEqual(set(revoked), set(leases))
        self.assertEqual({count for count in revoked.values()}, {1}, revoked)
        self.assertIn("singleton lock taken", new_holders[0].read_log())


    def test_4_lost_lock_session(self):
        alive = [server for server in self.servers if server.process.poll() is None]
        holder = wait_for(lambda: self.holders(alive), 5)[0]
        # Ending the lock's session, as PostgreSQL does for a dead peer,
        # frees the lock: the holder sees it at its next tick and stops.
        ended = self.pg.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND classid = 2002874980 AND objid = 1701729095 AND objsubid = 1 AND granted")
        self.assertEqual(ended, [["t"]])
        self.assertTrue(wait_for(lambda: "singleton lock lost" in holder.read_log(),
                                 TICK_SECONDS + 3), holder.read_log()[-2000:])
        holders = wait_for(lambda: self.holders(alive), TICK_SECONDS + 3, interval=0.1)
        self.assertEqual(len(holders), 1)
        self.assertEqual(self.granted_locks(), 1)


class FrozenHolderTest(SharedDatastoreCase):
    """The holder stopped with SIGSTOP keeps its socket, and its kernel
    acknowledges keepalives, so only the lock session's idle_session_timeout
    ends its lock. Another server takes over within FROZEN_TAKEOVER_SECONDS
    plus a tick. Woken with SIGCONT, the old holder finds its session gone
    and stops, and no lease is revoked twice."""
    server_config = (f"singleton_takeover: {FROZEN_TAKEOVER_SECONDS}s\n"
                     "identity:\n  dns_names: [localhost]\n")

    def test_frozen_holder_replaced(self):
        holder = wait_for(lambda: self.holders(self.servers), 5)[0]
        others = [server for server in self.servers if server is not holder]
        self.assertEqual(self.health(holder)["singleton_lock"]["takeover_seconds"],
                         FROZEN_TAKEOVER_SECONDS)

        leases, started = self.make_leases()
        time.sleep(max(0.0, started + TTL_SECONDS + 1.5 - time.monotonic()))
        holder.process.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            # A stopped process serves no request, so the test queries only
            # the others.
            new_holders = wait_for(lambda: self.holders(others),
                                   FROZEN_TAKEOVER_SECONDS + TICK_SECONDS + 5, interval=0.1)
            takeover = time.monotonic() - stopped_at
            self.assertTrue(new_holders, "no server took the lock from the stopped holder")
            self.assertEqual(len(new_holders), 1)
            print(f"takeover from a stopped holder after {takeover:.2f} s", file=sys.stderr)
            self.assertLessEqual(takeover, FROZEN_TAKEOVER_SECONDS + TICK_SECONDS)
            self.assertEqual(self.granted_locks(), 1)

            # The new holder revokes the rest while the old one is stopped;
            # a lease the old one claimed waits until its claim is stale.
            all_dropped = wait_for(lambda: not self.warden_roles(),
                                   3 * FROZEN_TAKEOVER_SECONDS + TTL_SECONDS, interval=0.5)
            self.assertTrue(all_dropped, f"roles outlived their leases: "
                            f"{sorted(self.warden_roles())}")
        finally:
            holder.process.send_signal(signal.SIGCONT)

        self.assertTrue(wait_for(lambda: "singleton lock lost" in holder.read_log(),
                                 TICK_SECONDS + 3), holder.read_log()[-2000:])
        self.assertEqual(self.health(holder)["singleton"], False)
        self.assertEqual(self.health(holder)["singleton_lock"]["held"], False)
        new_node = self.health(new_holders[0])["singleton_lock"]["this_node"]
        self.assertTrue(wait_for(
            lambda: self.health(holder)["singleton_lock"]["holder_node"] == new_node,
            TICK_SECONDS + 3), self.health(holder))
        # A few ticks later the woken server still holds nothing, and one
        # lock is granted.
        time.sleep(3 * TICK_SECONDS)
        self.assertEqual(self.holders(self.servers), new_holders)
        self.assertEqual(self.granted_locks(), 1)

        revoked = self.revocation_counts()
        self.assertEqual(set(revoked), set(leases))
        self.assertEqual({count for count in revoked.values()}, {1}, revoked)

if __name__ == "__main__":
    pglib.skip_unless_available()
    try:
        import hvac  # noqa: F401
    except ImportError:
        print("SKIP: python3-hvac is not installed")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
