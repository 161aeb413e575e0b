#!/usr/bin/python3
"""The SPIFFE Workload API of `warden agent run` against a real server, with
Python's grpcio as the client: identities by uid, the security header,
rotation, revocation and deletion on open streams, JWT-SVIDs checked with PyJWT, agent
restarts without a join token, serving from cache while the server is down,
and `warden svid fetch --write` checked with openssl verify."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import wardenlib
from wardenlib import Server

from cryptography import x509
from cryptography.hazmat.primitives import serialization

SOURCE_ROOT = os.environ.get("WARDEN_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
GRPC_TOOLS_PROTO = "/usr/lib/python3/dist-packages/grpc_tools/_proto"
ROOT_ID = "spiffe://example.org/wapi/root"
NOBODY_ID = "spiffe://example.org/wapi/nobody"
SLEEP_ID = "spiffe://example.org/wapi/sleep"
SYNC_INTERVAL = 1
X509_TTL = 6


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


STUB_DIR = tempfile.mkdtemp(prefix="warden-wapi-stubs-")
SKIP_REASON = generate_stubs(STUB_DIR)
if SKIP_REASON is None:
    sys.path.insert(0, STUB_DIR)
    import grpc
    import jwt
    import workload_pb2
    import workload_pb2_grpc

HEADER = (("workload.spiffe.io", "true"),)

# Runs as another uid: fetches the first X509SVIDResponse and prints its
# SPIFFE IDs as JSON, or the gRPC status code name.
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


# Exec-swap attack: connects to the socket at argv[1] while running as
# python, forks, and the parent execs /usr/bin/sleep. Once the parent runs
# sleep, the child speaks gRPC on the inherited connection, through a local
# proxy socket because grpcio cannot adopt a connected fd, and prints the
# outcome of FetchX509SVID as JSON.
EXEC_SWAP = r"""
import json, os, socket, sys, threading, time
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc

SLEEP = os.path.realpath("/usr/bin/sleep")
inherited = socket.socket(socket.AF_UNIX)
inherited.connect(sys.argv[1])
# The agent notes the executable when it accepts the connection; on a busy
# machine that can come after connect returns, so give it time first.
time.sleep(0.5)
parent = os.getpid()
if os.fork() != 0:
    os.execv(SLEEP, ["sleep", "5"])

deadline = time.monotonic() + 5
while os.readlink(f"/proc/{parent}/exe") != SLEEP:
    if time.monotonic() > deadline:
        print(json.dumps({"error": "parent did not exec sleep"}), flush=True)
        os._exit(1)
    time.sleep(0.01)

proxy_path = os.path.join(sys.argv[3], "proxy.sock")
listener = socket.socket(socket.AF_UNIX)
listener.bind(proxy_path)
listener.listen(1)

def pump(source, sink):
    while True:
        data = source.recv(65536)
        if not data:
            return
        sink.sendall(data)

def proxy():
    client, _ = listener.accept()
    threading.Thread(target=pump, args=(inherited, client), daemon=True).start()
    pump(client, inherited)

threading.Thread(target=proxy, daemon=True).start()
channel = grpc.insecure_channel("unix:" + proxy_path)
stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
try:
    stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                metadata=(("workload.spiffe.io", "true"),), timeout=4)
    response = next(stream)
    result = {"code": "OK", "svids": [s.spiffe_id for s in response.svids],
              "has_key": any(s.x509_svid_key for s in response.svids)}
except grpc.RpcError as error:
    result = {"code": error.code().name, "details": error.details()}
print(json.dumps(result), flush=True)
os._exit(0)
"""


def sha256_file(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_as(uid, args, **kwargs):
    def drop():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return subprocess.run(args, preexec_fn=drop, capture_output=True, text=True, timeout=30,
                          **kwargs)


class Agent:
    """A `warden agent run` process with its own data directory and socket."""

    def __init__(self, server, work_dir, join_token=None):
        self.server = server
        self.data_dir = os.path.join(work_dir, "agent-data")
        self.socket = os.path.join(work_dir, "agent.sock")
        self.log_path = os.path.join(work_dir, "agent.log")
        self.start(join_token)

    def start(self, join_token=None):
        args = [wardenlib.WARDEN, "agent", "run",
                "--server-address", f"127.0.0.1:{self.server.port}",
                "--trust-domain", self.server.trust_domain,
                "--trust-bundle", self.server.bundle_path,
                "--data-dir", self.data_dir, "--socket-path", self.socket,
                "--sync-interval", f"{SYNC_INTERVAL}s", "--log-level", "debug"]
        if join_token:
            args += ["--join-token", join_token]
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
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
        return self.process.returncode

    def channel(self):
        return grpc.insecure_channel(f"unix://{self.socket}")


def leaf_serial(response):
    return x509.load_der_x509_certificate(response.svids[0].x509_svid).serial_number


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class RevocationOnStreamTest(unittest.TestCase):
    """An SVID revoked on the server leaves the agent within a sync
    interval: the open stream gets a new SVID, and no fetch returns the
    revoked one. The SVID lives an hour, so no rotation comes first."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="warden-wapi-crl-")
        os.chmod(cls.work, 0o755)
        cls.server = Server("example.org")
        token = cls.server.join_token()
        agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        cls.entry = cls.server.create_entry(ROOT_ID, agent_id, selectors=("unix:uid:0",),
                                            x509_svid_ttl=3600)
        cls.agent = Agent(cls.server, cls.work, token["token"])

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)

    def fetch(self):
        with self.agent.channel() as channel:
            stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
            return next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER,
                                           timeout=10))

    def wait_for_svid(self):
        deadline = time.monotonic() + 20
        while True:
            try:
                return self.fetch()
            except grpc.RpcError:
                self.assertLess(time.monotonic(), deadline, self.agent.read_log())
                time.sleep(0.2)

    def test_revoked_svid_replaced_on_stream(self):
        self.wait_for_svid()
        with self.agent.channel() as channel:
            stream = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel).FetchX509SVID(
                workload_pb2.X509SVIDRequest(), metadata=HEADER, timeout=30)
            first = next(stream)
            revoked = leaf_serial(first)
            revoked_hex = format(revoked, "x")
            response = self.server.admin("POST", "/v1/svid/revoke", {"serial": revoked_hex})
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.json()["revoked_serials"], [revoked_hex])

            started = time.monotonic()
            second = next(stream)
            elapsed = time.monotonic() - started
            stream.cancel()

        # The first message after the revocation already contains a new SVID,
        # together with the CRL that lists the old one.
        self.assertEqual([s.spiffe_id for s in second.svids], [ROOT_ID])
        renewed = leaf_serial(second)
        self.assertNotEqual(renewed, revoked)
        crl_serials = {entry.serial_number for der in second.crl
                       for entry in x509.load_der_x509_crl(der)}
        self.assertIn(revoked, crl_serials)
        self.assertNotIn(renewed, crl_serials)
        # One sync interval to learn the CRL, plus a mint and scheduling
        # slack on a loaded sanitizer build.
        self.assertLess(elapsed, SYNC_INTERVAL + 3)

        for _ in range(3):
            self.assertEqual(leaf_serial(self.fetch()), renewed)
        log = self.agent.read_log()
        self.assertIn(f"svid revoked on the crl, renewing entry_id={self.entry['id']} "
                      f"spiffe_id={ROOT_ID} serial={revoked_hex}", log)
        self.assertEqual(log.count("svid revoked on the crl"), 1)


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class WorkloadAPITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="warden-wapi-")
        os.chmod(cls.work, 0o755)
        os.chmod(STUB_DIR, 0o755)
        cls.server = Server("example.org")
        token = cls.server.join_token()
        cls.agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        cls.root_entry = cls.server.create_entry(ROOT_ID, cls.agent_id, selectors=("unix:uid:0",),
                                                 x509_svid_ttl=X509_TTL)
        cls.nobody_entry = cls.server.create_entry(NOBODY_ID, cls.agent_id,
                                                   selectors=("unix:uid:65534",))
        cls.agent = Agent(cls.server, cls.work, token["token"])
        cls.wait_for_svid()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)
        shutil.rmtree(STUB_DIR, ignore_errors=True)

    @classmethod
    def wait_for_svid(cls, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return cls.fetch_first()
            except grpc.RpcError:
                time.sleep(0.2)
        raise AssertionError(f"no SVID from the agent in {timeout} s:\n{cls.agent.read_log()}")

    @classmethod
    def fetch_first(cls, metadata=HEADER):
        with cls.agent.channel() as channel:
            stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
            stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=metadata,
                                        timeout=10)
            return next(stream)

    def stub(self, channel):
        return workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)

    # --- X.509 -------------------------------------------------------------

    def test_endpoint_line(self):
        self.assertEqual(self.agent.endpoint_line, f"SPIFFE_ENDPOINT_SOCKET=unix://{self.agent.socket}")
        self.assertEqual(os.stat(self.agent.socket).st_mode & 0o777, 0o666)

    def test_x509_svid_root(self):
        response = self.fetch_first()
        self.assertEqual([s.spiffe_id for s in response.svids], [ROOT_ID])
        svid = response.svids[0]
        leaf = x509.load_der_x509_certificate(svid.x509_svid)
        uris = leaf.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
        self.assertEqual(uris, [ROOT_ID])

        key = serialization.load_der_private_key(svid.x509_svid_key, None)
        self.assertEqual(key.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo),
                         leaf.public_key().public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))

        cas = split_der_certs(svid.bundle)
        self.assertTrue(cas)
        issuer = [ca for ca in cas if ca.subject == leaf.issuer]
        self.assertEqual(len(issuer), 1)
        issuer[0].public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                                      *signature_args(leaf))

        self.assertGreaterEqual(len(response.crl), 1)
        for der in response.crl:
            crl = x509.load_der_x509_crl(der)
            self.assertTrue(any(ca.subject == crl.issuer for ca in cas))

    def test_x509_svid_nobody(self):
        result = run_as(65534, [sys.executable, "-c", CHILD_FETCH, self.agent.socket, STUB_DIR])
        self.assertEqual(result.stdout.strip(), json.dumps([NOBODY_ID]), result.stderr)

    def test_no_entry_permission_denied(self):
        result = run_as(4242, [sys.executable, "-c", CHILD_FETCH, self.agent.socket, STUB_DIR])
        self.assertEqual(result.stdout.strip(), "PERMISSION_DENIED", result.stderr)

    def test_missing_header_invalid_argument(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.fetch_first(metadata=())
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(), "security header missing from request")

    def test_wrong_header_invalid_argument(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.fetch_first(metadata=(("workload.spiffe.io", "TRUE"),))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_x509_bundles(self):
        with self.agent.channel() as channel:
            stream = self.stub(channel).FetchX509Bundles(workload_pb2.X509BundlesRequest(),
                                                         metadata=HEADER, timeout=10)
            response = next(stream)
        self.assertEqual(list(response.bundles.keys()), ["spiffe://example.org"])
        cas = split_der_certs(response.bundles["spiffe://example.org"])
        server_cas = wardenlib.load_certs(self.server.bundle_pem)
        self.assertEqual({c.fingerprint(c.signature_hash_algorithm) for c in cas},
                         {c.fingerprint(c.signature_hash_algorithm) for c in server_cas})
        for der in response.crl:
            x509.load_der_x509_crl(der)

    def test_rotation_on_stream(self):
        with self.agent.channel() as channel:
            stream = self.stub(channel).FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                                      metadata=HEADER, timeout=3 * X509_TTL + 10)
            first = next(stream)
            serial = x509.load_der_x509_certificate(first.svids[0].x509_svid).serial_number
            started = time.monotonic()
            second = next(stream)
            elapsed = time.monotonic() - started
            stream.cancel()
        new_serial = x509.load_der_x509_certificate(second.svids[0].x509_svid).serial_number
        self.assertNotEqual(new_serial, serial)
        # The agent renews at about half the lifetime; allow the full TTL
        # plus a sync interval and scheduling slack.
        self.assertLess(elapsed, X509_TTL + SYNC_INTERVAL + 3)

    def test_exec_swap_denied(self):
        sleep_path = os.path.realpath("/usr/bin/sleep")
        entry = self.server.create_entry(
            SLEEP_ID, self.agent_id,
            selectors=("unix:uid:0", f"unix:sha256:{sha256_file(sleep_path)}"))
        # The entry stays until the class ends: deleting it changes what the
        # agent sends on open streams, which test_rotation_on_stream counts.
        # Without the agent holding the entry's SVID, a denial would prove
        # nothing, so wait until it minted one.
        deadline = time.monotonic() + 20
        while f"entry_id={entry['id']}" not in self.agent.read_log():
            self.assertLess(time.monotonic(), deadline, "agent never minted the sleep SVID")
            time.sleep(0.2)

        proxy_dir = tempfile.mkdtemp(prefix="warden-execswap-")
        self.addCleanup(shutil.rmtree, proxy_dir, ignore_errors=True)
        result = subprocess.run([sys.executable, "-c", EXEC_SWAP, self.agent.socket, STUB_DIR,
                                 proxy_dir], capture_output=True, text=True, timeout=30)
        outcome = json.loads(result.stdout.strip() or "{}")
        self.assertEqual(outcome.get("code"), "PERMISSION_DENIED", (outcome, result.stderr))
        self.assertEqual(outcome.get("details"), "the calling process changed its executable "
                         "since it connected; reconnect")
        self.assertNotIn("svids", outcome)
        self.assertNotIn("has_key", outcome)

    # --- JWT ---------------------------------------------------------------

    def test_jwt_round_trip(self):
        with self.agent.channel() as channel:
            stub = self.stub(channel)
            reply = stub.FetchJWTSVID(workload_pb2.JWTSVIDRequest(audience=["svc-a"]),
                                      metadata=HEADER, timeout=10)
            self.assertEqual([s.spiffe_id for s in reply.svids], [ROOT_ID])
            token = reply.svids[0].svid

            validated = stub.ValidateJWTSVID(
                workload_pb2.ValidateJWTSVIDRequest(audience="svc-a", svid=token),
                metadata=HEADER, timeout=10)
            self.assertEqual(validated.spiffe_id, ROOT_ID)
            self.assertEqual(validated.claims.fields["sub"].string_value, ROOT_ID)

            with self.assertRaises(grpc.RpcError) as caught:
                stub.ValidateJWTSVID(
                    workload_pb2.ValidateJWTSVIDRequest(audience="svc-b", svid=token),
                    metadata=HEADER, timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

            bundles = next(stub.FetchJWTBundles(workload_pb2.JWTBundlesRequest(),
                                                metadata=HEADER, timeout=10))
        jwks = json.loads(bundles.bundles["spiffe://example.org"])
        kid = jwt.get_unverified_header(token)["kid"]
        key = [k for k in jwks["keys"] if k.get("kid") == kid]
        self.assertEqual(len(key), 1)
        public_key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key[0]))
        claims = jwt.decode(token, public_key, algorithms=["ES256", "ES384"], audience="svc-a")
        self.assertEqual(claims["sub"], ROOT_ID)

    def test_jwt_audience_required(self):
        with self.agent.channel() as channel:
            with self.assertRaises(grpc.RpcError) as caught:
                self.stub(channel).FetchJWTSVID(workload_pb2.JWTSVIDRequest(),
                                                metadata=HEADER, timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(), "audience must be specified")

    def test_jwt_too_many_audiences(self):
        with self.agent.channel() as channel:
            with self.assertRaises(grpc.RpcError) as caught:
                self.stub(channel).FetchJWTSVID(
                    workload_pb2.JWTSVIDRequest(audience=[f"a{i}" for i in range(65)]),
                    metadata=HEADER, timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(),
                         "invalid JWTSVIDRequest: 65 audiences, more than the maximum 64")

    def test_jwt_other_spiffe_id_denied(self):
        with self.agent.channel() as channel:
            with self.assertRaises(grpc.RpcError) as caught:
                self.stub(channel).FetchJWTSVID(
                    workload_pb2.JWTSVIDRequest(audience=["a"], spiffe_id=NOBODY_ID),
                    metadata=HEADER, timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    # --- CLI ---------------------------------------------------------------

    def test_cli_fetch_write(self):
        out = os.path.join(self.work, "fetched")
        env = dict(os.environ, SPIFFE_ENDPOINT_SOCKET=f"unix://{self.agent.socket}")
        result = subprocess.run([wardenlib.WARDEN, "svid", "fetch", "--write", out, "--json"],
                                capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["svids"][0]["spiffe_id"], ROOT_ID)
        self.assertEqual(os.stat(os.path.join(out, "svid.key")).st_mode & 0o777, 0o600)
        verify = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(out, "bundle.pem"),
                                 os.path.join(out, "svid.pem")], capture_output=True, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_cli_validate_jwt(self):
        socket_args = ["--socket-path", self.agent.socket]
        fetched = subprocess.run([wardenlib.WARDEN, "svid", "fetch-jwt", "--audience", "cli",
                                  "--json"] + socket_args, capture_output=True, text=True, timeout=30)
        self.assertEqual(fetched.returncode, 0, fetched.stderr)
        token = json.loads(fetched.stdout.splitlines()[0])["svid"]
        valid = subprocess.run([wardenlib.WARDEN, "svid", "validate-jwt", "--audience", "cli",
                                "--token", token, "--json"] + socket_args,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(valid.returncode, 0, valid.stderr)
        self.assertEqual(json.loads(valid.stdout)["spiffe_id"], ROOT_ID)
        invalid = subprocess.run([wardenlib.WARDEN, "svid", "validate-jwt", "--audience", "x",
                                  "--token", token] + socket_args,
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(invalid.returncode, 1)
        self.assertIn("INVALID_ARGUMENT", invalid.stderr)

    # --- Lifecycle (named z* so they run last) -----------------------------

    def test_z1_entry_deleted_leaves_stream(self):
        entry = self.server.create_entry("spiffe://example.org/wapi/extra", self.agent_id,
                                         selectors=("unix:uid:0", "unix:gid:0"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if len(self.fetch_first().svids) == 2:
                break
            time.sleep(0.2)
        with self.agent.channel() as channel:
            stream = self.stub(channel).FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                                      metadata=HEADER, timeout=30)
            ids = {s.spiffe_id for s in next(stream).svids}
            self.assertIn("spiffe://example.org/wapi/extra", ids)
            response = self.server.admin("DELETE", f"/v1/entries/{entry['id']}")
            self.assertEqual(response.status, 200, response)
            started = time.monotonic()
            for message in stream:
                ids = {s.spiffe_id for s in message.svids}
                if "spiffe://example.org/wapi/extra" not in ids:
                    break
            elapsed = time.monotonic() - started
            stream.cancel()
        self.assertEqual(ids, {ROOT_ID})
        self.assertLess(elapsed, SYNC_INTERVAL + 5)

    def test_z2_restart_keeps_identity(self):
        before = self.fetch_first().svids[0].spiffe_id
        self.assertEqual(self.agent.stop(), 0)
        self.assertFalse(os.path.exists(self.agent.socket))
        # Sanitizer builds report leaks and undefined behaviour at exit.
        self.assertNotIn("Sanitizer", self.agent.read_log())
        self.assertNotIn("runtime error", self.agent.read_log())
        self.agent.start(join_token=None)
        self.assertIn("node identity loaded", self.agent.read_log())
        self.assertIn(f"spiffe_id={self.agent_id}", self.agent.read_log())
        after = self.wait_for_svid().svids[0].spiffe_id
        self.assertEqual(after, before)

    def test_z3_serves_cache_with_server_down(self):
        self.server.stop()
        time.sleep(SYNC_INTERVAL + 1)
        response = self.fetch_first()
        self.assertEqual(response.svids[0].spiffe_id, ROOT_ID)


def split_der_certs(data):
    """Splits DER certificates placed end to end."""
    certs = []
    while data:
        # A DER SEQUENCE with a long-form length: 0x30 0x82 HI LO.
        assert data[0] == 0x30 and data[1] == 0x82, data[:4]
        length = 4 + (data[2] << 8 | data[3])
        certs.append(x509.load_der_x509_certificate(data[:length]))
        data = data[length:]
    return certs


def signature_args(cert):
    from cryptography.hazmat.primitives.asymmetric import ec
    return (ec.ECDSA(cert.signature_hash_algorithm),)


if __name__ == "__main__":
    if SKIP_REASON is not None:
        print(f"SKIP: {SKIP_REASON}")
        sys.exit(wardenlib.SKIP_EXIT)
    if os.geteuid() != 0:
        print("SKIP: needs root to run workloads under other uids")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
