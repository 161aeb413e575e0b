#!/usr/bin/python3
"""Peers and clients that `warden proxy` must refuse: another trust domain,
an impostor CA, expired and revoked SVIDs (the CRL rewritten while the
proxy runs), no client certificate, two URI SANs, a SPIFFE ID outside
--allow, garbage bytes, a slowloris client, and an upstream that fails
--expect. After each refusal a good client must still get through."""
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

import proxylib
import wardenlib
from proxylib import DATA_BODY, ID_A, ID_B, ID_C

SKIP_REASON = proxylib.missing_tools(proxylib.NGINX, proxylib.CURL, proxylib.OPENSSL)

HEADER_TIMEOUT = 1.0
HANDSHAKE_TIMEOUT = 1.0
MAX_CONNECTIONS = 2
CRL_RELOAD_WAIT = 15


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class RefusalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = proxylib.WorkDir("warden-proxy-refusals-")
        cls.addClassCleanup(cls.work.cleanup)
        cls.pki = proxylib.TestPKI(cls.work.path)
        pki = cls.pki
        cls.cred_a = pki.svid("a", ID_A)
        cls.cred_b = pki.svid("b", ID_B)
        cls.cred_c = pki.svid("c", ID_C)
        cls.cred_other_domain = pki.svid("other-domain", "spiffe://other.org/a",
                                         authority=pki.other_ca)
        cls.cred_impostor = pki.svid("impostor", ID_A, authority=pki.other_ca)
        cls.cred_expired = pki.expired("expired", ID_A)
        cls.cred_two_uris = pki.svid("two-uris", [ID_A, "spiffe://example.org/admin"])
        cls.cred_revocable = pki.svid("revocable", ID_A)
        cls.cred_resumer = pki.svid("resumer", ID_A)
        cls.revoked_serials = []
        cls.crl_path = proxylib.write_file(cls.work.join("crl.pem"), pki.ca.crl())
        cls.policy_path = proxylib.write_file(cls.work.join("allow-a.rego"),
                                              proxylib.ALLOW_A_POLICY)
        cls.audit_path = cls.work.join("audit.log")
        cls.nginx = proxylib.Nginx(cls.work.path)
        cls.addClassCleanup(cls.nginx.stop)

        identity = cls.cred_b.args(pki.bundle_path, crl_path=cls.crl_path)
        cls.http_in = cls.start(
            "http-in", proxylib.inbound_args("127.0.0.1:0", cls.nginx.address, http=True)
            + identity + ["--policy", cls.policy_path, "--header-timeout", "1s",
                          "--handshake-timeout", "1s", "--audit", cls.audit_path])
        cls.tcp_in = cls.start(
            "tcp-in", proxylib.inbound_args("127.0.0.1:0", cls.nginx.address, allow=(ID_A,))
            + identity)
        cls.limited_in = cls.start(
            "limited-in", proxylib.inbound_args("127.0.0.1:0", cls.nginx.address)
            + identity + ["--max-connections", str(MAX_CONNECTIONS)])
        # A listener whose accept queue is full drops new SYNs, so a
        # connect to it neither succeeds nor fails until it times out.
        cls.blackhole = socket.socket()
        cls.blackhole.bind(("127.0.0.1", 0))
        cls.blackhole.listen(0)
        cls.addClassCleanup(cls.blackhole.close)
        cls.queued = []
        for _ in range(3):
            queued = socket.socket()
            queued.setblocking(False)
            queued.connect_ex(cls.blackhole.getsockname())
            cls.queued.append(queued)
            cls.addClassCleanup(queued.close)
        cls.blackhole_out = cls.start(
            "blackhole-out", proxylib.outbound_args(
                "127.0.0.1:0", "127.0.0.1:%d" % cls.blackhole.getsockname()[1], http=True)
            + cls.cred_a.args(pki.bundle_path) + ["--connect-timeout", "500ms"])
        cls.wrong_expect_http_out = cls.start(
            "wrong-expect-http-out", proxylib.outbound_args(
                "127.0.0.1:0", cls.http_in.address(), expect=(ID_C,), http=True)
            + cls.cred_a.args(pki.bundle_path))
        cls.wrong_expect_out = cls.start(
            "wrong-expect-out", proxylib.outbound_args("127.0.0.1:0", cls.http_in.address(),
                                                       expect=(ID_C,))
            + cls.cred_a.args(pki.bundle_path))

    @classmethod
    def start(cls, name, args):
        proxy = proxylib.Proxy(cls.work.path, name, args)
        cls.addClassCleanup(proxy.stop)
        return proxy

    # Helpers ----------------------------------------------------------------

    def exchange(self, credentials, proxy=None, payload=None):
        proxy = proxy or self.http_in
        context = proxylib.tls_client_context(self.pki.bundle_path, credentials)
        return proxylib.tls_exchange(proxy.port, context,
                                     payload or proxylib.http_request_bytes())

    def assert_good_client_works(self, proxy=None):
        response, error = self.exchange(self.cred_a, proxy)
        self.assertEqual(proxylib.status_of(response), 200, (response, error))
        self.assertEqual(proxylib.body_of(response), DATA_BODY)

    def assert_refused(self, credentials, proxy=None):
        response, error = self.exchange(credentials, proxy)
        self.assertEqual(response, b"", error)
        return error

    def revoke(self, credentials):
        """Rewrites the CRL file, which the proxies watch, with one more serial."""
        self.revoked_serials.append(credentials.cert.serial_number)
        proxylib.write_file(self.crl_path, self.pki.ca.crl(self.revoked_serials))

    def exchange_session(self, context, session=None):
        """Sends one request, offering session for resumption; returns
        (response, the session to resume next time, whether the handshake
        resumed, error)."""
        received = b""
        try:
            with socket.create_connection(("127.0.0.1", self.http_in.port), timeout=5) as raw:
                with context.wrap_socket(raw, session=session) as tls:
                    tls.sendall(proxylib.http_request_bytes())
                    while True:
                        chunk = tls.recv(65536)
                        if not chunk:
                            return received, tls.session, tls.session_reused, None
                        received += chunk
        except (OSError, ssl.SSLError) as error:
            return received, None, False, repr(error)

    def refused_tls(self, proxy=None):
        return (proxy or self.http_in).metric("warden_proxy_connections_refused_total",
                                              reason="tls")

    def audit_handshake_records(self):
        if not os.path.exists(self.audit_path):
            return []
        code, output = proxylib.audit_verify(self.audit_path)
        self.assertEqual(code, 0, output)
        return [r for r in proxylib.audit_records(self.audit_path)
                if r["action"] == "proxy.handshake"]

    def settled_audit_count(self):
        """Waits until the audit thread has written one record for every
        refused connection so far; returns the count of proxy.handshake
        records."""
        def refusals():
            if not os.path.exists(self.audit_path):
                return []
            return [r for r in proxylib.audit_records(self.audit_path)
                    if r["action"] in ("proxy.handshake", "proxy.connect")]
        settled = proxylib.wait_until(
            lambda: len(refusals()) == self.refused_tls()
            + self.http_in.metric("warden_proxy_connections_refused_total", reason="spiffe_id"),
            10)
        self.assertTrue(settled, "the audit log has not caught up with the refusals")
        return len(self.audit_handshake_records())

    def check_tls_refusal(self, credentials, reason_words):
        before = self.refused_tls()
        before_audit = self.settled_audit_count()
        self.assert_refused(credentials)
        self.assertEqual(proxylib.wait_until(lambda: self.refused_tls() == before + 1, 5),
                         True, f"refused tls counter stayed at {self.refused_tls()}")
        records = proxylib.wait_until(
            lambda: self.audit_handshake_records()[before_audit:], 5)
        self.assertEqual(len(records), 1, records)
        self.assertEqual(records[0]["outcome"], "denied", records[0])
        detail = records[0].get("detail", "").lower()
        self.assertTrue(any(word in detail for word in reason_words),
                        (reason_words, records[0]))
        self.assert_good_client_works()

    # Certificates -------------------------------------------------------------

    def test_good_client(self):
        self.assert_good_client_works()
        self.assert_good_client_works(self.tcp_in)

    def test_other_trust_domain(self):
        self.check_tls_refusal(self.cred_other_domain, ("other.org", "trust domain", "bundle"))

    def test_impostor_ca(self):
        # Claims spiffe://example.org/a but chains to another CA.
        self.check_tls_refusal(self.cred_impostor, ("verif", "issuer", "signature", "chain"))

    def test_expired(self):
        self.check_tls_refusal(self.cred_expired, ("expired",))

    def test_two_uri_sans(self):
        self.check_tls_refusal(self.cred_two_uris, ("uri",))

    def test_no_client_certificate_tls13(self):
        before = self.refused_tls()
        result = subprocess.run(
            [proxylib.OPENSSL, "s_client", "-connect", f"127.0.0.1:{self.http_in.port}",
             "-CAfile", self.pki.bundle_path, "-tls1_3", "-quiet"],
            input=proxylib.http_request_bytes(), capture_output=True, timeout=15)
        self.assertNotIn(b"HTTP/1.1", result.stdout, result)
        self.assertIn(b"certificate required", result.stderr, result.stderr)
        self.assertEqual(proxylib.wait_until(lambda: self.refused_tls() == before + 1, 5), True)
        self.assert_good_client_works()

    def test_no_client_certificate_tls12(self):
        result = subprocess.run(
            [proxylib.OPENSSL, "s_client", "-connect", f"127.0.0.1:{self.http_in.port}",
             "-CAfile", self.pki.bundle_path, "-tls1_2", "-quiet"],
            input=proxylib.http_request_bytes(), capture_output=True, timeout=15)
        self.assertNotIn(b"HTTP/1.1", result.stdout, result)
        self.assertNotEqual(result.returncode, 0, result)
        self.assertIn(b"alert", result.stderr, result.stderr)
        self.assert_good_client_works()

    def test_revoked_after_crl_update(self):
        # Accepted while the CRL is empty, refused once the rewritten CRL
        # lists its serial, without restarting the proxy.
        response, error = self.exchange(self.cred_revocable)
        self.assertEqual(proxylib.status_of(response), 200, (response, error))

        self.revoke(self.cred_revocable)
        refused = proxylib.wait_until(lambda: self.exchange(self.cred_revocable)[0] == b"",
                                      CRL_RELOAD_WAIT, 0.3)
        self.assertTrue(refused, f"still accepted {CRL_RELOAD_WAIT} s after the CRL update")
        self.assert_refused(self.cred_revocable)
        # tcp_in is another process and polls the CRL file on its own clock.
        refused = proxylib.wait_until(
            lambda: self.exchange(self.cred_revocable, self.tcp_in)[0] == b"",
            CRL_RELOAD_WAIT, 0.3)
        self.assertTrue(refused, f"tcp-in still accepted {CRL_RELOAD_WAIT} s after the update")
        records = self.audit_handshake_records()
        self.assertTrue(records and "revoked" in records[-1].get("detail", "").lower(), records)
        self.assert_good_client_works()
        self.assert_good_client_works(self.tcp_in)

    # Session resumption skips certificate verification, so it must not
    # outlive the certificate's validity or revocation.

    def test_resumed_session_refused_after_revocation(self):
        context = proxylib.tls_client_context(self.pki.bundle_path, self.cred_resumer)
        response, session, _, error = self.exchange_session(context)
        self.assertEqual(proxylib.status_of(response), 200, error)
        response, session, resumed, error = self.exchange_session(context, session)
        self.assertEqual(proxylib.status_of(response), 200, error)
        self.assertTrue(resumed, "the proxy did not resume a TLS session")

        self.revoke(self.cred_resumer)
        fresh_refused = proxylib.wait_until(
            lambda: self.exchange_session(context)[0] == b"", CRL_RELOAD_WAIT, 0.3)
        self.assertTrue(fresh_refused, f"still accepted {CRL_RELOAD_WAIT} s after the CRL update")
        response, _, resumed, error = self.exchange_session(context, session)
        self.assertEqual(response, b"", error)
        self.assertFalse(resumed)
        self.assert_good_client_works()

    def test_resumed_session_refused_after_expiry(self):
        lifetime = 3
        now = proxylib._now()
        short = self.pki.svid("short-lived", ID_A,
                              not_after=now + proxylib.datetime.timedelta(seconds=lifetime))
        context = proxylib.tls_client_context(self.pki.bundle_path, short)
        response, session, _, error = self.exchange_session(context)
        self.assertEqual(proxylib.status_of(response), 200, error)
        response, session, resumed, error = self.exchange_session(context, session)
        self.assertEqual(proxylib.status_of(response), 200, error)
        self.assertTrue(resumed, "the proxy did not resume a TLS session")

        time.sleep(max(0.0, (now.timestamp() + lifetime + 1.2) - time.time()))
        response, _, resumed, error = self.exchange_session(context, session)
        self.assertEqual(response, b"", error)
        self.assertFalse(resumed)
        self.assert_good_client_works()

    # L4 allow-list --------------------------------------------------------------

    def test_spiffe_id_outside_allow(self):
        before = self.tcp_in.metric("warden_proxy_connections_refused_total", reason="spiffe_id")
        response, error = self.exchange(self.cred_c, self.tcp_in)
        self.assertEqual(response, b"", error)
        self.assertEqual(
            self.tcp_in.metric("warden_proxy_connections_refused_total", reason="spiffe_id"),
            before + 1)
        self.assert_good_client_works(self.tcp_in)

    # Bytes that are not TLS -----------------------------------------------------

    def send_raw(self, data, timeout=5):
        """Sends data to the TLS port; returns (reply, seconds until the
        proxy closed the connection)."""
        started = time.monotonic()
        reply = b""
        with socket.create_connection(("127.0.0.1", self.http_in.port), timeout=timeout) as s:
            s.sendall(data)
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except ConnectionResetError:
                pass
        return reply, time.monotonic() - started

    def test_garbage_bytes(self):
        cases = {
            "plain http": proxylib.http_request_bytes(),
            "random": os.urandom(4096),
            "zeros": b"\0" * 1024,
            "bad record length": b"\x16\x03\x01\xff\xff" + b"\x01" * 64,
            "sslv2 hello": b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + b"\x00" * 37,
        }
        for name, data in cases.items():
            with self.subTest(case=name):
                before = self.refused_tls()
                reply, elapsed = self.send_raw(data)
                self.assertNotIn(b"HTTP/", reply)
                self.assertLess(elapsed, 3.0)
                self.assertEqual(
                    proxylib.wait_until(lambda: self.refused_tls() == before + 1, 5), True,
                    f"refused tls counter {self.refused_tls()}, expected {before + 1}")
                self.assert_good_client_works()

    def test_silent_client_handshake_timeout(self):
        # Connects and sends nothing: closed after --handshake-timeout,
        # while another client gets through meanwhile.
        before = self.http_in.metric("warden_proxy_timeouts_total", kind="handshake")
        with socket.create_connection(("127.0.0.1", self.http_in.port), timeout=10) as silent:
            started = time.monotonic()
            self.assert_good_client_works()
            try:
                reply = silent.recv(4096)
            except ConnectionResetError:
                reply = b""
            elapsed = time.monotonic() - started
        self.assertEqual(reply, b"")
        self.assertGreaterEqual(elapsed, HANDSHAKE_TIMEOUT - 0.2)
        self.assertLess(elapsed, HANDSHAKE_TIMEOUT + 1.5)
        self.assertEqual(proxylib.wait_until(lambda: self.http_in.metric(
            "warden_proxy_timeouts_total", kind="handshake") == before + 1, 5), True)

    def test_max_connections(self):
        before = self.limited_in.metric("warden_proxy_connections_refused_total",
                                        reason="max_connections")
        context = proxylib.tls_client_context(self.pki.bundle_path, self.cred_a)
        held = []
        try:
            for _ in range(MAX_CONNECTIONS):
                raw = socket.create_connection(("127.0.0.1", self.limited_in.port), timeout=5)
                held.append(context.wrap_socket(raw))
            self.assertEqual(proxylib.wait_until(lambda: self.limited_in.metric(
                "warden_proxy_connections_active") == MAX_CONNECTIONS, 5), True)
            response, error = self.exchange(self.cred_a, self.limited_in)
            self.assertEqual(response, b"", error)
            self.assertEqual(self.limited_in.metric("warden_proxy_connections_refused_total",
                                                    reason="max_connections"), before + 1)
        finally:
            for tls in held:
                tls.close()
        # Once the held connections close, new ones are served again.
        served = proxylib.wait_until(
            lambda: proxylib.status_of(self.exchange(self.cred_a, self.limited_in)[0]) == 200,
            5, 0.2)
        self.assertTrue(served)

    def test_slowloris_header_timeout(self):
        before = self.http_in.metric("warden_proxy_timeouts_total", kind="header")
        context = proxylib.tls_client_context(self.pki.bundle_path, self.cred_a)
        request = proxylib.http_request_bytes()
        outcome = {}

        def slow_client():
            raw = socket.create_connection(("127.0.0.1", self.http_in.port), timeout=10)
            tls = context.wrap_socket(raw)
            started = time.monotonic()
            sent = 0
            reply = b""
            try:
                for byte in request:
                    tls.sendall(bytes([byte]))
                    sent += 1
                    readable, _, _ = select.select([tls], [], [], 0.3)
                    if readable:
                        chunk = tls.recv(4096)
                        reply += chunk
                        if not chunk or reply:
                            break
            except (OSError, ssl.SSLError) as error:
                outcome["error"] = repr(error)
            outcome.update(elapsed=time.monotonic() - started, sent=sent, reply=reply)
            tls.close()

        thread = threading.Thread(target=slow_client)
        thread.start()
        time.sleep(0.5)
        # Another client gets through while the slow one holds its connection.
        self.assert_good_client_works()
        thread.join(15)
        self.assertFalse(thread.is_alive())

        self.assertLess(outcome["sent"], len(request), outcome)
        self.assertGreaterEqual(outcome["elapsed"], HEADER_TIMEOUT - 0.2, outcome)
        self.assertLess(outcome["elapsed"], HEADER_TIMEOUT + 1.5, outcome)
        # Either a plain close or a 408 before it; never the application's answer.
        self.assertIn(proxylib.status_of(outcome["reply"]), (None, 408), outcome)
        self.assertEqual(self.http_in.metric("warden_proxy_timeouts_total", kind="header"),
                         before + 1)

    # Outbound ---------------------------------------------------------------------

    def test_outbound_refuses_unexpected_upstream(self):
        before = self.wrong_expect_out.metric("warden_proxy_connections_refused_total",
                                              reason="spiffe_id")
        result = proxylib.curl(f"http://{self.wrong_expect_out.address()}/v1/data")
        self.assertIsNone(result.status, result)
        self.assertIn(result.exit_code, (52, 56), result)
        self.assertEqual(self.wrong_expect_out.metric("warden_proxy_connections_refused_total",
                                                      reason="spiffe_id"), before + 1)

    def test_outbound_http_unexpected_upstream_502(self):
        result = proxylib.curl(f"http://{self.wrong_expect_http_out.address()}/v1/data")
        self.assertEqual(result.status, 502, result)
        self.assertEqual(json.loads(result.body), {
            "code": "bad_gateway", "message": "the upstream was not accepted"})

    def test_outbound_connect_timeout_502(self):
        started = time.monotonic()
        result = proxylib.curl(f"http://{self.blackhole_out.address()}/v1/data")
        elapsed = time.monotonic() - started
        self.assertEqual(result.status, 502, result)
        self.assertEqual(json.loads(result.body), {
            "code": "bad_gateway", "message": "connecting to the upstream timed out"})
        # 500 ms of timeout, checked by a sweep every 200 ms.
        self.assertLess(elapsed, 3.0)
        self.assertGreaterEqual(elapsed, 0.5)


if __name__ == "__main__":
    if SKIP_REASON is not None:
        print(f"SKIP: {SKIP_REASON}")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
