#!/usr/bin/python3
"""Server failover of `warden agent run`, change notification between
servers, and the cost of an idle sync.

The agent takes a comma-separated list of server addresses: with a dead
port first it attests and syncs through the second, and logs the switch.
Servers that share one PostgreSQL datastore stand in for each other when
one is killed, and a policy written through one is served by the other
within a second, also after the listener connection was lost (these run
with WARDEN_TEST_DATASTORE=postgres only). An agent sync with nothing
changed returns "unchanged" from memory, which /v1/health's
datastore_statements shows as no statement, against five for the full
delta reply. The caller checks kept in memory still refuse an agent on
its first request after its SVID was revoked, its node banned or its
serial retired by renewals, through the same server or another one."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from cryptography.hazmat.primitives.asymmetric import ec

import wardenlib
from wardenlib import Server, csr_pem, key_pem, load_certs, start_peer, wait_until

SYNC_INTERVAL = 1
# The first pass tries every address at once; the slack is for sanitizer
# builds.
SWITCH_BOUND_SECONDS = 20


def dead_port():
    """Returns a loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A `warden agent run` process with its own data directory and socket."""

    def __init__(self, work_dir, addresses, server, join_token, repeat_flag=False):
        self.data_dir = os.path.join(work_dir, "agent-data")
        self.socket = os.path.join(work_dir, "agent.sock")
        self.log_path = os.path.join(work_dir, "agent.log")
        self.log = open(self.log_path, "w")
        if repeat_flag:
            address_args = [arg for a in addresses for arg in ("--server-address", a)]
        else:
            address_args = ["--server-address", ",".join(addresses)]
        self.process = subprocess.Popen(
            [wardenlib.WARDEN, "agent", "run", *address_args,
             "--trust-domain", server.trust_domain, "--trust-bundle", server.bundle_path,
             "--join-token", join_token, "--data-dir", self.data_dir,
             "--socket-path", self.socket, "--sync-interval", f"{SYNC_INTERVAL}s",
             "--log-level", "debug"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.endpoint_line = self.process.stdout.readline().strip()
        if not self.endpoint_line:
            self.process.wait(10)
            raise RuntimeError(f"agent exited {self.process.returncode}:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            match = re.search(pattern, self.read_log())
            if match:
                return match
            time.sleep(0.1)
        self.fail_text = self.read_log()
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.log.close()


class AgentFailoverTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="warden-failover-")
        self.servers = []
        self.agents = []

    def tearDown(self):
        for agent in self.agents:
            agent.stop()
        for server in self.servers:
            server.cleanup()

    def test_dead_first_address(self):
        """The first address refuses connections: the agent attests through
        the second, sticks to it and logs the switch once. The addresses
        come as a repeated flag."""
        server = Server("example.org")
        self.servers.append(server)
        token = server.join_token()
        dead = f"127.0.0.1:{dead_port()}"
        live = f"127.0.0.1:{server.port}"
        agent = Agent(self.work, [dead, live], server, token["token"], repeat_flag=True)
        self.agents.append(agent)
        self.assertEqual(agent.endpoint_line, f"SPIFFE_ENDPOINT_SOCKET=unix://{agent.socket}")
        self.assertIsNotNone(agent.wait_log(r"node attested", SWITCH_BOUND_SECONDS),
                             agent.read_log())
        log = agent.read_log()
        switches = re.findall(r"switched server.*", log)
        self.assertEqual(len(switches), 1, log)
        self.assertIn(f"from={dead}", switches[0])
        self.assertIn(f"to={live}", switches[0])
        # Three more passes on the live server, without switching back.
        time.sleep(3 * SYNC_INTERVAL + 1)
        self.assertIsNone(agent.process.poll(), agent.read_log())
        log = agent.read_log()
        self.assertEqual(len(re.findall(r"switched server", log)), 1, log)
        self.assertNotIn("sync failed", log)

    def test_killed_server(self):
        """Three servers on one PostgreSQL datastore: the agent moves to the
        next when its server is killed and keeps syncing there."""
        if wardenlib.datastore_under_test() != "postgres":
            self.skipTest("needs WARDEN_TEST_DATASTORE=postgres: servers share a datastore")
        first = Server("example.org")
        self.servers.append(first)
        for _ in range(2):
            self.servers.append(start_peer(first))
        token = first.join_token()
        addresses = [f"127.0.0.1:{s.port}" for s in self.servers]
        agent = Agent(self.work, addresses, first, token["token"])
        self.agents.append(agent)
        self.assertIsNotNone(agent.wait_log(r"node attested", SWITCH_BOUND_SECONDS))
        first.stop()
        match = agent.wait_log(r"switched server.*", SWITCH_BOUND_SECONDS)
        self.assertIsNotNone(match, agent.read_log())
        self.assertIn(f"from={addresses[0]}", match.group(0))
        self.assertIn(f"to={addresses[1]}", match.group(0))
        self.assertIsNone(agent.process.poll(), agent.read_log())

    def test_datastore_outage_keeps_agent(self):
        """PostgreSQL stops for more than three sync passes. The servers
        reply 503 EUNAVAILABLE to the agent's node SVID instead of failing
        its TLS handshake, so the agent keeps serving its cache instead of
        stopping as revoked, and syncs again once PostgreSQL is back."""
        if wardenlib.datastore_under_test() != "postgres":
            self.skipTest("needs WARDEN_TEST_DATASTORE=postgres: servers share a datastore")
        first = Server("example.org")
        self.servers.append(first)
        self.servers.append(start_peer(first))
        token = first.join_token()
        addresses = [f"127.0.0.1:{s.port}" for s in self.servers]
        agent = Agent(self.work, addresses, first, token["token"])
        self.agents.append(agent)
        self.assertIsNotNone(agent.wait_log(r"node attested", SWITCH_BOUND_SECONDS))
        _, cert, key = first.new_agent()

        pg = wardenlib.postgres_cluster()
        pg.pause()
        try:
            response = first.tls("GET", "/v1/node/entries?since=0&unchanged=ok",
                                 cert=cert, key=key)
            self.assertEqual(response.status, 503, response)
            self.assertEqual(response.json()["error"]["code"], "EUNAVAILABLE")
            # The datastore's location stays in the server log, and the
            # reply only states that it is unavailable.
            self.assertEqual(response.error_message(), "datastore unavailable")
            body = response.body.decode()
            self.assertNotIn(pg.socket_dir, body)
            self.assertNotIn(".s.PGSQL", body)
            self.assertNotIn(wardenlib.datastore_database(first.datastore), body)
            # Passes fail at about 0, 1, 3 and 7 s, because the backoff
            # doubles from SYNC_INTERVAL. Three rejected handshakes in a row
            # would have stopped the agent by the third.
            self.assertTrue(wait_until(lambda: len(re.findall(
                r"sync failed, serving cached svids", agent.read_log())) >= 4, 30),
                agent.read_log())
            self.assertIsNone(agent.process.poll(), agent.read_log())
            # The tick's round trip logs where the datastore is.
            failures = [line for line in first.read_log().splitlines()
                        if "datastore round trip failed" in line]
            self.assertTrue(failures, first.read_log())
            self.assertIn(wardenlib.datastore_database(first.datastore), failures[0])
            self.assertIn(pg.socket_dir, failures[0])
        finally:
            pg.resume()
        log = agent.read_log()
        self.assertNotIn("stopped serving", log)
        self.assertIn("EUNAVAILABLE", log)

        # A pass succeeds again: it brings an entry created after the
        # outage. The backoff after four failures is at most 16 s.
        agent_id = agent.wait_log(r"node attested spiffe_id=(\S+)", 1).group(1)
        self.assertTrue(wait_until(lambda: first.tls(
            "GET", "/v1/node/entries?since=0&unchanged=ok", cert=cert, key=key).status == 200,
            SWITCH_BOUND_SECONDS))
        entry = first.create_entry("spiffe://example.org/after-outage", agent_id,
                                   selectors=("unix:uid:0",))
        self.assertIsNotNone(agent.wait_log(f"svid minted entry_id={entry['id']}", 40),
                             agent.read_log())
        self.assertIsNone(agent.process.poll(), agent.read_log())

POLICY = "package example.changes\n\nallow := true\n"


class ServerChangesTest(unittest.TestCase):
    """Two servers on one PostgreSQL datastore: a change written through
    one is served by the other within a second, through LISTEN/NOTIFY."""

    def setUp(self):
        if wardenlib.datastore_under_test() != "postgres":
            self.skipTest("needs WARDEN_TEST_DATASTORE=postgres: servers share a datastore")
        self.first = Server("example.org")
        self.second = None
        self.second = start_peer(self.first)

    def tearDown(self):
        for server in (self.second, self.first):
            if server is not None:
                server.cleanup()

    def test_policy_put_reaches_peer(self):
        response = self.second.admin("GET", "/v1/policies/example/changes")
        self.assertEqual(response.status, 404, response)
        response = self.first.admin("PUT", "/v1/policies/example/changes", raw=POLICY.encode(),
                                    headers={"Content-Type": "text/plain"})
        self.assertEqual(response.status, 200, response)
        self.assertTrue(wait_until(lambda: self.second.admin(
            "GET", "/v1/policies/example/changes").status == 200, 1.0),
            self.second.read_log())
        reply = self.second.admin("GET", "/v1/policies/example/changes").json()
        self.assertEqual(reply["result"]["raw"], POLICY)
        self.assertIn('change from another server applied change=policy:example/changes',
                      self.second.read_log())
        # The writer skips its own notification.
        self.assertNotIn("change from another server applied", self.first.read_log())

        # Data documents and deletions travel the same way.
        response = self.first.admin("PUT", "/v1/data/limits", {"max": 3})
        self.assertEqual(response.status, 204, response)
        self.assertTrue(wait_until(lambda: self.second.admin(
            "GET", "/v1/data/limits").json().get("result") == {"max": 3}, 1.0))
        response = self.first.admin("DELETE", "/v1/policies/example/changes")
        self.assertEqual(response.status, 200, response)
        self.assertTrue(wait_until(lambda: self.second.admin(
            "GET", "/v1/policies/example/changes").status == 404, 1.0))


    def test_listener_reconnects_and_refreshes(self):
        """A lost listener connection reconnects, and the full refresh after
        it picks up a change whose notification was missed meanwhile."""
        pg = wardenlib.postgres_cluster()
        database = wardenlib.datastore_database(self.first.datastore)
        ended = pg.psql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                        f"pg_stat_activity WHERE datname = '{database}' AND "
                        "query = 'LISTEN warden_changes') AS t")
        self.assertEqual(ended, [["2"]])
        response = self.first.admin("PUT", "/v1/policies/example/missed", raw=POLICY.encode(),
                                    headers={"Content-Type": "text/plain"})
        self.assertEqual(response.status, 200, response)
        # The first retry comes after 1 s; the slack is for sanitizer builds.
        self.assertTrue(wait_until(lambda: self.second.admin(
            "GET", "/v1/policies/example/missed").status == 200, 10.0),
            self.second.read_log())
        log = self.second.read_log()
        self.assertIn("change listener lost its connection", log)
        self.assertIn("change listener reconnected", log)
        self.assertIn("change from another server applied change=all", log)


    def test_secrets_init_and_mount_reach_peer(self):
        """A barrier initialized through one server unseals on the other,
        and a mount added through one is served by the other."""
        response = self.first.vault_raw("PUT", "/v1/sys/init",
                                        {"secret_shares": 1, "secret_threshold": 1}, token="")
        self.assertEqual(response.status, 200, response)
        key = response.json()["keys"][0]
        root = response.json()["root_token"]
        response = self.first.vault_raw("PUT", "/v1/sys/unseal", {"key": key}, token="")
        self.assertIs(response.json()["sealed"], False)
        self.assertTrue(wait_until(lambda: self.second.vault_raw(
            "GET", "/v1/sys/init", token="").json() == {"initialized": True}, 1.0))
        response = self.second.vault_raw("PUT", "/v1/sys/unseal", {"key": key}, token="")
        self.assertIs(response.json()["sealed"], False, response)

        response = self.first.vault_raw("POST", "/v1/sys/mounts/team",
                                        {"type": "kv", "options": {"version": "2"}}, token=root)
        self.assertEqual(response.status, 204, response)
        self.assertTrue(wait_until(lambda: "team/" in self.second.vault_raw(
            "GET", "/v1/sys/mounts", token=root).json().get("data", {}), 1.0),
            self.second.read_log())
        self.assertIn("mount table reloaded", self.second.read_log())


class IdleSyncCostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def statements(self):
        response = self.server.admin("GET", "/v1/health")
        self.assertEqual(response.status, 200, response)
        return response.json()["datastore_statements"]

    def cost(self, path, cert, key):
        """Returns the fewest statements of five calls of path (a background
        tick may add its own to one of them) and the last reply."""
        costs = []
        for _ in range(5):
            before = self.statements()
            response = self.server.tls("GET", path, cert=cert, key=key)
            after = self.statements()
            self.assertEqual(response.status, 200, response)
            costs.append(after - before)
        return min(costs), response.json()

    def test_idle_sync_reads_no_entry(self):
        agent_id, cert, key = self.server.new_agent()
        for i in range(20):
            self.server.create_entry(f"spiffe://example.org/idle/w{i}", agent_id)
        full = self.server.tls("GET", "/v1/node/entries?since=0", cert=cert, key=key).json()
        self.assertEqual(len(full["entry_ids"]), 20)
        revision = full["revision"]

        # A health call on the admin socket itself costs nothing.
        self.assertEqual(self.statements(), self.statements())

        # The serial's revocation (in the handshake and again for the
        # caller), the node check and the revision come from memory, so the
        # datastore gets no statement.
        idle, reply = self.cost(f"/v1/node/entries?since={revision}&unchanged=ok", cert, key)
        self.assertEqual(idle, 0)
        self.assertEqual(reply, {"unchanged": True, "revision": revision,
                                 "bundle_sequence": reply["bundle_sequence"]})

        # Without unchanged=ok the full delta: begin, the revision, the
        # changed list, the id list and commit.
        delta, reply = self.cost(f"/v1/node/entries?since={revision}", cert, key)
        self.assertEqual(delta, 5)
        self.assertEqual(reply["changed"], [])
        self.assertEqual(len(reply["entry_ids"]), 20)

        # After a change the reply is the delta again, with the entry.
        entry = self.server.create_entry("spiffe://example.org/idle/new", agent_id)
        reply = self.server.tls("GET", f"/v1/node/entries?since={revision}&unchanged=ok",
                                cert=cert, key=key).json()
        self.assertNotIn("unchanged", reply)
        self.assertEqual([e["id"] for e in reply["changed"]], [entry["id"]])
        self.assertGreater(reply["revision"], revision)


def renew(server, cert, key):
    """Renews the node SVID in cert through server; returns the new
    (cert_path, key_path, serial)."""
    new_key = ec.generate_private_key(ec.SECP256R1())
    response = server.tls("POST", "/v1/node/renew", {"csr": csr_pem(new_key)}, cert=cert,
                          key=key)
    assert response.status == 200, response
    reply = response.json()
    cert_path = server.write(f"node-{reply['serial']}.pem", reply["svid"])
    key_path = server.write(f"node-{reply['serial']}.key", key_pem(new_key))
    return cert_path, key_path, reply["serial"]


# Each test attests a new agent from 127.0.0.1, faster than the default
# rate of one attestation a second allows.
BURST_CONFIG = "limits:\n  attestation_burst: 100\n"


class CallerChecksInMemory:
    """Refusals that the caller cache must not delay: writer is the server
    that revokes, bans or renews, reader the one the agent syncs with."""
    writer = None
    reader = None

    def warm_sync(self, cert, key):
        """Syncs twice through reader, so that the second reply comes from
        memory, and returns the revision."""
        revision = self.reader.tls("GET", "/v1/node/entries?since=0", cert=cert,
                                   key=key).json()["revision"]
        for _ in range(2):
            response = self.reader.tls("GET", f"/v1/node/entries?since={revision}&unchanged=ok",
                                       cert=cert, key=key)
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.json()["unchanged"], True)
        return revision

    def sync(self, revision, cert, key):
        return self.reader.tls("GET", f"/v1/node/entries?since={revision}&unchanged=ok",
                               cert=cert, key=key)

    def test_revoked_serial_refused(self):
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        with open(cert) as f:
            serial = load_certs(f.read())[0].serial_number
        response = self.writer.admin("POST", "/v1/svid/revoke", {"serial": f"{serial:x}"})
        self.assertEqual(response.status, 200, response)

        response = self.sync(revision, cert, key)
        self.assertEqual(response.status, 403, response)
        self.assertIn("node SVID serial", response.error_message())
        self.assertIn("is revoked", response.error_message())

    def test_banned_agent_refused(self):
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        response = self.writer.admin("POST", "/v1/agents/ban", {"spiffe_id": agent_id})
        self.assertEqual(response.status, 200, response)

        response = self.sync(revision, cert, key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.error_message(), f"agent {agent_id} is banned")

    def test_retired_serial_refused(self):
        """Two renewals retire the first serial, which no revocation
        names, so only the change of the node record shows it."""
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        second_cert, second_key, _ = renew(self.writer, cert, key)
        third_cert, third_key, _ = renew(self.writer, second_cert, second_key)

        response = self.sync(revision, cert, key)
        self.assertEqual(response.status, 403, response)
        self.assertIn("is not a current SVID of agent", response.error_message())
        # The previous serial stays good until it expires.
        self.assertEqual(self.sync(revision, second_cert, second_key).status, 200)
        self.assertEqual(self.sync(revision, third_cert, third_key).status, 200)

    def test_entry_change_ends_unchanged(self):
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        entry = self.writer.create_entry("spiffe://example.org/cache/new", agent_id)

        reply = self.sync(revision, cert, key).json()
        self.assertNotIn("unchanged", reply)
        self.assertEqual([e["id"] for e in reply["changed"]], [entry["id"]])
        self.assertEqual(self.sync(reply["revision"], cert, key).json()["unchanged"], True)


class OneServerCallerChecksTest(CallerChecksInMemory, unittest.TestCase):
    """The server's own writes drop its cached checks."""

    @classmethod
    def setUpClass(cls):
        cls.writer = cls.reader = Server("example.org", config=BURST_CONFIG)

    @classmethod
    def tearDownClass(cls):
        cls.writer.cleanup()


class PeerCallerChecksTest(CallerChecksInMemory, unittest.TestCase):
    """Another server's writes reach the reader's cache as notifications,
    which the reader reads before it replies from memory."""

    @classmethod
    def setUpClass(cls):
        cls.writer = cls.reader = None
        if wardenlib.datastore_under_test() != "postgres":
            raise unittest.SkipTest("needs WARDEN_TEST_DATASTORE=postgres: servers share a "
                                    "datastore")
        cls.writer = Server("example.org", config=BURST_CONFIG)
        cls.reader = start_peer(cls.writer, config=BURST_CONFIG)

    @classmethod
    def tearDownClass(cls):
        for server in (cls.reader, cls.writer):
            if server is not None:
                server.cleanup()

    def test_lost_listener_reads_datastore(self):
        """With its listener connection ended, the reader cannot hear a
        revocation, so it checks the datastore until it reconnects."""
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        pg = wardenlib.postgres_cluster()
        database = wardenlib.datastore_database(self.writer.datastore)
        ended = pg.psql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                        f"pg_stat_activity WHERE datname = '{database}' AND "
                        "query = 'LISTEN warden_changes') AS t")
        self.assertEqual(ended, [["2"]])
        response = self.writer.admin("POST", "/v1/agents/ban", {"spiffe_id": agent_id})
        self.assertEqual(response.status, 200, response)

        response = self.sync(revision, cert, key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.error_message(), f"agent {agent_id} is banned")
        self.assertIn("change listener lost its connection", self.reader.read_log())

    def test_idle_sync_on_peer_costs_nothing(self):
        agent_id, cert, key = self.writer.new_agent()
        revision = self.warm_sync(cert, key)
        before = self.reader.admin("GET", "/v1/health").json()["datastore_statements"]
        self.assertEqual(self.sync(revision, cert, key).json()["unchanged"], True)
        after = self.reader.admin("GET", "/v1/health").json()["datastore_statements"]
        self.assertEqual(after - before, 0)


if __name__ == "__main__":
    wardenlib.main()
