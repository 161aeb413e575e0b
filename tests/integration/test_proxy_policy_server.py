#!/usr/bin/python3
"""An HTTP inbound proxy that takes its Rego policy from a real warden
server's policy API: a policy changed through OPA's REST API reaches the
proxy without a restart, and a module that does not compile never does.
The proxy's server list starts with a dead port, so it also shows that the
proxy moves to the next server and stays there."""
import http.client
import http.server
import os
import re
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import unittest

import wardenlib
from wardenlib import Server

POLICY_GET = """package proxy

default allow := false

allow if input.request.method == "GET"
"""

POLICY_POST = """package proxy

default allow := false

allow if input.request.method == "POST"
"""


class App(http.server.BaseHTTPRequestHandler):
    """The application behind the proxy: echoes the method and the
    X-Forwarded-Client-Cert header it received."""

    def reply(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length:
            self.rfile.read(length)
        body = f"{self.command} {self.headers.get('X-Forwarded-Client-Cert', '')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = reply
    do_POST = reply

    def log_message(self, *args):
        pass


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class ProxyPolicyServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")
        cls.app = ThreadingServer(("127.0.0.1", 0), App)
        threading.Thread(target=cls.app.serve_forever, daemon=True).start()
        cls.put_policy(POLICY_GET)

        b = cls.server.mint("spiffe://example.org/b")
        a = cls.server.mint("spiffe://example.org/a")
        cls.b_cert = cls.server.write("b.pem", b["svid"])
        cls.b_key = cls.server.write("b.key", b["private_key"])
        cls.a_cert = cls.server.write("a.pem", a["svid"])
        cls.a_key = cls.server.write("a.key", a["private_key"])

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.dead_url = f"https://127.0.0.1:{s.getsockname()[1]}"
        cls.live_url = f"https://127.0.0.1:{cls.server.policy_port}"
        cls.log_path = os.path.join(cls.server.dir, "proxy.log")
        cls.log = open(cls.log_path, "w")
        cls.proxy = subprocess.Popen(
            [wardenlib.WARDEN, "proxy", "--workers", "1",
             "--inbound", "127.0.0.1:0", "--forward", f"127.0.0.1:{cls.app.server_address[1]}",
             "--http", "--allow", "spiffe://example.org/*",
             "--policy-server", f"{cls.dead_url}, {cls.live_url}",
             "--cert", cls.b_cert, "--key", cls.b_key, "--bundle", cls.server.bundle_path],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.port = cls.wait_port()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.terminate()
        cls.proxy.wait(10)
        cls.log.close()
        cls.app.shutdown()
        cls.server.cleanup()

    @classmethod
    def put_policy(cls, source):
        response = cls.server.admin("PUT", "/v1/policies/proxy", raw=source.encode(),
                                    headers={"Content-Type": "text/plain"})
        assert response.status == 200, response

    @classmethod
    def wait_port(cls):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(cls.log_path) as f:
                match = re.search(r"proxy listening .*address=127\.0\.0\.1:(\d+)", f.read())
            if match:
                return int(match.group(1))
            if cls.proxy.poll() is not None:
                break
            time.sleep(0.05)
        with open(cls.log_path) as f:
            raise RuntimeError(f"proxy did not start:\n{f.read()}")

    def request(self, method):
        context = ssl.create_default_context(cafile=self.server.bundle_path)
        context.check_hostname = False
        context.load_cert_chain(self.a_cert, self.a_key)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        try:
            conn.request(method, "/v1/data", body=b"{}" if method == "POST" else None)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def wait_for(self, method, status, timeout=15):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.request(method)
            if last[0] == status:
                return last
            time.sleep(0.2)
        self.fail(f"{method} still answered {last} after {timeout} s")

    def test_policy_from_server_then_updated(self):
        status, body = self.wait_for("GET", 200)
        self.assertEqual(body, "GET By=spiffe://example.org/b;Hash="
                         + body.split("Hash=")[1].split(";")[0] + ";URI=spiffe://example.org/a")
        self.assertEqual(self.request("POST")[0], 403)

        self.put_policy(POLICY_POST)
        self.wait_for("POST", 200)
        self.assertEqual(self.request("GET")[0], 403)

        # A module that does not compile is refused by the server, so the
        # proxy keeps the policy in force.
        response = self.server.admin("PUT", "/v1/policies/proxy", raw=b"package proxy\nallow if {",
                                     headers={"Content-Type": "text/plain"})
        self.assertEqual(response.status, 400, response)
        time.sleep(2.5)
        self.assertEqual(self.request("POST")[0], 200)
        self.assertEqual(self.request("GET")[0], 403)


    def test_dead_server_skipped_once(self):
        """The dead first URL costs one switch; later polls stay on the
        live server."""
        self.wait_for("GET", 200)
        time.sleep(2.5)
        with open(self.log_path) as f:
            log = f.read()
        switches = re.findall(r"switched policy server.*", log)
        self.assertEqual(len(switches), 1, log)
        self.assertIn(f"from={self.dead_url} to={self.live_url}", switches[0])
        self.assertNotIn("policy fetch failed", log)


if __name__ == "__main__":
    wardenlib.main()
