#!/usr/bin/python3
"""The whole loop on the real kernel: a workload gets its X.509-SVID from a
real agent, then reads a file that a rule watches. `warden sensor run`,
authenticated with its own SVID from the same agent, must raise the alert,
ask the server to revoke the workload's identity, and kill the workload.
The workload's serial must land on the server's CRL, the workload must die
by SIGKILL, and the server's audit chain must hold the alert and both
response records."""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import wardenlib
from wardenlib import Server

from cryptography import x509

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_workload_api as wapi  # noqa: E402  (the Workload API stubs and Agent)

TD = "example.org"
SENSOR_ID = f"spiffe://{TD}/sensor"
WORKLOAD_ID = f"spiffe://{TD}/app/compromised"
WORKLOAD_UID = 4344
RULE = "Workload reads guarded file"
DEADLINE = 10.0  # seconds from the read to the kill and the revocation

CONFIG = f"""identity:
  dns_names: [localhost]
sensor:
  spiffe_ids: [{SENSOR_ID}]
"""

# Runs as the workload's uid: fetches its X.509-SVID, prints its serial,
# waits for a line on stdin, reads the guarded file and sleeps until killed.
WORKLOAD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc
from cryptography import x509
metadata = (("workload.spiffe.io", "true"),)
deadline = time.monotonic() + 20
while True:
    try:
        channel = grpc.insecure_channel("unix://" + sys.argv[1])
        stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
        svids = next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=metadata,
                                        timeout=10)).svids
        break
    except grpc.RpcError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
leaf = x509.load_der_x509_certificate(svids[0].x509_svid)
print(json.dumps({"spiffe_id": svids[0].spiffe_id, "serial": leaf.serial_number}), flush=True)
sys.stdin.readline()
open(sys.argv[3]).read()
time.sleep(600)
"""


def audit_records(server):
    with open(os.path.join(server.data_dir, "audit.log")) as f:
        return [json.loads(line) for line in f if line.strip()]


def sensor_skip_reason():
    result = subprocess.run([wardenlib.WARDEN, "sensor", "events", "--help"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return "this warden was built without the eBPF sensor"
    return None


@unittest.skipIf(wapi.SKIP_REASON is not None, wapi.SKIP_REASON or "")
@unittest.skipIf(os.geteuid() != 0, "needs root: eBPF, and the workload runs as another uid")
class SensorLoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = sensor_skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.work = tempfile.mkdtemp(prefix="warden-loop-")
        os.chmod(cls.work, 0o755)
        os.chmod(wapi.STUB_DIR, 0o755)
        cls.server = Server(TD, config=CONFIG)
        warden = os.path.realpath(wardenlib.WARDEN)
        token = cls.server.join_token()
        cls.agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        cls.server.create_entry(SENSOR_ID, cls.agent_id,
                                selectors=("unix:uid:0", f"unix:path:{warden}"))
        cls.server.create_entry(WORKLOAD_ID, cls.agent_id,
                                selectors=(f"unix:uid:{WORKLOAD_UID}",))
        cls.agent = wapi.Agent(cls.server, cls.work, token["token"])

        cls.guarded = os.path.join(cls.work, "guarded-secret")
        with open(cls.guarded, "w") as f:
            f.write("not for workloads\n")
        os.chmod(cls.guarded, 0o644)
        cls.rules = os.path.join(cls.work, "rules.yaml")
        with open(cls.rules, "w") as f:
            f.write(f"- rule: {RULE}\n"
                    f"  desc: a workload opened the guarded file\n"
                    f"  condition: evt.type in (open, openat) and fd.name = {cls.guarded}\n"
                    f"    and user.uid = {WORKLOAD_UID}\n"
                    f"  output: \"%proc.name (uid %user.uid) read %fd.name\"\n"
                    f"  priority: CRITICAL\n"
                    f"  warden:\n"
                    f"    actions: [kill, revoke]\n")

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)
        shutil.rmtree(wapi.STUB_DIR, ignore_errors=True)

    def start_sensor(self, output):
        process = subprocess.Popen(
            [wardenlib.WARDEN, "sensor", "run", "--rules", self.rules, "--output", output,
             "--server", f"https://127.0.0.1:{self.server.port}", "--socket", self.agent.socket,
             "--spiffe-id", SENSOR_ID],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(self.stop_sensor, process)
        log = b""
        end = time.monotonic() + 60
        fd = process.stderr.fileno()
        # os.read, not readline: a buffered readline can take several lines
        # at once, and select would then wait for data already read.
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            log += chunk
            if b"warden sensor: attached" in log:
                return process
        self.fail("the sensor did not attach: " + log.decode(errors="replace") +
                  self.agent.read_log()[-2000:])

    @staticmethod
    def stop_sensor(process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()

    def start_workload(self):
        def drop():
            os.setgroups([])
            os.setgid(WORKLOAD_UID)
            os.setuid(WORKLOAD_UID)
        process = subprocess.Popen(
            ["/usr/bin/python3", "-c", WORKLOAD, self.agent.socket, wapi.STUB_DIR, self.guarded],
            preexec_fn=drop, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_workload, process)
        line = process.stdout.readline()
        self.assertTrue(line, process.stderr.read() if process.poll() is not None else "")
        return process, json.loads(line)

    @staticmethod
    def stop_workload(process):
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()

    def crl_serials(self):
        response = self.server.admin("GET", "/v1/crl")
        self.assertEqual(response.status, 200, response)
        return {entry.serial_number for entry in x509.load_pem_x509_crl(response.body)}

    def test_alert_kills_and_revokes(self):
        output = os.path.join(self.work, "alerts.json")
        sensor = self.start_sensor(output)
        workload, svid = self.start_workload()
        self.assertEqual(svid["spiffe_id"], WORKLOAD_ID)
        self.assertNotIn(svid["serial"], self.crl_serials())
        before = len(audit_records(self.server))

        workload.stdin.write("go\n")
        workload.stdin.flush()
        try:
            code = workload.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            code = None
        self.assertEqual(code, -signal.SIGKILL)

        # The revocation reaches the CRL once the sensor's queue has sent it.
        end = time.monotonic() + DEADLINE
        while svid["serial"] not in self.crl_serials() and time.monotonic() < end:
            time.sleep(0.1)
        self.assertIn(svid["serial"], self.crl_serials())

        # The sensor's own log: the alert, then revoke before kill.
        with open(output) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        self.assertEqual([(r.get("type", "alert"), r.get("action")) for r in lines],
                         [("alert", None), ("response", "revoke"), ("response", "kill")])
        self.assertEqual(lines[0]["rule"], RULE)
        self.assertEqual(lines[0]["output_fields"]["fd.name"], self.guarded)
        self.assertEqual(lines[0]["output_fields"]["user.uid"], WORKLOAD_UID)
        self.assertEqual([r["result"] for r in lines[1:]], ["success", "success"])
        self.assertEqual({r["pid"] for r in lines[1:]}, {workload.pid})

        # SIGTERM flushes the queue; then the server's chain has it all.
        self.stop_sensor(sensor)
        records = audit_records(self.server)[before:]
        by_action = {}
        for record in records:
            by_action.setdefault(record["action"], []).append(record)
        self.assertEqual([(r["actor"], r["object"]) for r in by_action["sensor.alert"]],
                         [(SENSOR_ID, RULE)])
        self.assertEqual(len(by_action["sensor.response"]), 2)
        self.assertEqual({r["actor"] for r in by_action["sensor.response"]}, {SENSOR_ID})
        self.assertEqual([(r["actor"], r["object"], r["outcome"])
                          for r in by_action["sensor.revoke"]],
                         [(SENSOR_ID, f"pid:{workload.pid}", "success")])
        self.assertIn((SENSOR_ID, WORKLOAD_ID),
                      [(r["actor"], r["object"]) for r in by_action["svid.revoke"]])
        verify = subprocess.run([wardenlib.WARDEN, "audit", "verify",
                                 os.path.join(self.server.data_dir, "audit.log")],
                                capture_output=True, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_server_options_checked(self):
        cases = [
            (["--socket", "/nonexistent.sock"],
             "warden sensor: --socket, --spiffe-id, --cert, --key and --bundle need "
             "--server URL\n"),
            (["--server", "https://127.0.0.1:1"],
             "warden sensor: --server needs the sensor's SVID: either --socket PATH, or "
             "--cert, --key and --bundle\n"),
            (["--server", "https://127.0.0.1:1", "--cert", "a.pem"],
             "warden sensor: --server needs the sensor's SVID: either --socket PATH, or "
             "--cert, --key and --bundle\n"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                result = subprocess.run(
                    [wardenlib.WARDEN, "sensor", "run", "--rules", self.rules] + extra,
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 2)
                self.assertTrue(result.stderr.endswith(message), result.stderr)


if __name__ == "__main__":
    unittest.main()
