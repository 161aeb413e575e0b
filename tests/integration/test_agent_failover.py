#!/usr/bin/python3
"""Server failover of `warden agent run`, change notification between
servers, and the cost of an idle sync.

The agent takes a comma-separated list of server addresses: with a dead
port first it attests and syncs through the second, and logs the switch.
Servers that share one PostgreSQL datastore stand in for each other when
one is killed, and a policy written through one is served by the other
within a second, also after the listener connection was lost (these run
with WARDEN_TEST_DATASTORE=postgres only). An agent sync with nothing changed returns "unchanged"
from the entry revision alone, which /v1/health's datastore_statements
shows as four statements (revocation twice, node, revision), against
eight for the full delta reply."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import wardenlib
from wardenlib import Server, start_peer

SYNC_INTERVAL = 1
# The first pass tries every address at once; the slack is for sanitizer
# builds.
SWITCH_BOUND_SECONDS = 20


def dead_port():
    """Returns a loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


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
        # caller), the node check and the revision: no entry list is read.
        idle, reply = self.cost(f"/v1/node/entries?since={revision}&unchanged=ok", cert, key)
        self.assertEqual(idle, 4)
        self.assertEqual(reply, {"unchanged": True, "revision": revision,
                                 "bundle_sequence": reply["bundle_sequence"]})

        # Without unchanged=ok the full delta: the same four but with begin,
        # changed list, id list and commit around the revision.
        delta, reply = self.cost(f"/v1/node/entries?since={revision}", cert, key)
        self.assertEqual(delta, 8)
        self.assertEqual(reply["changed"], [])
        self.assertEqual(len(reply["entry_ids"]), 20)

        # After a change the reply is the delta again, with the entry.
        entry = self.server.create_entry("spiffe://example.org/idle/new", agent_id)
        reply = self.server.tls("GET", f"/v1/node/entries?since={revision}&unchanged=ok",
                                cert=cert, key=key).json()
        self.assertNotIn("unchanged", reply)
        self.assertEqual([e["id"] for e in reply["changed"]], [entry["id"]])
        self.assertGreater(reply["revision"], revision)


if __name__ == "__main__":
    wardenlib.main()
