#!/usr/bin/python3
"""The lifecycle of `warden agent run` against a real server, with Python's
grpcio as the Workload API client: `warden agent evict` and `warden agent
ban` end a running agent, and a unix:sha256 selector follows the bytes of
the caller's executable. Runs as root, because its entries select
unix:uid:0."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import wardenlib
from wardenlib import Server

SOURCE_ROOT = os.environ.get("WARDEN_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
GRPC_TOOLS_PROTO = "/usr/lib/python3/dist-packages/grpc_tools/_proto"
HEADER = (("workload.spiffe.io", "true"),)
SYNC_INTERVAL = 1
# The server rejects a removed agent's revoked node SVID in the TLS
# handshake. The agent gives up after three such passes, at most one, one
# and two sync intervals apart. The 10 s are slack for sanitizer builds.
STOP_BOUND_SECONDS = 4 * SYNC_INTERVAL + 10


def generate_stubs(out_dir):
    """Generates workload_pb2 and workload_pb2_grpc into out_dir; returns
    None, or the reason to skip."""
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError as error:
        return f"python3 grpcio or grpc_tools missing: {error}"
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(SOURCE_ROOT, "proto"),
         "-I", GRPC_TOOLS_PROTO, f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
         os.path.join(SOURCE_ROOT, "proto", "workload.proto")],
        capture_output=True, text=True)
    if result.returncode != 0:
        return f"grpc_tools.protoc failed: {result.stderr}"
    return None


STUB_DIR = tempfile.mkdtemp(prefix="warden-lifecycle-stubs-")
SKIP_REASON = generate_stubs(STUB_DIR)
if SKIP_REASON is None:
    sys.path.insert(0, STUB_DIR)
    import grpc
    import workload_pb2
    import workload_pb2_grpc

# Run by another interpreter binary: fetches the first X509SVIDResponse and
# prints its SPIFFE IDs as JSON, or the gRPC status code name.
CHILD_FETCH = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc
channel = grpc.insecure_channel("unix://" + sys.argv[1])
stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
try:
    stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                metadata=(("workload.spiffe.io", "true"),), timeout=10)
    print(json.dumps([s.spiffe_id for s in next(stream).svids]))
except grpc.RpcError as error:
    print(error.code().name)
"""


class Agent:
    """A `warden agent run` process with its own data directory and socket."""

    def __init__(self, server, work_dir, join_token, extra_args=(), trust_args=None):
        self.data_dir = os.path.join(work_dir, "agent-data")
        self.socket = os.path.join(work_dir, "agent.sock")
        self.log_path = os.path.join(work_dir, "agent.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [wardenlib.WARDEN, "agent", "run",
             "--server-address", f"127.0.0.1:{server.port}",
             "--trust-domain", server.trust_domain,
             *(trust_args or ("--trust-bundle", server.bundle_path)),
             "--join-token", join_token, "--data-dir", self.data_dir,
             "--socket-path", self.socket, "--sync-interval", f"{SYNC_INTERVAL}s",
             "--log-level", "debug", *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.endpoint_line = self.process.stdout.readline().strip()
        if not self.endpoint_line:
            self.process.wait(10)
            raise RuntimeError(f"agent exited {self.process.returncode}:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

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

    def channel(self):
        return grpc.insecure_channel(f"unix://{self.socket}")

    def fetch_first(self):
        with self.channel() as channel:
            stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
            return next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER,
                                           timeout=10))


def child_fetch(interpreter, socket_path):
    """Runs CHILD_FETCH under interpreter; returns its one line of output."""
    result = subprocess.run([interpreter, "-c", CHILD_FETCH, socket_path, STUB_DIR],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"{interpreter} exited {result.returncode}: {result.stderr}")
    return result.stdout.strip()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class AgentLifecycleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(STUB_DIR, ignore_errors=True)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="warden-lifecycle-")
        self.agents = []

    def tearDown(self):
        for agent in self.agents:
            agent.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def start_agent(self, selectors=("unix:uid:0",), spiffe_id=None):
        """Registers a new agent with one entry under it and starts it;
        returns (agent, agent_id)."""
        token = self.server.join_token()
        agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        spiffe_id = spiffe_id or f"spiffe://example.org/lifecycle/{agent_id[-8:]}"
        self.server.create_entry(spiffe_id, agent_id, selectors=selectors)
        agent = Agent(self.server, self.work, token["token"])
        self.agents.append(agent)
        return agent, agent_id

    def run_admin(self, *args):
        return subprocess.run([wardenlib.WARDEN, *args, "--admin-socket", self.server.admin_socket],
                              capture_output=True, text=True, timeout=30)

    def assert_removal_stops_agent(self, command):
        """Runs `warden agent COMMAND --spiffe-id AGENT` against a serving
        agent and checks that the agent ends its streams, removes its
        socket and exits 1 with the reason on stderr."""
        agent, agent_id = self.start_agent()
        self.assertEqual(len(agent.fetch_first().svids), 1, agent.read_log())

        channel = agent.channel()
        try:
            stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
            stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER,
                                        timeout=STOP_BOUND_SECONDS + 10)
            next(stream)

            removed = self.run_admin("agent", command, "--spiffe-id", agent_id)
            self.assertEqual(removed.returncode, 0, removed.stderr)
            started = time.monotonic()
            try:
                returncode = agent.process.wait(STOP_BOUND_SECONDS)
            except subprocess.TimeoutExpired:
                self.fail(f"agent still running {STOP_BOUND_SECONDS} s after "
                          f"`agent {command}`:\n{agent.read_log()}")
            elapsed = time.monotonic() - started

            with self.assertRaises(grpc.RpcError) as caught:
                next(stream)
        finally:
            channel.close()

        log = agent.read_log()
        self.assertEqual(returncode, 1, log)
        self.assertLess(elapsed, STOP_BOUND_SECONDS)
        # The agent clears its cache before it closes the streams, so an
        # open stream may see either status.
        self.assertIn(caught.exception.code(),
                      (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.PERMISSION_DENIED), log)
        expected_state = {"evict": "evicted", "ban": "banned"}[command]
        self.assertRegex(log, rf"warden: agent stopped: {expected_state}: \S")
        self.assertIn("agent stopped serving", log)
        self.assertFalse(os.path.exists(agent.socket), "socket left behind")
        self.assertNotIn("Sanitizer", log)

    def test_evict_stops_agent(self):
        self.assert_removal_stops_agent("evict")

    def test_ban_stops_agent(self):
        self.assert_removal_stops_agent("ban")

    def test_sha256_selector_follows_binary(self):
        interpreter = os.path.join(self.work, "python3")
        shutil.copy2(os.path.realpath("/usr/bin/python3"), interpreter)
        digest = sha256_file(interpreter)
        entry_id = "spiffe://example.org/lifecycle/hashed-python"
        agent, _ = self.start_agent(selectors=("unix:uid:0", f"unix:sha256:{digest}"),
                                    spiffe_id=entry_id)

        # The copied interpreter shows the registered hash.
        deadline = time.monotonic() + 20
        output = child_fetch(interpreter, agent.socket)
        while output != json.dumps([entry_id]) and time.monotonic() < deadline:
            time.sleep(0.2)
            output = child_fetch(interpreter, agent.socket)
        self.assertEqual(output, json.dumps([entry_id]), agent.read_log())

        # The selector names the bytes, not the path: the original file
        # matches too.
        self.assertEqual(child_fetch(os.path.realpath("/usr/bin/python3"), agent.socket),
                         json.dumps([entry_id]))

        # One more byte changes the hash, and the size and mtime that key the
        # agent's hash cache, so the next call is hashed again.
        with open(interpreter, "ab") as f:
            f.write(b"\0")
        self.assertNotEqual(sha256_file(interpreter), digest)
        self.assertEqual(child_fetch(interpreter, agent.socket), "PERMISSION_DENIED",
                         agent.read_log())

    def test_sighup_reloads_configuration(self):
        """SIGHUP re-reads --config (the flags still override it): log
        settings apply at once, and an invalid file keeps the running
        configuration."""
        config = os.path.join(self.work, "agent.yaml")
        with open(config, "w") as f:
            f.write("log_format: text\n")
        token = self.server.join_token()
        agent = Agent(self.server, self.work, token["token"], ("--config", config))
        self.agents.append(agent)

        with open(config, "w") as f:
            f.write("log_format: json\n")
        agent.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "configuration reloaded" not in agent.read_log() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn('"msg":"SIGHUP: configuration reloaded"', agent.read_log())

        with open(config, "w") as f:
            f.write("log_format: yaml\n")
        agent.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "not reloaded" not in agent.read_log() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("configuration not reloaded, keeping the running one", agent.read_log())
        self.assertIsNone(agent.process.poll())

    def test_fingerprint_bootstrap(self):
        """An agent given only the CA's SHA-256 fingerprint finds the CA in
        the server's handshake and attests."""
        from cryptography.hazmat.primitives import serialization
        ca = wardenlib.load_certs(self.server.bundle_pem)[0]
        fingerprint = hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).hexdigest()
        token = self.server.join_token()
        self.server.create_entry("spiffe://example.org/lifecycle/pinned", token["agent_id"],
                                 selectors=("unix:uid:0",))
        agent = Agent(self.server, self.work, token["token"],
                      trust_args=("--trust-bundle-fingerprint", fingerprint))
        self.agents.append(agent)
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = agent.fetch_first()
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        self.assertEqual(reply.svids[0].spiffe_id, "spiffe://example.org/lifecycle/pinned")

    def test_wrong_fingerprint_refused(self):
        token = self.server.join_token()
        with self.assertRaises(RuntimeError) as caught:
            Agent(self.server, self.work, token["token"],
                  trust_args=("--trust-bundle-fingerprint", "ab" * 32))
        self.assertIn("trust_bundle_fingerprint", str(caught.exception))

    def test_node_svid_renewed_at_half_life(self):
        server = Server("renew.example", config="identity:\n  default_x509_svid_ttl: 8s\n")
        try:
            token = server.join_token()
            server.create_entry("spiffe://renew.example/lifecycle/renewal", token["agent_id"],
                                selectors=("unix:uid:0",))
            agent = Agent(server, self.work, token["token"])
            self.agents.append(agent)
            deadline = time.monotonic() + 15
            while "node svid renewed" not in agent.read_log() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertIn("node svid renewed", agent.read_log())
            # Past the first node SVID's expiry the agent still syncs and serves.
            time.sleep(6)
            self.assertIsNone(agent.process.poll(), agent.read_log())
            # Half of an 8 s life is 4 s, counted from arrival rather than
            # from the backdated notBefore: at most 4 renewals in about 10 s,
            # not one per 1 s sync.
            renewals = agent.read_log().count("node svid renewed")
            self.assertLessEqual(renewals, 4, agent.read_log())
            self.assertEqual(agent.fetch_first().svids[0].spiffe_id,
                             "spiffe://renew.example/lifecycle/renewal")
        finally:
            server.cleanup()

    def test_server_down_keeps_serving(self):
        """A stopped server is an outage, not a revocation: the agent keeps
        running and serving its cached SVIDs."""
        server = Server("example.org")
        try:
            token = server.join_token()
            agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
            server.create_entry("spiffe://example.org/lifecycle/outage", agent_id,
                                selectors=("unix:uid:0",))
            agent = Agent(server, self.work, token["token"])
            self.agents.append(agent)
            agent.fetch_first()
            server.stop()
            time.sleep(STOP_BOUND_SECONDS)
            self.assertIsNone(agent.process.poll(), agent.read_log())
            agent.fetch_first()
        finally:
            server.cleanup()


if __name__ == "__main__":
    if SKIP_REASON is not None:
        shutil.rmtree(STUB_DIR, ignore_errors=True)
        print(f"SKIP: {SKIP_REASON}")
        sys.exit(wardenlib.SKIP_EXIT)
    if os.geteuid() != 0:
        shutil.rmtree(STUB_DIR, ignore_errors=True)
        print("SKIP: needs root, because the test's entries select unix:uid:0")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
