#!/usr/bin/python3
"""`warden proxy` end to end: curl -> outbound proxy (spiffe://example.org/a)
-> mTLS -> inbound proxy (spiffe://example.org/b) -> nginx, in TCP and in
HTTP mode. Also covers the flagship Rego policy with JWTs from PyJWT, its
audit records and metrics, X-Forwarded-Client-Cert spoofing, reloads and
--config files."""
import json
import http.client
import os
import socket
import subprocess
import sys
import time
import unittest

import proxylib
import wardenlib
from proxylib import DATA_BODY, ID_A, ID_B, ID_C

SKIP_REASON = proxylib.missing_tools(proxylib.NGINX, proxylib.CURL)


class ChainTest(unittest.TestCase):
    """One outbound/inbound pair per mode, shared by the tests of a class."""

    @classmethod
    def setUpClass(cls):
        cls.work = proxylib.WorkDir("warden-proxy-")
        cls.addClassCleanup(cls.work.cleanup)
        cls.pki = proxylib.TestPKI(cls.work.path)
        cls.cred_a = cls.pki.svid("a", ID_A)
        cls.cred_b = cls.pki.svid("b", ID_B)
        cls.cred_c = cls.pki.svid("c", ID_C)
        cls.nginx = proxylib.Nginx(cls.work.path)
        cls.addClassCleanup(cls.nginx.stop)

    @classmethod
    def start_proxy(cls, name, args):
        proxy = proxylib.Proxy(cls.work.path, name, args)
        cls.addClassCleanup(proxy.stop)
        return proxy

    @classmethod
    def start_inbound(cls, name, http=False, allow=(), extra=()):
        return cls.start_proxy(name, proxylib.inbound_args("127.0.0.1:0", cls.nginx.address,
                                                           allow=allow, http=http)
                               + cls.cred_b.args(cls.pki.bundle_path) + list(extra))

    @classmethod
    def start_outbound(cls, name, inbound, credentials=None, http=False, expect=(ID_B,)):
        credentials = credentials or cls.cred_a
        return cls.start_proxy(name, proxylib.outbound_args("127.0.0.1:0", inbound.address(),
                                                            expect=expect, http=http)
                               + credentials.args(cls.pki.bundle_path))


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class TransportTest(ChainTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy_path = proxylib.write_file(cls.work.join("allow-a.rego"),
                                              proxylib.ALLOW_A_POLICY)
        cls.tcp_in = cls.start_inbound("tcp-in", allow=(ID_A,))
        cls.tcp_out = cls.start_outbound("tcp-out", cls.tcp_in)
        cls.http_in = cls.start_inbound("http-in", http=True,
                                        extra=("--policy", cls.policy_path))
        cls.http_out = cls.start_outbound("http-out", cls.http_in, http=True)

    def assert_access_log_names(self, proxy, direction, **fields):
        """Waits for an access log line of proxy naming both SPIFFE IDs of
        the chain, then checks the fields given."""
        def matching():
            return [line for line in proxy.access_log()
                    if line.get("source_spiffe_id") == ID_A
                    and line.get("destination_spiffe_id") == ID_B]
        lines = proxylib.wait_until(matching, 10)
        self.assertTrue(lines, f"{proxy.name}: no access log line from {ID_A} to {ID_B}:"
                               f" {proxy.access_log()}")
        line = lines[-1]
        self.assertEqual(line.get("direction"), direction, line)
        for key, value in fields.items():
            self.assertEqual(line.get(key), value, line)

    def test_tcp_chain(self):
        result = proxylib.curl(f"http://{self.tcp_out.address()}/v1/data")
        self.assertEqual(result.exit_code, 0, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body, DATA_BODY)
        self.assertEqual(result.headers.get("content-type"), "application/json")

    def test_tcp_chain_access_logs(self):
        result = proxylib.curl(f"http://{self.tcp_out.address()}/v1/data")
        self.assertEqual(result.status, 200, result)
        # TCP access log lines are written when the connection closes.
        self.assert_access_log_names(self.tcp_in, "inbound", decision="allow")
        self.assert_access_log_names(self.tcp_out, "outbound", decision="allow")

    def test_tcp_chain_not_found_passes_through(self):
        result = proxylib.curl(f"http://{self.tcp_out.address()}/missing")
        self.assertEqual(result.status, 404, result)
        self.assertEqual(result.body, b"no such path\n")

    def test_tcp_chain_post_body(self):
        # nginx returns 200 for a POST to a "return" location without
        # reading the body, which must not corrupt the stream either way.
        result = proxylib.curl(f"http://{self.tcp_out.address()}/v1/data", method="POST",
                               data=b"x" * 100000)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body, DATA_BODY)

    def test_http_chain(self):
        result = proxylib.curl(f"http://{self.http_out.address()}/v1/data")
        self.assertEqual(result.exit_code, 0, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body, DATA_BODY)
        self.assertEqual(result.headers.get("content-type"), "application/json")

    def test_http_chain_access_logs(self):
        result = proxylib.curl(f"http://{self.http_out.address()}/v1/data")
        self.assertEqual(result.status, 200, result)
        self.assert_access_log_names(self.http_in, "inbound", method="GET", path="/v1/data",
                                     decision="allow", status=200)
        self.assert_access_log_names(self.http_out, "outbound", method="GET", path="/v1/data",
                                     status=200)

    def test_http_chain_keep_alive(self):
        # Three requests on one client connection: curl reuses it for URLs
        # given together.
        url = f"http://{self.http_out.address()}/v1/data"
        result = proxylib.run_curl_args(["-sS", "--max-time", "10", url, url, url])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, DATA_BODY * 3)

    def test_http_chain_post_chunked(self):
        # curl sends a body read from stdin with chunked transfer coding.
        result = subprocess.run(
            [proxylib.CURL, "-sS", "--max-time", "10", "-X", "POST", "-H",
             "Transfer-Encoding: chunked", "--data-binary", "@-",
             f"http://{self.http_out.address()}/v1/data"],
            input=b"y" * 200000, capture_output=True, timeout=20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, DATA_BODY)

    def test_http_chain_smuggling_rejected(self):
        # Content-Length and Transfer-Encoding together let two parsers
        # disagree on where the request ends (RFC 9112 section 6.3).
        request = (b"POST /v1/data HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/echo-xfcc HTTP/1.1\r\n"
                   b"Host: b\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.http_out.port), timeout=5) as sock:
            sock.sendall(request)
            reply = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        self.assertEqual(proxylib.status_of(reply), 400, reply)
        self.assertEqual(reply.count(b"HTTP/1.1 "), 1, reply)

    def test_xfcc_set_by_inbound(self):
        result = proxylib.curl(f"http://{self.http_out.address()}/v1/echo-xfcc")
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body.decode(),
                         f"By={ID_B};Hash={self.cred_a.der_sha256};URI={ID_A}")

    def test_xfcc_spoofed_header_replaced(self):
        spoofed = "By=spiffe://example.org/b;Hash=00;URI=spiffe://example.org/admin"
        for headers in ([f"X-Forwarded-Client-Cert: {spoofed}"],
                        [f"x-forwarded-client-cert: {spoofed}"],
                        [f"X-Forwarded-Client-Cert: {spoofed}",
                         "X-Forwarded-Client-Cert: URI=spiffe://example.org/root"]):
            with self.subTest(headers=headers):
                result = proxylib.curl(f"http://{self.http_out.address()}/v1/echo-xfcc",
                                       headers=headers)
                self.assertEqual(result.status, 200, result)
                self.assertEqual(result.body.decode(),
                                 f"By={ID_B};Hash={self.cred_a.der_sha256};URI={ID_A}")

    def test_xfcc_spoofed_directly_at_inbound(self):
        # A caller that speaks mTLS to the inbound itself, skipping the
        # outbound, cannot forward a header either.
        context = proxylib.tls_client_context(self.pki.bundle_path, self.cred_a)
        response, _ = proxylib.tls_exchange(
            self.http_in.port, context,
            proxylib.http_request_bytes("/v1/echo-xfcc", headers=[
                "X-Forwarded-Client-Cert: By=x;URI=spiffe://example.org/admin"]))
        self.assertEqual(proxylib.status_of(response), 200, response)
        self.assertEqual(proxylib.body_of(response).decode(),
                         f"By={ID_B};Hash={self.cred_a.der_sha256};URI={ID_A}")


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class FlagshipPolicyTest(ChainTest):
    """GET /v1/data on B, allowed only for spiffe://example.org/a with a JWT
    whose scope has data:read and whose groups have admin."""

    ISSUER = "https://issuer.example.org"
    AUDIENCE = "service-b"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jwt_issuer = proxylib.JWTIssuer()
        cls.jwks_path = proxylib.write_file(cls.work.join("jwks.json"), cls.jwt_issuer.jwks())
        cls.policy_path = proxylib.write_file(cls.work.join("policy.rego"),
                                              proxylib.FLAGSHIP_POLICY)
        cls.audit_path = cls.work.join("audit.log")
        cls.inbound = cls.start_inbound("flagship-in", http=True, extra=(
            "--policy", cls.policy_path, "--jwks", cls.jwks_path,
            "--jwt-issuer", cls.ISSUER, "--jwt-audience", cls.AUDIENCE,
            "--audit", cls.audit_path, "--audit-allow-sample", "1"))
        cls.out_a = cls.start_outbound("flagship-out-a", cls.inbound, http=True)
        cls.out_c = cls.start_outbound("flagship-out-c", cls.inbound, credentials=cls.cred_c,
                                       http=True)

    def good_token(self, **claims):
        body = {"scope": "openid data:read", "groups": ["staff", "admin"]}
        body.update(claims)
        return self.jwt_issuer.token(body)

    def request(self, method="GET", path="/v1/data", token=None, outbound=None, data=None):
        headers = [f"Authorization: Bearer {token}"] if token is not None else []
        outbound = outbound or self.out_a
        return proxylib.curl(f"http://{outbound.address()}{path}", method=method,
                             headers=headers, data=data)

    def assert_allowed(self, result):
        self.assertEqual(result.exit_code, 0, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body, DATA_BODY)

    def assert_forbidden(self, result):
        self.assertEqual(result.status, 403, result)
        self.assertEqual(result.headers.get("content-type"), "application/json", result.headers)
        self.assertEqual(result.headers.get("connection"), "close", result.headers)
        body = result.json()
        self.assertEqual(sorted(body), ["code", "message"], body)
        self.assertEqual(body["code"], "forbidden")
        self.assertIsInstance(body["message"], str)
        self.assertNotEqual(body["message"], "")

    def denied_cases(self):
        other_key = proxylib.JWTIssuer(kid=self.jwt_issuer.kid)
        unknown_kid = proxylib.JWTIssuer(kid="unknown-key")
        good_claims = {"scope": "data:read", "groups": ["admin"]}
        return [
            ("no JWT", {}),
            ("wrong scope", {"token": self.good_token(scope="data:write openid")}),
            ("scope as prefix", {"token": self.good_token(scope="data:readx")}),
            ("not admin", {"token": self.good_token(groups=["staff"])}),
            ("admin as a string", {"token": self.good_token(groups="administrators")}),
            ("POST", {"method": "POST", "token": self.good_token(), "data": b"{}"}),
            ("DELETE", {"method": "DELETE", "token": self.good_token()}),
            ("other path", {"path": "/v1/other", "token": self.good_token()}),
            ("path with suffix", {"path": "/v1/data/x", "token": self.good_token()}),
            ("signed by another key", {"token": other_key.token(good_claims)}),
            ("unknown kid", {"token": unknown_kid.token(good_claims)}),
            ("expired", {"token": self.jwt_issuer.token(good_claims, lifetime=-600)}),
            ("not yet valid", {"token": self.jwt_issuer.token(
                good_claims, nbf=int(proxylib.time.time()) + 600)}),
            ("wrong issuer", {"token": self.good_token(iss="https://evil.example.org")}),
            ("wrong audience", {"token": self.good_token(aud="service-x")}),
            ("alg none", {"token": unsigned_token(good_claims)}),
            ("garbage token", {"token": "not.a.jwt"}),
            ("caller c", {"token": self.good_token(), "outbound": self.out_c}),
        ]

    def settled_audit_count(self, decisions):
        """Waits until the audit log contains one proxy.request record per
        decision made so far (every allow is sampled), so records of earlier
        tests cannot appear later; returns the number of records."""
        def records():
            if not os.path.exists(self.audit_path):
                return []
            return proxylib.audit_records(self.audit_path)

        def settled():
            requests = [r for r in records() if r["action"] == "proxy.request"]
            return len(requests) == decisions
        self.assertTrue(proxylib.wait_until(settled, 10),
                        f"audit log has not caught up with {decisions} decisions")
        return len(records())

    def test_allowed(self):
        self.assert_allowed(self.request(token=self.good_token()))

    def test_allowed_with_query(self):
        # The policy compares the path without the query string.
        self.assert_allowed(self.request(path="/v1/data?page=2", token=self.good_token()))

    def test_each_request_on_connection_decided(self):
        # An allowed first request must not open the connection for the next.
        conn = http.client.HTTPConnection("127.0.0.1", self.out_a.port, timeout=10)
        try:
            headers = {"Authorization": f"Bearer {self.good_token()}"}
            conn.request("GET", "/v1/data", headers=headers)
            first = conn.getresponse()
            self.assertEqual(first.status, 200)
            self.assertEqual(first.read(), DATA_BODY)
            conn.request("GET", "/v1/echo-xfcc", headers=headers)
            second = conn.getresponse()
            self.assertEqual(second.status, 403)
            self.assertEqual(json.loads(second.read())["code"], "forbidden")
        finally:
            conn.close()

    def test_bearer_scheme_case_insensitive(self):
        # RFC 9110 section 11.1: the authentication scheme is case-insensitive.
        result = proxylib.curl(f"http://{self.out_a.address()}/v1/data",
                               headers=[f"authorization: bearer {self.good_token()}"])
        self.assert_allowed(result)

    def test_second_authorization_header_ignored(self):
        # A bad token first and a good one second must not be allowed.
        result = proxylib.curl(f"http://{self.out_a.address()}/v1/data", headers=[
            "Authorization: Bearer not.a.jwt",
            f"Authorization: Bearer {self.good_token()}"])
        self.assert_forbidden(result)

    def test_denied(self):
        for name, case in self.denied_cases():
            with self.subTest(case=name):
                self.assert_forbidden(self.request(**case))

    def test_audit_and_metrics(self):
        before_allow = self.inbound.metric("warden_proxy_decisions_total", decision="allow")
        before_deny = self.inbound.metric("warden_proxy_decisions_total", decision="deny")
        before_records = self.settled_audit_count(before_allow + before_deny)

        self.assert_allowed(self.request(token=self.good_token()))
        self.assert_forbidden(self.request())
        self.assert_forbidden(self.request(method="POST", token=self.good_token(), data=b"{}"))
        self.assert_forbidden(self.request(path="/v1/other", token=self.good_token()))
        self.assert_forbidden(self.request(token=self.good_token(), outbound=self.out_c))

        self.assertEqual(self.inbound.metric("warden_proxy_decisions_total", decision="allow"),
                         before_allow + 1)
        self.assertEqual(self.inbound.metric("warden_proxy_decisions_total", decision="deny"),
                         before_deny + 4)

        # A separate thread appends audit records after the responses.
        def new_records():
            return [r for r in proxylib.audit_records(self.audit_path)[before_records:]
                    if r["action"] == "proxy.request"]
        records = proxylib.wait_until(lambda: len(new_records()) >= 5 and new_records(), 10)
        code, output = proxylib.audit_verify(self.audit_path)
        self.assertEqual(code, 0, output)
        self.assertEqual([(r["object"], r["outcome"]) for r in records], [
            ("GET /v1/data", "success"),
            ("GET /v1/data", "denied"),
            ("POST /v1/data", "denied"),
            ("GET /v1/other", "denied"),
            ("GET /v1/data", "denied"),
        ])
        for record in records:
            self.assertRegex(record.get("detail", ""), proxylib.DECISION_DETAIL)
        decision_ids = [r["detail"].split(":")[0] for r in records]
        self.assertEqual(len(set(decision_ids)), len(decision_ids), decision_ids)
        self.assertEqual(records[-1]["actor"], ID_C, records[-1])
        self.assertEqual(records[0]["actor"], ID_A, records[0])

    def test_audit_chain_detects_edit(self):
        self.assert_forbidden(self.request())
        proxylib.wait_until(lambda: os.path.exists(self.audit_path)
                            and proxylib.audit_records(self.audit_path), 10)
        code, output = proxylib.audit_verify(self.audit_path)
        self.assertEqual(code, 0, output)
        copy = self.work.join("audit-edited.log")
        with open(self.audit_path) as source:
            lines = source.readlines()
        record = json.loads(lines[-1])
        record["outcome"] = "success"
        lines[-1] = json.dumps(record) + "\n"
        with open(copy, "w") as f:
            f.writelines(lines)
        code, output = proxylib.audit_verify(copy)
        self.assertEqual(code, 1, output)


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class AuditSampleTest(ChainTest):
    """--audit-allow-sample N writes one allowed request in N to the audit
    log, counted across connections; every denial is written."""

    SAMPLE = 3

    def test_one_allowed_request_in_n(self):
        policy = proxylib.write_file(self.work.join("allow-a.rego"), proxylib.ALLOW_A_POLICY)
        audit_path = self.work.join("sample-audit.log")
        inbound = self.start_inbound("sample-in", http=True, extra=(
            "--policy", policy, "--audit", audit_path,
            "--audit-allow-sample", str(self.SAMPLE), "--workers", "1"))
        allowed = proxylib.tls_client_context(self.pki.bundle_path, self.cred_a)
        denied = proxylib.tls_client_context(self.pki.bundle_path, self.cred_c)

        # Each request on its own connection, as clients without keep-alive send them.
        for _ in range(2 * self.SAMPLE):
            response, error = proxylib.tls_exchange(inbound.port, allowed,
                                                    proxylib.http_request_bytes())
            self.assertEqual(proxylib.status_of(response), 200, (response, error))
        response, error = proxylib.tls_exchange(inbound.port, denied,
                                                proxylib.http_request_bytes())
        self.assertEqual(proxylib.status_of(response), 403, (response, error))

        def outcomes():
            if not os.path.exists(audit_path):
                return []
            return [(r["actor"], r["outcome"]) for r in proxylib.audit_records(audit_path)
                    if r["action"] == "proxy.request"]
        proxylib.wait_until(lambda: (ID_C, "denied") in outcomes(), 10)
        self.assertEqual(outcomes(), [(ID_A, "success"), (ID_A, "success"), (ID_C, "denied")])
        self.assertEqual(inbound.metric("warden_proxy_decisions_total", decision="allow"),
                         2 * self.SAMPLE)


DENY_ALL_POLICY = """package proxy

import rego.v1

default allow := false
"""


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class ReloadTest(ChainTest):
    """The policy and the JWKS are files reloaded while the proxy runs."""

    RELOAD_WAIT = 10

    def test_policy_and_jwks_reload(self):
        policy = proxylib.write_file(self.work.join("reload.rego"), proxylib.ALLOW_A_POLICY)
        first_key = proxylib.JWTIssuer(kid="first")
        jwks = proxylib.write_file(self.work.join("reload-jwks.json"), first_key.jwks())
        inbound = self.start_inbound("reload-in", http=True, extra=(
            "--policy", policy, "--jwks", jwks))
        outbound = self.start_outbound("reload-out", inbound, http=True)
        url = f"http://{outbound.address()}/v1/data"
        self.assertEqual(proxylib.curl(url).status, 200)

        proxylib.write_file(policy, DENY_ALL_POLICY)
        self.assertTrue(proxylib.wait_until(lambda: proxylib.curl(url).status == 403,
                                            self.RELOAD_WAIT, 0.2), "deny-all never applied")

        # A policy that does not compile leaves the last good one in force.
        proxylib.write_file(policy, "package proxy\n\nallow if {\n")
        time.sleep(3)
        self.assertEqual(proxylib.curl(url).status, 403)

        # Requires a JWT with role=reader: signed by the first key, then by
        # a key that replaced it in the JWKS file.
        proxylib.write_file(policy, JWT_ROLE_POLICY)
        first_token = first_key.token({"role": "reader"})
        header = [f"Authorization: Bearer {first_token}"]
        self.assertTrue(proxylib.wait_until(
            lambda: proxylib.curl(url, headers=header).status == 200, self.RELOAD_WAIT, 0.2),
            "JWT policy never applied")
        self.assertEqual(proxylib.curl(url).status, 403)

        second_key = proxylib.JWTIssuer(kid="second")
        proxylib.write_file(jwks, second_key.jwks())
        second = [f"Authorization: Bearer {second_key.token({'role': 'reader'})}"]
        self.assertTrue(proxylib.wait_until(
            lambda: proxylib.curl(url, headers=second).status == 200, self.RELOAD_WAIT, 0.2),
            "the new JWKS never applied")
        self.assertEqual(proxylib.curl(url, headers=header).status, 403)


JWT_ROLE_POLICY = """package proxy

import rego.v1

default allow := false

allow if input.request.jwt.role == "reader"
"""


CONFIG_POLICY = """package proxy

import rego.v1

default allow := false

allow if {
	input.source.spiffe_id == "spiffe://example.org/b"
	input.destination.spiffe_id == "spiffe://example.org/b"
	input.request.path == "/v1/data"
}
"""

CONFIG_YAML = """identity:
  cert: {cert}
  key: {key}
  bundle: {bundle}
policy:
  path: {policy}
timeouts:
  handshake: 5s
  header: 5s
  idle: 1m
metrics_listen: 127.0.0.1:{metrics_port}
access_log: {access_log}
listeners:
  - name: app-in
    direction: inbound
    protocol: http
    listen: 127.0.0.1:0
    forward: {nginx}
    allow: ["spiffe://example.org/b"]
    policy: true
  - name: app-out
    direction: outbound
    protocol: http
    listen: 127.0.0.1:0
    upstream: {inbound}
    expect: ["spiffe://example.org/b"]
"""


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class ConfigFileTest(ChainTest):
    """One process with an inbound and an outbound listener from --config;
    the outbound calls the inbound of the same process."""

    def write_config(self, text):
        return proxylib.write_file(self.work.join("proxy.yaml"), text)

    def test_two_listeners(self):
        policy = proxylib.write_file(self.work.join("config-policy.rego"), CONFIG_POLICY)
        # The outbound's upstream is the inbound of the same process, whose
        # port is known only once it listens: reserve one first.
        inbound_port = proxylib.free_port()
        text = CONFIG_YAML.format(
            cert=self.cred_b.cert_path, key=self.cred_b.key_path, bundle=self.pki.bundle_path,
            policy=policy, metrics_port=proxylib.free_port(),
            access_log=self.work.join("config.access.jsonl"), nginx=self.nginx.address,
            inbound=f"127.0.0.1:{inbound_port}")
        text = text.replace("listen: 127.0.0.1:0\n    forward",
                            f"listen: 127.0.0.1:{inbound_port}\n    forward")
        proxy = proxylib.Proxy(self.work.path, "config", ["--config", self.write_config(text)],
                               listener_count=2, metrics=False, access_log=False)
        self.addCleanup(proxy.stop)
        self.assertEqual(sorted(proxy.listeners), ["app-in", "app-out"])
        self.assertEqual(proxy.listeners["app-in"], ("127.0.0.1", inbound_port))

        allowed = proxylib.curl(f"http://{proxy.address('app-out')}/v1/data")
        self.assertEqual(allowed.status, 200, allowed)
        self.assertEqual(allowed.body, DATA_BODY)
        denied = proxylib.curl(f"http://{proxy.address('app-out')}/v1/echo-xfcc")
        self.assertEqual(denied.status, 403, denied)
        self.assertEqual(denied.json()["code"], "forbidden")

    def test_unknown_key_rejected(self):
        path = self.write_config("identity:\n  cert: /nonexistent\n  colour: blue\n"
                                 "listeners: []\n")
        result = subprocess.run([wardenlib.WARDEN, "proxy", "--config", path],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0, result)
        self.assertIn("colour", result.stderr)

    def test_bad_direction_rejected(self):
        path = self.write_config(
            f"identity:\n  cert: {self.cred_b.cert_path}\n  key: {self.cred_b.key_path}\n"
            f"  bundle: {self.pki.bundle_path}\nlisteners:\n  - name: x\n"
            "    direction: sideways\n    listen: 127.0.0.1:0\n    forward: 127.0.0.1:1\n")
        result = subprocess.run([wardenlib.WARDEN, "proxy", "--config", path],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0, result)
        self.assertIn("sideways", result.stderr)


def unsigned_token(claims):
    """A JWT with "alg": "none" and no signature (RFC 7519 section 6)."""
    import base64

    def encode(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    now = int(proxylib.time.time())
    body = {"iss": FlagshipPolicyTest.ISSUER, "aud": FlagshipPolicyTest.AUDIENCE,
            "exp": now + 300, "iat": now}
    body.update(claims)
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(body)}."


if __name__ == "__main__":
    if SKIP_REASON is not None:
        print(f"SKIP: {SKIP_REASON}")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
