#!/usr/bin/python3
"""OPA's REST API on the server's policy listener, driven with curl over
mutual TLS. An admin SVID writes policies and data, and a workload SVID
asks for decisions. Every decision lands in the audit chain, and the state
survives a restart."""
import json
import os
import subprocess
import unittest

import wardenlib
from wardenlib import Server

AUTHZ_POLICY = """package example.authz

default allow := false

allow if {
	some role in data.bindings[input.user]
	input.action in data.roles[role]
}

reasons contains msg if {
	not allow
	msg := sprintf("%s may not %s", [input.user, input.action])
}
"""

MAIN_POLICY = """package system

main := {"allowed": data.example.authz.allow}
"""

SERVER_CONFIG = """identity:
  dns_names: [localhost]
"""

ROLES = {"reader": ["read"], "writer": ["read", "write"]}
BINDINGS = {"alice": ["writer"], "bob": ["reader"]}


class PolicyApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(config=SERVER_CONFIG)
        cls.admin_cert, cls.admin_key = cls.svid("spiffe://example.org/ops", admin=True)
        cls.work_cert, cls.work_key = cls.svid("spiffe://example.org/web")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def svid(cls, spiffe_id, admin=False):
        """Mints an SVID for spiffe_id (an admin entry first when asked)."""
        if admin:
            cls.server.create_entry(spiffe_id, "spiffe://example.org/warden/server",
                                    admin=True)
        minted = cls.server.mint(spiffe_id)
        name = spiffe_id.rsplit("/", 1)[-1]
        cert = cls.server.write(f"{name}.pem", minted["svid"])
        key = cls.server.write(f"{name}.key", minted["private_key"])
        return cert, key

    def curl(self, method, path, body=None, cert=None, key=None, content_type=None,
             headers=()):
        """Runs curl against the policy listener; returns (status, body)."""
        cert = cert or self.work_cert
        key = key or self.work_key
        port = self.server.policy_port
        # The server's certificate names localhost (dns_names below), and
        # --resolve keeps curl on the IPv4 address the listener binds.
        args = ["curl", "-sS", "--cacert", self.server.bundle_path, "--cert", cert,
                "--key", key, "-X", method, "-o", "-", "-w", "\n%{http_code}",
                "--resolve", f"localhost:{port}:127.0.0.1",
                f"https://localhost:{port}{path}"]
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body)
            args += ["--data-binary", data, "-H",
                     f"Content-Type: {content_type or 'application/json'}"]
        for header in headers:
            args += ["-H", header]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text, _, status = proc.stdout.rpartition("\n")
        return int(status), text

    def put_policy(self, policy_id, text, cert=None, key=None):
        return self.curl("PUT", f"/v1/policies/{policy_id}", text,
                         cert=cert or self.admin_cert, key=key or self.admin_key,
                         content_type="text/plain")

    def audit_records(self):
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def test_1_admin_writes(self):
        status, body = self.put_policy("example/authz", AUTHZ_POLICY)
        self.assertEqual((status, json.loads(body)), (200, {}))
        status, body = self.put_policy("system/main", MAIN_POLICY)
        self.assertEqual(status, 200, body)

        for name, value in (("roles", ROLES), ("bindings", BINDINGS)):
            status, body = self.curl("PUT", f"/v1/data/{name}", value, cert=self.admin_cert,
                                     key=self.admin_key)
            self.assertEqual((status, body), (204, ""))

        status, body = self.curl("GET", "/v1/policies/example/authz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["result"]["raw"], AUTHZ_POLICY)
        self.assertEqual(json.loads(body)["result"]["id"], "example/authz")

    def test_2_decisions(self):
        status, body = self.curl("POST", "/v1/data/example/authz/allow",
                                 {"input": {"user": "alice", "action": "write"}})
        self.assertEqual(status, 200, body)
        reply = json.loads(body)
        self.assertIs(reply["result"], True)
        self.assertRegex(reply["decision_id"], r"^[0-9a-f-]{36}$")

        status, body = self.curl("POST", "/v1/data/example/authz",
                                 {"input": {"user": "bob", "action": "write"}})
        self.assertEqual(json.loads(body)["result"],
                         {"allow": False, "reasons": ["bob may not write"]})

        # An undefined document has no "result" key at all.
        status, body = self.curl("GET", "/v1/data/example/authz/missing")
        self.assertEqual(status, 200)
        self.assertNotIn("result", json.loads(body))

        # Base documents read back through the same API.
        status, body = self.curl("GET", "/v1/data/roles/reader")
        self.assertEqual(json.loads(body)["result"], ["read"])

        # POST / replies with data.system.main itself, input unwrapped, on
        # the TLS listener and on the admin socket alike.
        status, body = self.curl("POST", "/", {"user": "alice", "action": "read"})
        self.assertEqual((status, json.loads(body)), (200, {"allowed": True}))
        response = self.server.admin("POST", "/", {"user": "bob", "action": "write"})
        self.assertEqual((response.status, response.json()), (200, {"allowed": False}))

        # OPA's flags come without a value.
        status, body = self.curl("GET", "/v1/data/roles/reader?pretty&strict-builtin-errors")
        self.assertEqual((status, json.loads(body)["result"]), (200, ["read"]))

    def test_3_decisions_audited(self):
        status, body = self.curl("POST", "/v1/data/example/authz/allow",
                                 {"input": {"user": "carol", "action": "read"}})
        decision_id = json.loads(body)["decision_id"]
        records = [r for r in self.audit_records() if r.get("action") == "policy.decide"]
        mine = [r for r in records if f"decision_id={decision_id}" in r.get("detail", "")]
        self.assertEqual(len(mine), 1, records[-3:])
        self.assertEqual(mine[0]["object"], 'data["example"]["authz"]["allow"]')
        self.assertEqual(mine[0]["actor"], "spiffe://example.org/web")
        self.assertIn(" result=false", mine[0]["detail"])
        self.assertRegex(mine[0]["detail"], r"input_sha256=[0-9a-f]{64}")

        verify = subprocess.run([wardenlib.WARDEN, "audit", "verify",
                                 os.path.join(self.server.data_dir, "audit.log")],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_4_query_api(self):
        status, body = self.curl("POST", "/v1/query",
                                 {"query": "data.bindings[u][_] == \"reader\""})
        self.assertEqual((status, json.loads(body)), (200, {"result": [{"u": "bob"}]}))

        status, body = self.curl("POST", "/v1/query", {"query": "x := "})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["code"], "invalid_parameter")
        self.assertEqual(json.loads(body)["errors"][0]["code"], "rego_parse_error")

    def test_5_bad_policy_refused(self):
        status, body = self.put_policy("broken", "package broken\n\nallow if {\n")
        self.assertEqual(status, 400, body)
        reply = json.loads(body)
        self.assertEqual(reply["code"], "invalid_parameter")
        self.assertEqual(reply["errors"][0]["code"], "rego_parse_error")
        self.assertEqual(reply["errors"][0]["location"]["file"], "broken")

        status, body = self.put_policy("unsafe", "package unsafe\n\np if { x > 1 }\n")
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["errors"][0]["code"], "rego_unsafe_var_error")

        status, body = self.curl("GET", "/v1/policies")
        ids = sorted(p["id"] for p in json.loads(body)["result"])
        self.assertEqual(ids, ["example/authz", "system/main"])

    def test_5b_data_cannot_shadow_rules(self):
        for path in ("/v1/data/example/authz/allow", "/v1/data/example"):
            status, body = self.curl("PUT", path, {"allow": True}, cert=self.admin_cert,
                                     key=self.admin_key)
            self.assertEqual(status, 400, body)
            self.assertIn("conflicting rule for data path: data.example.authz.allow",
                          json.loads(body)["message"])
        status, body = self.curl("PATCH", "/v1/data",
                                 [{"op": "add", "path": "/example/authz/allow", "value": 1}],
                                 cert=self.admin_cert, key=self.admin_key)
        self.assertEqual(status, 400, body)

        # Data beside the rules, in the same package, is fine.
        status, body = self.curl("PUT", "/v1/data/example/authz/limits", {"max": 3},
                                 cert=self.admin_cert, key=self.admin_key)
        self.assertEqual(status, 204, body)
        status, body = self.curl("GET", "/v1/data/example/authz/limits/max")
        self.assertEqual(json.loads(body)["result"], 3)

    def test_6_writes_need_admin(self):
        status, body = self.put_policy("example/authz", "package example.authz\n\nallow := true\n",
                                       cert=self.work_cert, key=self.work_key)
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["code"], "unauthorized")
        status, body = self.curl("PUT", "/v1/data/roles", {}, cert=self.work_cert,
                                 key=self.work_key)
        self.assertEqual(status, 403, body)

        # Without a client certificate the TLS handshake itself fails.
        port = self.server.policy_port
        proc = subprocess.run(["curl", "-sS", "--cacert", self.server.bundle_path,
                               "--resolve", f"localhost:{port}:127.0.0.1",
                               f"https://localhost:{port}/health"],
                              capture_output=True, text=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)

    def test_7_patch_and_delete(self):
        status, body = self.curl("PATCH", "/v1/data/bindings",
                                 [{"op": "add", "path": "/carol", "value": ["reader"]},
                                  {"op": "remove", "path": "/bob"}],
                                 cert=self.admin_cert, key=self.admin_key)
        self.assertEqual(status, 204, body)
        status, body = self.curl("GET", "/v1/data/bindings")
        self.assertEqual(json.loads(body)["result"], {"alice": ["writer"], "carol": ["reader"]})

        # A patch whose second operation fails leaves even the first undone.
        status, body = self.curl("PATCH", "/v1/data/bindings",
                                 [{"op": "add", "path": "/dave", "value": ["writer"]},
                                  {"op": "replace", "path": "/nobody", "value": []}],
                                 cert=self.admin_cert, key=self.admin_key)
        self.assertEqual(status, 404, body)
        self.assertIn("patch operation 1", json.loads(body)["message"])
        status, body = self.curl("GET", "/v1/data/bindings/dave")
        self.assertNotIn("result", json.loads(body))

        status, body = self.curl("DELETE", "/v1/data/nothing/here", cert=self.admin_cert,
                                 key=self.admin_key)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["code"], "resource_not_found")

    def test_8_restart_keeps_state(self):
        status, before = self.curl("POST", "/v1/data/example/authz/allow",
                                   {"input": {"user": "carol", "action": "read"}})
        self.assertIs(json.loads(before)["result"], True)

        self.server.stop()
        self.server.log = open(self.server.log_path, "a")
        self.server.process = subprocess.Popen(
            [wardenlib.WARDEN, "server", "--trust-domain", "example.org", "--data-dir",
             self.server.data_dir, "--listen", "127.0.0.1:0", "--policy-listen",
             "127.0.0.1:0", "--secrets-listen", "127.0.0.1:0", "--admin-socket", self.server.admin_socket, "--config",
             os.path.join(self.server.dir, "server.yaml")] + self.server.datastore_args,
            stdout=self.server.log, stderr=subprocess.STDOUT)
        open(self.server.log_path, "w").close()
        self.server.port = self.server._wait_ready()

        status, after = self.curl("POST", "/v1/data/example/authz/allow",
                                  {"input": {"user": "carol", "action": "read"}})
        self.assertIs(json.loads(after)["result"], True)
        status, body = self.curl("DELETE", "/v1/policies/system/main", cert=self.admin_cert,
                                 key=self.admin_key)
        self.assertEqual(status, 200, body)
        status, body = self.curl("GET", "/v1/policies/system/main")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    wardenlib.main()
