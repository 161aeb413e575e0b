#!/usr/bin/python3
"""Denial-of-service limits of the identity listener: slow clients are cut
by the per-address connection cap and the request deadline, and anonymous
attestation is rate limited per client address."""
import json
import socket
import ssl
import time
import unittest

from cryptography.hazmat.primitives.asymmetric import ec

import wardenlib
from wardenlib import Server, csr_pem

PER_IP = 8
CONFIG = f"""limits:
  max_connections_per_ip: {PER_IP}
  request_timeout: 2s
  handshake_timeout: 2s
  read_timeout: 10s
  attestations_per_second: 1
  attestation_burst: 3
"""


class DosTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org", config=CONFIG)
        cls.agent_id, cls.node_cert, cls.node_key = cls.server.new_agent()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def slow_connection(self, source="127.0.0.1"):
        """Opens a TLS connection from source and sends a request line and
        one header, but never the end of the headers."""
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                       source_address=(source, 0))
        tls = self.server.tls_context().wrap_socket(raw)
        tls.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        return tls

    def wait_closed(self, sock, limit):
        """Returns the seconds until the server closes sock, reading at most
        limit seconds."""
        started = time.monotonic()
        sock.settimeout(limit)
        try:
            while sock.recv(4096):
                pass
        except (ConnectionResetError, ssl.SSLError, OSError):
            pass
        return time.monotonic() - started

    def agent_health(self, source="127.0.0.1"):
        context = self.server.tls_context(self.node_cert, self.node_key)
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                       source_address=(source, 0))
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := tls.recv(4096):
                reply += chunk
        return reply

    def test_per_ip_cap_refuses_extra_connection(self):
        slow = [self.slow_connection() for _ in range(PER_IP)]
        try:
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                extra = self.slow_connection()
                # A refused connection may finish its handshake before the
                # server's shutdown arrives; then the first read sees EOF.
                extra.settimeout(5)
                if extra.recv(1) == b"":
                    raise ConnectionResetError("closed by the server")
        finally:
            for sock in slow:
                sock.close()
        log = self.server.read_log()
        self.assertIn("max_connections_per_ip", log)
        self.assertIn("127.0.0.1", log)

    def test_agent_served_during_drip(self):
        """While one address holds its whole cap with dripping connections,
        an agent from another loopback address is served."""
        slow = [self.slow_connection() for _ in range(PER_IP)]
        try:
            for sock in slow:
                sock.sendall(b"X-Drip: 1\r\n")
            reply = self.agent_health(source="127.0.0.2")
            self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:200])
        finally:
            for sock in slow:
                sock.close()

    def test_dripping_connection_closed_at_deadline(self):
        """Bytes every 0.5 s keep the read timeout (10 s) from firing, but
        the request deadline (2 s) closes the connection."""
        sock = self.slow_connection(source="127.0.0.3")
        started = time.monotonic()
        closed = False
        try:
            while time.monotonic() - started < 8:
                try:
                    sock.sendall(b"X-Drip: 1\r\n")
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    closed = True
                    break
                sock.settimeout(0.5)
                try:
                    if sock.recv(4096) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except (ConnectionResetError, ssl.SSLError, OSError):
                    closed = True
                    break
        finally:
            sock.close()
        elapsed = time.monotonic() - started
        self.assertTrue(closed, "the dripping connection stayed open for 8 s")
        self.assertLess(elapsed, 5)
        self.assertIn("limits.request_timeout", self.server.read_log())

    def test_silent_connection_closed_at_handshake_deadline(self):
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                       source_address=("127.0.0.4", 0))
        try:
            elapsed = self.wait_closed(raw, 8)
        finally:
            raw.close()
        self.assertLess(elapsed, 5)
        self.assertIn("limits.handshake_timeout", self.server.read_log())

    def test_attestation_rate_limited(self):
        source = "127.0.0.5"
        statuses = []
        body = None
        headers = None
        for _ in range(6):
            key = ec.generate_private_key(ec.SECP256R1())
            response = self.attest_from(source, {"join_token": "0" * 64, "csr": csr_pem(key)})
            statuses.append(response[0])
            if response[0] == 429 and body is None:
                body, headers = response[1], response[2]
        # The burst of 3 passes to the handler (unknown token: 404).
        self.assertEqual(statuses[:3], [404, 404, 404], statuses)
        self.assertIn(429, statuses[3:], statuses)
        self.assertIn(b'"code":"ERATELIMIT"', body)
        self.assertIn(b"too many attestation attempts from 127.0.0.5; retry in", body)
        self.assertIn("retry-after", headers)
        # Another address keeps its own budget.
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.attest_from("127.0.0.6", {"join_token": "0" * 64, "csr": csr_pem(key)})
        self.assertEqual(response[0], 404, response)

    def test_refused_attestations_audited_once_per_second(self):
        source = "127.0.0.7"
        key = ec.generate_private_key(ec.SECP256R1())
        body = {"join_token": "0" * 64, "csr": csr_pem(key)}
        for _ in range(3):
            self.attest_from(source, body)
        started = time.monotonic()
        refused = 0
        while refused < 20 and time.monotonic() - started < 0.8:
            if self.attest_from(source, body)[0] == 429:
                refused += 1
        self.assertGreaterEqual(refused, 5)
        log = self.server.read_log()
        self.assertEqual(log.count("client=127.0.0.7"), 1, log[-2000:])

    def attest_from(self, source, body):
        """POSTs /v1/node/attest from source; returns (status, body, headers)."""
        payload = json.dumps(body).encode()
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                       source_address=(source, 0))
        with self.server.tls_context().wrap_socket(raw) as tls:
            tls.sendall(b"POST /v1/node/attest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Content-Type: application/json\r\nContent-Length: "
                        + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            reply = b""
            while chunk := tls.recv(4096):
                reply += chunk
        head, _, content = reply.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                   for line in lines[1:] if ":" in line}
        return int(lines[0].split()[1]), content, headers


if __name__ == "__main__":
    wardenlib.main()
