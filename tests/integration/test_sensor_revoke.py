#!/usr/bin/python3
"""The server side of the runtime sensor against a real server and agent.
`warden sensor revoke --pid`, with the sensor's own SVID from the Workload
API, revokes the X.509-SVID that a workload fetched (its serial lands on
the CRL) and the secrets tokens of its cert and JWT logins. It leaves
entries of another node alone, rejects callers that are not sensors, and
audits each step. Alerts and response records add one audit record each."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import pglib
import wardenlib
from wardenlib import Server, csr_pem, key_pem

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_workload_api as wapi  # noqa: E402  (the Workload API stubs and Agent)

TD = "example.org"
SENSOR_ID = f"spiffe://{TD}/sensor"
WORKLOAD_ID = f"spiffe://{TD}/app/worker"
OTHER_ID = f"spiffe://{TD}/app/elsewhere"
NESTED_ID = f"spiffe://{TD}/app/nested"
SHARED_ID = f"spiffe://{TD}/app/shared"
WORKLOAD_UID = 4343
ROOT_TOKEN = "root-sensor-test"
CREATION = ['CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' '
            "VALID UNTIL '{{expiration}}'"]

CONFIG = f"""identity:
  dns_names: [localhost]
sensor:
  spiffe_ids: [{SENSOR_ID}]
"""

# Runs as the workload's uid. It fetches its X.509- and JWT-SVID for the ID
# argv[4] from the agent and writes the X.509-SVID and key to argv[3]. It
# prints one JSON line with the serials of every X.509-SVID it got, then
# stays alive until killed, so that its pid can be attested.
WORKLOAD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
metadata = (("workload.spiffe.io", "true"),)
deadline = time.monotonic() + 20
while True:
    try:
        channel = grpc.insecure_channel("unix://" + sys.argv[1])
        stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
        svids = next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=metadata,
                                        timeout=10)).svids
        svid = [s for s in svids if s.spiffe_id == sys.argv[4]][0]
        jwt = stub.FetchJWTSVID(workload_pb2.JWTSVIDRequest(audience=["vault"],
                                                            spiffe_id=sys.argv[4]),
                                metadata=metadata, timeout=10).svids[0].svid
        break
    except grpc.RpcError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
leaf = x509.load_der_x509_certificate(svid.x509_svid)
key = serialization.load_der_private_key(svid.x509_svid_key, None)
with open(os.path.join(sys.argv[3], "workload.pem"), "wb") as f:
    f.write(leaf.public_bytes(serialization.Encoding.PEM))
with open(os.path.join(sys.argv[3], "workload.key"), "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
serials = {s.spiffe_id: format(x509.load_der_x509_certificate(s.x509_svid).serial_number, "x")
           for s in svids}
print(json.dumps({"spiffe_id": svid.spiffe_id, "serial": format(leaf.serial_number, "x"),
                  "jwt": jwt, "serials": serials}), flush=True)
time.sleep(600)
"""

# Runs as the workload's uid and prints its X.509-SVID serials by SPIFFE ID
# as JSON, or {} while it has none.
FETCH_SERIALS = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
import grpc, workload_pb2, workload_pb2_grpc
from cryptography import x509
stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(grpc.insecure_channel("unix://" + sys.argv[1]))
try:
    svids = next(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(),
                                    metadata=(("workload.spiffe.io", "true"),), timeout=10)).svids
except grpc.RpcError:
    svids = []
print(json.dumps({s.spiffe_id: format(x509.load_der_x509_certificate(s.x509_svid).serial_number,
                                      "x") for s in svids}))
"""


def audit_records(server):
    with open(os.path.join(server.data_dir, "audit.log")) as f:
        return [json.loads(line) for line in f if line.strip()]


@unittest.skipIf(wapi.SKIP_REASON is not None, wapi.SKIP_REASON or "")
@unittest.skipIf(os.geteuid() != 0, "needs root: the workload runs as another uid")
class SensorRevokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="warden-sensor-")
        os.chmod(cls.work, 0o777)
        os.chmod(wapi.STUB_DIR, 0o755)
        cls.server = Server(TD, config=CONFIG, dev_root_token=ROOT_TOKEN)
        warden = os.path.realpath(wardenlib.WARDEN)

        token = cls.server.join_token()
        cls.agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        cls.sensor_entry = cls.server.create_entry(
            SENSOR_ID, cls.agent_id, selectors=("unix:uid:0", f"unix:path:{warden}"))
        cls.python_sensor_entry = cls.server.create_entry(
            SENSOR_ID, cls.agent_id,
            selectors=("unix:uid:0", f"unix:path:{os.path.realpath(sys.executable)}"))
        cls.workload_entry = cls.server.create_entry(
            WORKLOAD_ID, cls.agent_id, selectors=(f"unix:uid:{WORKLOAD_UID}",))

        # An entry nested under the workload's: authorized for the node, but
        # through another entry that other nodes may carry as well.
        cls.nested_entry = cls.server.create_entry(
            NESTED_ID, WORKLOAD_ID, selectors=(f"unix:uid:{WORKLOAD_UID}",))

        # A second node with an entry the workload's selectors also match:
        # the sensor of the first node must not reach it.
        cls.other_agent, cls.other_cert, cls.other_key = cls.server.new_agent()
        # An ID registered on both nodes: its X.509-SVIDs of this node are
        # revoked, but a JWT login with it may have come from either node.
        cls.shared_entry = cls.server.create_entry(
            SHARED_ID, cls.agent_id, selectors=(f"unix:uid:{WORKLOAD_UID}",))
        cls.server.create_entry(SHARED_ID, cls.other_agent, selectors=("unix:uid:9999",))
        cls.other_entry = cls.server.create_entry(
            OTHER_ID, cls.other_agent, selectors=(f"unix:uid:{WORKLOAD_UID}",))
        key = ec.generate_private_key(ec.SECP256R1())
        response = cls.server.tls("POST", "/v1/svid/x509",
                                  {"entry_id": cls.other_entry["id"], "csr": csr_pem(key)},
                                  cert=cls.other_cert, key=cls.other_key)
        assert response.status == 200, response
        cls.other_serial = response.json()["serial"]

        cls.agent = wapi.Agent(cls.server, cls.work, token["token"])

        root = cls.server.vault()
        root.sys.enable_auth_method("cert")
        root.sys.enable_auth_method("jwt")
        root.write("auth/cert/certs/apps", allowed_uri_sans=f"spiffe://{TD}/app/*",
                   token_policies="apps", token_ttl="1h")
        root.write("auth/jwt/role/apps", role_type="jwt", user_claim="sub",
                   bound_audiences="vault", token_policies="apps", token_ttl=600)

        # Dynamic PostgreSQL credentials give the cert login's token a lease,
        # when a throwaway cluster can run here.
        cls.pg = None
        cls.pg_skip = pglib.missing_requirement()
        if cls.pg_skip is None:
            cls.pg = pglib.Postgres()
            root.sys.enable_secrets_engine("database", path="database")
            root.secrets.database.configure(
                "pg", "postgresql-database-plugin", allowed_roles=["*"],
                connection_url=cls.pg.connection_url(), username=cls.pg.admin_user,
                password=cls.pg.admin_password, mount_point="database")
            root.secrets.database.create_role("app", db_name="pg", creation_statements=CREATION,
                                              default_ttl=300, max_ttl=3600,
                                              mount_point="database")
            root.sys.create_or_update_policy(
                "apps", 'path "database/creds/app" { capabilities = ["read"] }')
        else:
            print(f"leases not checked: {cls.pg_skip}", file=sys.stderr)
        root.adapter.close()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.cleanup()
        if cls.pg is not None:
            cls.pg.stop()
        shutil.rmtree(cls.work, ignore_errors=True)
        shutil.rmtree(wapi.STUB_DIR, ignore_errors=True)

    def start_workload(self):
        def drop():
            os.setgroups([])
            os.setgid(WORKLOAD_UID)
            os.setuid(WORKLOAD_UID)
        out_dir = tempfile.mkdtemp(dir=self.work)
        os.chmod(out_dir, 0o777)
        process = subprocess.Popen(
            [sys.executable, "-c", WORKLOAD, self.agent.socket, wapi.STUB_DIR, out_dir,
             WORKLOAD_ID],
            preexec_fn=drop, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_workload, process)
        line = process.stdout.readline()
        self.assertTrue(line, process.stderr.read() if process.poll() is not None else "")
        svid = json.loads(line)
        svid["cert"] = os.path.join(out_dir, "workload.pem")
        svid["key"] = os.path.join(out_dir, "workload.key")
        return process, svid

    @staticmethod
    def stop_workload(process):
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()

    def sensor_revoke(self, pid, *extra):
        return subprocess.run(
            [wardenlib.WARDEN, "sensor", "revoke", "--server", f"https://127.0.0.1:{self.server.port}",
             "--socket", self.agent.socket, "--pid", str(pid), "--rule", "Shell in worker",
             "--reason", "test", *extra],
            capture_output=True, text=True, timeout=60)

    def crl_serials(self):
        response = self.server.admin("GET", "/v1/crl")
        self.assertEqual(response.status, 200, response)
        return {entry.serial_number for entry in x509.load_pem_x509_crl(response.body)}

    def test_revoke_workload(self):
        process, svid = self.start_workload()
        self.assertEqual(svid["spiffe_id"], WORKLOAD_ID)
        self.assertEqual(sorted(svid["serials"]), [NESTED_ID, SHARED_ID, WORKLOAD_ID])

        # Tokens from a cert login with the X.509-SVID and a JWT login with
        # the JWT-SVID.
        cert_client = self.server.vault(token="", cert=(svid["cert"], svid["key"]))
        self.addCleanup(cert_client.adapter.close)
        cert_auth = cert_client.auth.cert.login(cert_pem=svid["cert"], key_pem=svid["key"])["auth"]
        self.assertEqual(cert_auth["metadata"]["spiffe_id"], WORKLOAD_ID)
        jwt_client = self.server.vault(token="")
        self.addCleanup(jwt_client.adapter.close)
        jwt_auth = jwt_client.auth.jwt.jwt_login(role="apps", jwt=svid["jwt"])["auth"]
        self.assertEqual(jwt_auth["metadata"],
                         {"role": "apps", "sub": WORKLOAD_ID, "spiffe_id": WORKLOAD_ID})
        response = self.server.admin("POST", "/v1/svid/jwt/mint",
                                     {"spiffe_id": SHARED_ID, "audience": ["vault"]})
        self.assertEqual(response.status, 200, response)
        shared_auth = jwt_client.auth.jwt.jwt_login(role="apps",
                                                    jwt=response.json()["token"])["auth"]
        for token in (cert_auth["client_token"], jwt_auth["client_token"],
                      shared_auth["client_token"]):
            self.assertEqual(self.server.vault_raw("GET", "/v1/auth/token/lookup-self",
                                                   token=token).status, 200)
        self.assertNotIn(int(svid["serial"], 16), self.crl_serials())
        leases = []
        if self.pg is not None:
            creds = cert_client.secrets.database.generate_credentials("app",
                                                                     mount_point="database")
            leases = [creds["lease_id"]]
            username = creds["data"]["username"]
            self.assertIn(username, self.pg.roles())

        before = len(audit_records(self.server))
        result = self.sensor_revoke(process.pid)
        self.assertEqual(result.returncode, 0, result.stderr + self.agent.read_log()[-3000:])
        reply = json.loads(result.stdout)
        self.assertEqual(reply["agent_id"], self.agent_id)
        self.assertEqual(reply["pid"], process.pid)
        self.assertEqual(sorted(e["id"] for e in reply["entries"]),
                         sorted([self.workload_entry["id"], self.shared_entry["id"]]))
        self.assertEqual(reply["shared_entries"], [{"id": self.nested_entry["id"],
                                                    "spiffe_id": NESTED_ID,
                                                    "parent_id": WORKLOAD_ID}])
        self.assertEqual(sorted(reply["revoked_serials"]),
                         sorted([svid["serial"], svid["serials"][SHARED_ID]]))
        self.assertNotIn(self.other_serial, reply["revoked_serials"])
        self.assertEqual(reply["revoked_tokens"], 2)
        self.assertEqual(reply["revoked_leases"], leases)
        self.assertIs(reply["changed"], True)
        self.assertNotIn("secrets_error", reply)

        # The exact serial is on the CRL; the other node's is not.
        crl = self.crl_serials()
        self.assertIn(int(svid["serial"], 16), crl)
        self.assertNotIn(int(self.other_serial, 16), crl)
        self.assertNotIn(int(svid["serials"][NESTED_ID], 16), crl)
        for token in (cert_auth["client_token"], jwt_auth["client_token"]):
            self.assertEqual(self.server.vault_raw("GET", "/v1/auth/token/lookup-self",
                                                   token=token).status, 403)
        self.assertEqual(self.server.vault_raw("GET", "/v1/auth/token/lookup-self",
                                               token=shared_auth["client_token"]).status, 200)
        if self.pg is not None:
            # Revoking a token makes its leases due at once, as Vault does;
            # the expiry manager drops the role on its next tick.
            deadline = time.monotonic() + 15
            while username in self.pg.roles() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertNotIn(username, self.pg.roles())
            self.assertEqual(self.server.vault_raw("PUT", "/v1/sys/leases/lookup",
                                                   {"lease_id": leases[0]}).status, 400)
        # The revoked SVID no longer gets past the server's handshake.
        with self.assertRaises(Exception):
            self.server.tls("GET", "/v1/health", cert=svid["cert"], key=svid["key"])

        records = audit_records(self.server)[before:]
        actions = [(r["action"], r["object"], r["actor"]) for r in records]
        self.assertIn(("svid.revoke", WORKLOAD_ID, SENSOR_ID), actions)
        self.assertEqual(sum(1 for r in records if r["action"] == "secrets.token.revoke"
                             and r["object"] == WORKLOAD_ID and r["actor"] == SENSOR_ID), 2)
        self.assertEqual([r["object"] for r in records if r["action"] == "secrets.lease.revoke"],
                         leases)
        summary = [r for r in records if r["action"] == "sensor.revoke"]
        self.assertEqual(len(summary), 1)
        self.assertEqual(summary[0]["object"], f"pid:{process.pid}")
        self.assertEqual(summary[0]["outcome"], "success")
        self.assertIn("rule=Shell in worker", summary[0]["detail"])
        verify = subprocess.run([wardenlib.WARDEN, "audit", "verify",
                                 os.path.join(self.server.data_dir, "audit.log")],
                                capture_output=True, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

        # The agent learns the CRL at its next sync and renews the revoked
        # SVIDs at once, so a second call finds only those renewals live. It
        # revokes exactly them and nothing the first call revoked.
        renewed = self.wait_for_renewal(
            {WORKLOAD_ID: svid["serial"], SHARED_ID: svid["serials"][SHARED_ID]})
        again = self.sensor_revoke(process.pid)
        self.assertEqual(again.returncode, 0, again.stderr)
        second = json.loads(again.stdout)
        self.assertEqual(sorted(second["revoked_serials"]), sorted(renewed))
        self.assertEqual(second["revoked_tokens"], 0)
        self.assertIs(second["changed"], True)
        self.assertEqual(sorted(e["id"] for e in second["entries"]),
                         sorted([self.workload_entry["id"], self.shared_entry["id"]]))

    def wait_for_renewal(self, revoked):
        """Waits until the agent serves the workload's uid new X.509-SVIDs
        for every SPIFFE ID in revoked (ID to revoked serial); returns
        their serials."""
        deadline = time.monotonic() + 15
        while True:
            result = wapi.run_as(WORKLOAD_UID, [sys.executable, "-c", FETCH_SERIALS,
                                                self.agent.socket, wapi.STUB_DIR])
            serials = json.loads(result.stdout or "{}")
            if all(serials.get(spiffe_id) not in (None, serial)
                   for spiffe_id, serial in revoked.items()):
                return [serials[spiffe_id] for spiffe_id in revoked]
            self.assertLess(time.monotonic(), deadline,
                            (serials, result.stderr, self.agent.read_log()[-2000:]))
            time.sleep(0.2)

    def sensor_svid_in_process(self):
        """The SVID this (root, python) process gets from the agent: the
        second sensor entry, so that requests can be made by hand."""
        deadline = time.monotonic() + 20
        while True:
            try:
                with self.agent.channel() as channel:
                    stub = wapi.workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
                    svid = next(stub.FetchX509SVID(wapi.workload_pb2.X509SVIDRequest(),
                                                   metadata=wapi.HEADER, timeout=10)).svids[0]
                break
            except wapi.grpc.RpcError:
                self.assertLess(time.monotonic(), deadline, self.agent.read_log()[-2000:])
                time.sleep(0.2)
        self.assertEqual(svid.spiffe_id, SENSOR_ID)
        leaf = x509.load_der_x509_certificate(svid.x509_svid)
        key = serialization.load_der_private_key(svid.x509_svid_key, None)
        cert_path = self.server.write("python-sensor.pem",
                                      leaf.public_bytes(serialization.Encoding.PEM))
        key_path = self.server.write("python-sensor.key", key_pem(key))
        return cert_path, key_path

    def test_sensor_stays_on_its_node(self):
        process, svid = self.start_workload()
        selectors = json.loads(subprocess.run(
            [wardenlib.WARDEN, "sensor", "revoke", "--pid", str(process.pid), "--selectors-only"],
            capture_output=True, text=True, check=True).stdout)
        self.assertIn(f"unix:uid:{WORKLOAD_UID}", selectors)
        cert, key = self.sensor_svid_in_process()

        response = self.server.tls("POST", "/v1/sensor/revoke",
                                   {"pid": process.pid, "selectors": selectors,
                                    "agent_id": self.other_agent}, cert=cert, key=key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.error_message(),
                         f"sensor {SENSOR_ID} runs on node {self.agent_id} and may not revoke "
                         f"workloads of {self.other_agent}")

        # Without agent_id the sensor's own node is used: the other node's
        # entry matches the selectors too but is not reached.
        response = self.server.tls("POST", "/v1/sensor/revoke",
                                   {"pid": process.pid, "selectors": selectors},
                                   cert=cert, key=key)
        self.assertEqual(response.status, 200, response)
        reply = response.json()
        self.assertEqual(sorted(e["id"] for e in reply["entries"]),
                         sorted([self.workload_entry["id"], self.shared_entry["id"]]))
        self.assertNotIn(self.other_serial, reply["revoked_serials"])
        # The agent may still serve the SVID test_revoke_workload revoked;
        # either way it is on the CRL now, and the other node's is not.
        crl = self.crl_serials()
        self.assertIn(int(svid["serial"], 16), crl)
        self.assertNotIn(int(self.other_serial, 16), crl)

        # The admin socket names the node itself.
        response = self.server.admin("POST", "/v1/sensor/revoke",
                                     {"pid": process.pid, "selectors": selectors})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.error_message(), 'missing "agent_id": the admin socket '
                         'names the node whose workloads it revokes')
        # With it, an operator reaches any node; this test runs last, so the
        # other node's SVID may go now.
        response = self.server.admin("POST", "/v1/sensor/revoke",
                                     {"pid": process.pid, "selectors": selectors,
                                      "agent_id": self.other_agent})
        self.assertEqual(response.status, 200, response)
        self.assertEqual([e["id"] for e in response.json()["entries"]], [self.other_entry["id"]])
        self.assertEqual(response.json()["revoked_serials"], [self.other_serial])
        self.assertIn(int(self.other_serial, 16), self.crl_serials())
        summary = [r for r in audit_records(self.server) if r["action"] == "sensor.revoke"]
        self.assertEqual(summary[-1]["actor"], "uid:0")

        bad = [
            ({"pid": 0, "selectors": selectors}, 'field "pid" is 0'),
            ({"pid": 5, "selectors": []}, 'invalid "selectors": empty'),
            ({"pid": 5, "selectors": ["nocolon"]}, 'invalid "selectors"[0]'),
            ({"pid": 5}, 'missing field "selectors"'),
        ]
        for body, message in bad:
            with self.subTest(message=message):
                response = self.server.tls("POST", "/v1/sensor/revoke", body, cert=cert, key=key)
                self.assertEqual(response.status, 400, response)
                self.assertIn(message, response.error_message())

    def test_non_sensor_refused(self):
        process, svid = self.start_workload()
        before = len(audit_records(self.server))
        for path, body in (("/v1/sensor/revoke", {"pid": process.pid,
                                                  "selectors": [f"unix:uid:{WORKLOAD_UID}"]}),
                           ("/v1/sensor/alerts", {"rule": "r", "priority": "Warning",
                                                  "output": "o", "time": "t"})):
            with self.subTest(path=path):
                response = self.server.tls("POST", path, body, cert=svid["cert"], key=svid["key"])
                self.assertEqual(response.status, 403, response)
                self.assertEqual(response.error_message(),
                                 f"{WORKLOAD_ID} is not a sensor: only the admin socket or an "
                                 "SVID whose SPIFFE ID sensor.spiffe_ids lists may call this "
                                 "endpoint")
        denied = [r for r in audit_records(self.server)[before:] if r["outcome"] == "denied"]
        self.assertEqual([(r["action"], r["actor"]) for r in denied],
                         [("sensor.revoke", WORKLOAD_ID), ("sensor.alert", WORKLOAD_ID)])
        self.assertNotIn(int(svid["serial"], 16), self.crl_serials())

    def test_minted_sensor_svid_names_no_node(self):
        minted = self.server.mint(SENSOR_ID)
        cert = self.server.write("minted-sensor.pem", minted["svid"])
        key = self.server.write("minted-sensor.key", minted["private_key"])
        response = self.server.tls("POST", "/v1/sensor/revoke",
                                   {"pid": 1, "selectors": [f"unix:uid:{WORKLOAD_UID}"]},
                                   cert=cert, key=key)
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.error_message(),
                         f"X.509-SVID serial {minted['serial']} of {SENSOR_ID} was minted "
                         "without a registration entry, so it names no node")

    def test_alert_intake(self):
        minted = self.server.mint(SENSOR_ID)
        cert = self.server.write("alert-sensor.pem", minted["svid"])
        key = self.server.write("alert-sensor.key", minted["private_key"])
        alert = {
            "rule": "Terminal shell in container",
            "priority": "Warning",
            "output": "A shell was spawned (user=root shell=bash)",
            "output_fields": {"proc.name": "bash", "user.name": "root", "proc.pid": 42},
            "time": "2026-12-05T11:00:00.000000000Z",
            "hostname": "node-1",
            "source": "syscall",
            "tags": ["shell", "mitre_execution"],
            "responses": [{"action": "kill", "outcome": "success", "pid": 42}],
        }
        before = len(audit_records(self.server))
        response = self.server.tls("POST", "/v1/sensor/alerts", alert, cert=cert, key=key)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json(), {"recorded": True, "rule": alert["rule"]})
        records = audit_records(self.server)[before:]
        self.assertEqual(len(records), 1, records)
        self.assertEqual((records[0]["action"], records[0]["actor"], records[0]["object"],
                          records[0]["outcome"]),
                         ("sensor.alert", SENSOR_ID, alert["rule"], "success"))
        self.assertEqual(json.loads(records[0]["detail"]), alert)

        # Bad alerts get 400 naming the field and add only a refusal record.
        cases = [
            ({k: v for k, v in alert.items() if k != "rule"}, 'missing field "rule"'),
            (dict(alert, priority="Loud"), 'invalid "priority" "Loud"'),
            (dict(alert, output_fields={"a": [1]}), 'invalid "output_fields"."a"'),
            (dict(alert, extra=1), 'unknown field "extra"'),
            (dict(alert, output="x" * 70000), "alert body is"),
        ]
        for body, message in cases:
            with self.subTest(message=message):
                response = self.server.tls("POST", "/v1/sensor/alerts", body, cert=cert, key=key)
                self.assertEqual(response.status, 400, response)
                self.assertIn(message, response.error_message())
        response = self.server.tls("POST", "/v1/sensor/alerts", raw="{not json", cert=cert, key=key)
        self.assertEqual(response.status, 400, response)
        self.assertEqual(sum(1 for r in audit_records(self.server)[before:]
                             if r["action"] == "sensor.alert" and r["outcome"] == "success"), 1)

    def test_alert_forwarding_cli(self):
        alert = {"rule": "Read shadow", "priority": "Warning", "output": "cat read /etc/shadow",
                 "time": "2026-12-05T10:18:42.447447802Z", "source": "syscall",
                 "output_fields": {"proc.name": "cat"}, "tags": ["filesystem"],
                 "hostname": "vm"}
        record = {"time": "2026-12-05T10:18:42.5Z", "type": "response", "rule": "Read shadow",
                  "action": "kill", "pid": 77, "target": "", "result": "success",
                  "hostname": "vm"}
        lines = "\n".join([json.dumps(alert), "", json.dumps(record), "not json",
                           json.dumps(dict(alert, priority="Loud"))]) + "\n"
        before = len(audit_records(self.server))
        result = subprocess.run(
            [wardenlib.WARDEN, "sensor", "alert", "--server",
             f"https://127.0.0.1:{self.server.port}", "--socket", self.agent.socket],
            input=lines, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.startswith("warden")]
        self.assertEqual(len(errors), 2, result.stderr)
        self.assertTrue(errors[0].startswith("warden sensor alert: line 4: "), errors[0])
        self.assertTrue(errors[0].startswith("warden sensor alert: line 4: invalid record: "),
                        errors[0])
        self.assertTrue(errors[1].startswith("warden sensor alert: alert not recorded: server "
                                             "refused /v1/sensor/alerts with status 400: "
                                             'invalid "priority" "Loud"'), errors[1])
        records = [r for r in audit_records(self.server)[before:] if r["outcome"] == "success"]
        self.assertEqual([(r["action"], r["actor"], r["object"]) for r in records],
                         [("sensor.alert", SENSOR_ID, "Read shadow"),
                          ("sensor.response", SENSOR_ID, "pid:77")])
        self.assertEqual(json.loads(records[0]["detail"]), alert)

    def test_response_intake(self):
        minted = self.server.mint(SENSOR_ID)
        cert = self.server.write("response-sensor.pem", minted["svid"])
        key = self.server.write("response-sensor.key", minted["private_key"])
        record = {"time": "2026-12-05T11:00:00.5Z", "type": "response",
                  "rule": "Terminal shell in container", "action": "kill", "pid": 42,
                  "target": "", "result": "dry-run", "hostname": "node-1"}
        before = len(audit_records(self.server))
        response = self.server.tls("POST", "/v1/sensor/responses", record, cert=cert, key=key)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json(), {"recorded": True})
        records = audit_records(self.server)[before:]
        self.assertEqual([(r["action"], r["actor"], r["object"], r["outcome"]) for r in records],
                         [("sensor.response", SENSOR_ID, "pid:42", "success")])
        self.assertEqual(json.loads(records[0]["detail"]), record)

        for body, message in (({"pid": 42}, 'missing field "action"'),
                              (dict(record, pid=[42]),
                               'invalid response record field "pid": expected a string'),
                              (dict(record, signal=9), 'unknown field "signal"')):
            with self.subTest(message=message):
                response = self.server.tls("POST", "/v1/sensor/responses", body, cert=cert,
                                           key=key)
                self.assertEqual(response.status, 400, response)
                self.assertIn(message, response.error_message())



class SealedSecretsTest(unittest.TestCase):
    """A revocation while the secrets service is sealed: the SVIDs go, and
    the reply reports that the tokens were left. Driven over the admin socket,
    so it needs no agent and no root."""

    def setUp(self):
        self.server = Server(TD, config=CONFIG)
        self.addCleanup(self.server.cleanup)

    def test_svids_revoked_tokens_left(self):
        agent_id, cert, key = self.server.new_agent()
        entry = self.server.create_entry(WORKLOAD_ID, agent_id, selectors=("unix:uid:4343",))
        svid_key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/svid/x509",
                                   {"entry_id": entry["id"], "csr": csr_pem(svid_key)},
                                   cert=cert, key=key)
        self.assertEqual(response.status, 200, response)
        serial = response.json()["serial"]

        response = self.server.admin("POST", "/v1/sensor/revoke",
                                     {"pid": 99, "agent_id": agent_id, "rule": "r",
                                      "selectors": ["unix:gid:4343", "unix:uid:4343"]})
        self.assertEqual(response.status, 200, response)
        reply = response.json()
        self.assertEqual(reply["revoked_serials"], [serial])
        self.assertEqual(reply["revoked_tokens"], 0)
        self.assertIs(reply["changed"], True)
        self.assertEqual(reply["secrets_error"], "the secrets service is sealed: tokens of the "
                         "matched workloads were not revoked")
        summary = [r for r in audit_records(self.server) if r["action"] == "sensor.revoke"]
        self.assertEqual(len(summary), 1)
        self.assertEqual(summary[0]["actor"], "uid:0")
        self.assertIn(" secrets_error=the secrets service is sealed", summary[0]["detail"])


class UsageTest(unittest.TestCase):
    """Usage errors of `warden sensor revoke` and `warden sensor alert`,
    which need neither root nor a server."""

    def run_warden(self, *args):
        return subprocess.run([wardenlib.WARDEN, "sensor", *args], capture_output=True,
                              text=True, timeout=30, input="")

    def test_help(self):
        for command, synopsis in (
                ("revoke", "usage: warden sensor revoke --server URL (--socket PATH | --cert "
                           "FILE --key FILE --bundle FILE) --pid PID"),
                ("alert", "usage: warden sensor alert --server URL (--socket PATH | --cert "
                          "FILE --key FILE --bundle FILE)")):
            with self.subTest(command=command):
                result = self.run_warden(command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(result.stdout.startswith(synopsis), result.stdout)

    def test_usage_errors(self):
        cases = [
            (("revoke",), "warden sensor revoke: missing --pid"),
            (("revoke", "--pid", "abc"),
             "warden sensor revoke: invalid --pid 'abc': expected a positive integer"),
            (("revoke", "--pid", "1"), "warden sensor revoke: missing --server"),
            (("revoke", "--pid", "1", "--server", "https://127.0.0.1:1"),
             "warden sensor revoke: give either --socket or all of --cert, --key and --bundle"),
            (("revoke", "--pid", "1", "--server", "https://127.0.0.1:1", "--socket", "s",
              "--cert", "c"),
             "warden sensor revoke: give either --socket or all of --cert, --key and --bundle"),
            (("revoke", "--pid", "1", "--server", "https://127.0.0.1:1", "--cert", "c"),
             "warden sensor revoke: --cert, --key and --bundle go together"),
            (("alert",), "warden sensor alert: missing --server"),
            (("alert", "--server", "https://127.0.0.1:1"),
             "warden sensor alert: give either --socket or all of --cert, --key and --bundle"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = self.run_warden(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(result.stderr.splitlines()[0], message)

    def test_bad_url_and_pid(self):
        # The selectors are read first, so the pid must be readable.
        result = self.run_warden("revoke", "--pid", str(os.getpid()), "--server",
                                 "http://127.0.0.1:1", "--cert", "c", "--key", "k", "--bundle", "b")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(), 'warden sensor revoke: server URL '
                         '"http://127.0.0.1:1" does not start with https://')
        result = self.run_warden("revoke", "--pid", "2147483647", "--selectors-only")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(),
                         "warden sensor revoke: process 2147483647 not found (/proc/2147483647)")


if __name__ == "__main__":
    wardenlib.main()
