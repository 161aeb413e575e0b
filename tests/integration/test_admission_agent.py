#!/usr/bin/python3
"""Admission control end to end: a real `warden agent run` attests workloads
by the SHA-256 of their executable, and the server issues SVIDs only for
the binary whose signature is registered. Two copies of the Python
interpreter serve as workloads. The signed copy gets its SPIFFE ID over the
Workload API. A modified copy, whose entry also requires a signature, gets
none, and the server refuses and audits the agent's attempts to mint it."""
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

SOURCE_ROOT = os.environ.get("WARDEN_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
GRPC_TOOLS_PROTO = "/usr/lib/python3/dist-packages/grpc_tools/_proto"
PASSWORD = "admission password"
SIGNED_ID = "spiffe://example.org/admission/signed"
UNSIGNED_ID = "spiffe://example.org/admission/unsigned"

# Run by a copy of the interpreter: prints the SPIFFE IDs of the first
# X509SVIDResponse as JSON, or the gRPC status code name.
FETCH = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc
channel = grpc.insecure_channel("unix://" + sys.argv[1])
stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
try:
    stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                metadata=(("workload.spiffe.io", "true"),), timeout=10)
    print(json.dumps(sorted(s.spiffe_id for s in next(stream).svids)))
except grpc.RpcError as error:
    print(error.code().name)
"""


def generate_stubs(out_dir):
    """Generates the Workload API stubs; returns None, or the reason to skip."""
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError as error:
        return f"python3 grpcio or grpc_tools missing: {error}"
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(SOURCE_ROOT, "proto"),
         "-I", GRPC_TOOLS_PROTO, f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
         os.path.join(SOURCE_ROOT, "proto", "workload.proto")],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"grpc_tools.protoc failed: {result.stderr}"
    return None


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class AdmissionAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="warden-admission-agent-")
        os.chmod(cls.work, 0o755)
        cls.stubs = os.path.join(cls.work, "stubs")
        os.mkdir(cls.stubs)
        reason = generate_stubs(cls.stubs)
        if reason:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise unittest.SkipTest(reason)

        cls.env = dict(os.environ, COSIGN_PASSWORD=PASSWORD)
        cls.run_warden("keygen", "--output-key-prefix", cls.path("trusted"))
        config = f"admission:\n  trusted_keys: [{cls.path('trusted.pub')}]\n"
        cls.server = Server("example.org", config=config)
        cls.env["WARDEN_ADMIN_SOCKET"] = cls.server.admin_socket

        # The signed and the modified interpreter differ by bytes past the
        # end of the ELF image, which the loader ignores.
        interpreter = os.path.realpath(sys.executable)
        cls.signed = cls.path("python-signed")
        cls.unsigned = cls.path("python-modified")
        shutil.copy(interpreter, cls.signed)
        shutil.copy(interpreter, cls.unsigned)
        with open(cls.unsigned, "ab") as f:
            f.write(b"modified after signing\n")
        bundle = cls.path("python-signed.sigstore.json")
        cls.run_warden("sign-blob", "--key", cls.path("trusted.key"), "--bundle", bundle,
                       cls.signed)
        cls.run_warden("signature", "add", "--file", cls.signed, bundle)

        token = cls.server.join_token()
        cls.agent_id = token["agent_id"]
        cls.signed_entry = cls.create_entry(SIGNED_ID, cls.signed)
        cls.unsigned_entry = cls.create_entry(UNSIGNED_ID, cls.unsigned)
        cls.start_agent(token["token"])

    @classmethod
    def tearDownClass(cls):
        cls.stop_agent()
        cls.server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.work, name)

    @classmethod
    def run_warden(cls, *args):
        result = subprocess.run([wardenlib.WARDEN, *args], env=cls.env, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, f"warden {args[0]}: {result.stderr}"
        return result

    @classmethod
    def create_entry(cls, spiffe_id, binary):
        return cls.server.create_entry(
            spiffe_id, cls.agent_id,
            selectors=("unix:uid:0", f"unix:sha256:{sha256_file(binary)}"),
            require_signed=True)

    @classmethod
    def start_agent(cls, join_token):
        cls.socket = cls.path("agent.sock")
        cls.agent_log_path = cls.path("agent.log")
        cls.agent_log = open(cls.agent_log_path, "w")
        cls.agent = subprocess.Popen(
            [wardenlib.WARDEN, "agent", "run", "--server-address",
             f"127.0.0.1:{cls.server.port}", "--trust-domain", "example.org",
             "--trust-bundle", cls.server.bundle_path, "--data-dir", cls.path("agent-data"),
             "--socket-path", cls.socket, "--sync-interval", "1s", "--join-token", join_token],
            stdout=subprocess.PIPE, stderr=cls.agent_log, text=True)
        if not cls.agent.stdout.readline().strip():
            cls.agent.wait(10)
            raise RuntimeError(f"agent exited {cls.agent.returncode}:\n{cls.agent_log_text()}")

    @classmethod
    def stop_agent(cls):
        if cls.agent.poll() is None:
            cls.agent.send_signal(signal.SIGTERM)
            try:
                cls.agent.wait(10)
            except subprocess.TimeoutExpired:
                cls.agent.kill()
                cls.agent.wait()
        cls.agent.stdout.close()
        cls.agent_log.close()

    @classmethod
    def agent_log_text(cls):
        with open(cls.agent_log_path) as f:
            return f.read()

    def fetch(self, interpreter):
        result = subprocess.run([interpreter, "-c", FETCH, self.socket, self.stubs],
                                capture_output=True, text=True, timeout=30, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def audit_records(self, action, obj):
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            records = [json.loads(line) for line in f if line.strip()]
        return [r for r in records if r["action"] == action and r["object"] == obj]

    def test_signed_binary_gets_svid_unsigned_none(self):
        deadline = time.monotonic() + 30
        signed = ""
        while time.monotonic() < deadline:
            signed = self.fetch(self.signed)
            if signed != "PERMISSION_DENIED":
                break
            time.sleep(0.3)
        self.assertEqual(signed, json.dumps([SIGNED_ID]), self.agent_log_text())

        # By now the agent has synced both entries and tried to mint both.
        self.assertEqual(self.fetch(self.unsigned), "PERMISSION_DENIED")
        digest = sha256_file(self.unsigned)
        message = (f"entry {self.unsigned_entry['id']} requires a signed binary: "
                   f"sha256:{digest} has no registered signature")
        denied = self.audit_records("svid.issue", UNSIGNED_ID)
        self.assertTrue(denied, "no audit record of the refused mint")
        self.assertEqual({(r["outcome"], r["actor"], r["detail"]) for r in denied},
                         {("denied", self.agent_id, message)})
        self.assertIn(message, self.agent_log_text())

        admitted = self.audit_records("svid.admit", SIGNED_ID)
        self.assertTrue(admitted)
        self.assertTrue(admitted[0]["detail"].startswith(
            f"entry={self.signed_entry['id']} sha256:{sha256_file(self.signed)} signature="))
        self.assertEqual(self.audit_records("svid.admit", UNSIGNED_ID), [])
        # The refusal concerns one entry, so the agent keeps running.
        self.assertIsNone(self.agent.poll())


if __name__ == "__main__":
    wardenlib.main()
