#!/usr/bin/python3
"""Hostile and malformed requests against the identity and admin APIs: each
gets a 4xx JSON error that names the bad value, and nothing changes."""
import os
import socket
import ssl
import subprocess
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import wardenlib
from wardenlib import Server, csr_pem, key_pem

# Every route of the identity listener other than node attestation.
TLS_ROUTES = [
    ("POST", "/v1/node/renew"), ("GET", "/v1/node/entries"), ("GET", "/v1/node/bundle"), ("POST", "/v1/svid/x509"),
    ("POST", "/v1/svid/jwt"), ("GET", "/v1/bundle"), ("GET", "/v1/crl"), ("GET", "/v1/health"),
    ("GET", "/v1/ca"), ("POST", "/v1/entries"), ("GET", "/v1/entries"),
    ("GET", "/v1/entries/x"), ("PUT", "/v1/entries/x"), ("DELETE", "/v1/entries/x"),
    ("POST", "/v1/tokens"), ("GET", "/v1/agents"), ("POST", "/v1/agents/evict"),
    ("POST", "/v1/agents/ban"), ("POST", "/v1/svid/mint"), ("POST", "/v1/svid/jwt/mint"),
    ("POST", "/v1/svid/revoke"),
]
ADMIN_ROUTES = [route for route in TLS_ROUTES if not route[1].startswith(("/v1/node", "/v1/svid/x509"))
                and route != ("POST", "/v1/svid/jwt")]
AGENT_FORBIDDEN = [route for route in ADMIN_ROUTES
                   if route[1] not in ("/v1/bundle", "/v1/crl", "/v1/health")]


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org", config="limits:\n  max_body_bytes: 64KiB\n  read_timeout: 2s\n")
        cls.agent_id, cls.node_cert, cls.node_key = cls.server.new_agent()
        cls.entry = cls.server.create_entry("spiffe://example.org/own", cls.agent_id)
        other_agent, _, _ = cls.server.new_agent()
        cls.foreign_entry = cls.server.create_entry("spiffe://example.org/foreign", other_agent)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def assert_error(self, response, status, code, *fragments):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.headers.get("Content-Type"), "application/json", response)
        error = response.json()["error"]
        self.assertEqual(error["code"], code, response)
        for fragment in fragments:
            self.assertIn(fragment, error["message"])

    def node(self, method, path, body=None, raw=None):
        return self.server.tls(method, path, body, cert=self.node_cert, key=self.node_key, raw=raw)

    # Entries -----------------------------------------------------------------

    def test_invalid_spiffe_ids_rejected(self):
        before = self.server.entry_count()
        cases = [
            ("spiffe://Example.org/web", "Example.org"),
            ("https://example.org/web", "https://example.org/web"),
            ("spiffe://example.org/a/../b", "spiffe://example.org/a/../b"),
            ("spiffe://example.org/a%20b", "%"),
            ("spiffe://example.org/", "spiffe://example.org/"),
            ("spiffe://example.org", "spiffe://example.org"),
            ("spiffe://other.org/web", "other.org"),
            ("spiffe://example.org/x?y=1", "spiffe://example.org/x?y=1"),
            ("spiffe://user@example.org/x", "user@example.org"),
            ("spiffe://example.org:8080/x", "example.org:8080"),
        ]
        for spiffe_id, fragment in cases:
            with self.subTest(spiffe_id=spiffe_id):
                response = self.server.admin("POST", "/v1/entries", {
                    "spiffe_id": spiffe_id, "parent_id": self.agent_id,
                    "selectors": ["unix:uid:1"]})
                self.assert_error(response, 400, "EINVAL", fragment)
        self.assertEqual(self.server.entry_count(), before)

    def test_invalid_entry_fields_rejected(self):
        before = self.server.entry_count()
        base = {"spiffe_id": "spiffe://example.org/ok", "parent_id": self.agent_id,
                "selectors": ["unix:uid:1"]}
        cases = [
            ({"selectors": []}, "selectors"),
            ({"selectors": ["unix"]}, "unix"),
            ({"selectors": "unix:uid:1"}, "selectors"),
            ({"x509_svid_ttl": -5}, "x509_svid_ttl"),
            ({"dns_names": ["bad host"]}, "bad host"),
            ({"spife_id": "x"}, "spife_id"),
            ({"admin": "yes"}, "admin"),
        ]
        for change, fragment in cases:
            with self.subTest(change=change):
                body = dict(base, **change)
                response = self.server.admin("POST", "/v1/entries", body)
                self.assert_error(response, 400, "EINVAL", fragment)
        self.assertEqual(self.server.entry_count(), before)

    def test_duplicate_entry_conflicts(self):
        response = self.server.admin("POST", "/v1/entries", {
            "spiffe_id": "spiffe://example.org/own", "parent_id": self.agent_id,
            "selectors": ["unix:uid:1000"]})
        self.assert_error(response, 409, "EEXIST", self.entry["id"])

    def test_unknown_entry_not_found(self):
        response = self.server.admin("GET", "/v1/entries/00000000-0000-4000-8000-000000000000")
        self.assert_error(response, 404, "ENOTFOUND", "00000000-0000-4000-8000-000000000000")

    # Bodies ------------------------------------------------------------------

    def test_invalid_json(self):
        before = self.server.entry_count()
        response = self.server.admin("POST", "/v1/entries", raw='{"spiffe_id": ')
        self.assert_error(response, 400, "EINVAL", "invalid JSON")
        response = self.server.admin("POST", "/v1/entries", raw='[1, 2]')
        self.assertEqual(response.status, 400)
        response = self.server.admin("POST", "/v1/entries",
                                     raw='{"spiffe_id": "a", "spiffe_id": "b"}')
        self.assert_error(response, 400, "EINVAL")
        self.assertEqual(self.server.entry_count(), before)

    def test_oversized_body(self):
        """The server answers 413 as soon as it reads a Content-Length over
        its limit, and may close before the client finishes sending."""
        before = self.server.entry_count()
        big = b'{"spiffe_id": "' + b"a" * (70 * 1024) + b'"}'
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.server.admin_socket)
            head = (f"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(big)}\r\n\r\n").encode()
            try:
                sock.sendall(head + big)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = b""
            try:
                while chunk := sock.recv(4096):
                    reply += chunk
            except ConnectionResetError:
                pass
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        # Up to twice the limit, warden itself answers, with the JSON error
        # naming the limit.
        self.assertIn(b"application/json", reply)
        self.assertIn(b"request body is larger than 65536 bytes", reply)
        self.assertEqual(self.server.entry_count(), before)

    def test_truncated_body(self):
        """A body shorter than its Content-Length ends at the read timeout and
        creates nothing."""
        before = self.server.entry_count()
        body = b'{"spiffe_id": "spiffe://example.org/trunc", "parent_id": "'
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.server.admin_socket)
            sock.sendall(b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 500\r\n\r\n" + body)
            started = time.monotonic()
            reply = b""
            try:
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except socket.timeout:
                self.fail("the server kept a truncated request open past its read timeout")
            self.assertLess(time.monotonic() - started, 8)
        self.assertNotIn(b"201 Created", reply)
        self.assertEqual(self.server.entry_count(), before)

    def raw_admin(self, request):
        """Sends raw bytes on the admin socket and returns the reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.server.admin_socket)
            sock.sendall(request)
            reply = b""
            try:
                while chunk := sock.recv(4096):
                    reply += chunk
            except ConnectionResetError:
                pass
        return reply

    def test_ambiguous_body_framing_rejected(self):
        """RFC 9112 section 6.3: two Content-Length headers, or one with
        Transfer-Encoding, get 400 and nothing is created. libevent 2.1.12
        answers the second case itself, with an HTML body."""
        before = self.server.entry_count()
        body = ('{"spiffe_id": "spiffe://example.org/smuggled", "parent_id": "%s", '
                '"selectors": ["unix:uid:1"]}' % self.agent_id).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        cases = [
            (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body) + 5),
             body + b"xxxxx", b'"code":"EINVAL","message":"request has more than one '
             b'Content-Length header"'),
            (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(chunked),
             chunked, b""),
        ]
        for headers, payload, fragment in cases:
            with self.subTest(headers=headers):
                reply = self.raw_admin(b"POST /v1/entries HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Type: application/json\r\n" + headers +
                                       b"\r\n" + payload)
                self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:300])
                self.assertIn(fragment, reply)
        self.assertEqual(self.server.entry_count(), before)

    def test_percent_encoded_path_routes_decoded(self):
        """RFC 3986 section 6.2.2.2: escapes of unreserved characters are
        decoded before routing; an escaped slash stays inside its segment."""
        response = self.server.admin("GET", "/v1/%68ealth")
        self.assertEqual(response.status, 200, response)
        response = self.server.admin("GET", "/v1/%68%65alth")
        self.assertEqual(response.status, 200, response)
        response = self.server.admin("GET", "/v1%2Fhealth")
        self.assert_error(response, 404, "ENOTFOUND", "/v1/health")

    # CSRs ----------------------------------------------------------------------

    def test_malformed_csr(self):
        response = self.node("POST", "/v1/svid/x509", {"entry_id": self.entry["id"],
                                                      "csr": "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n"})
        self.assert_error(response, 400, "EINVAL", "CSR")

    def test_wrongly_signed_csr(self):
        key = ec.generate_private_key(ec.SECP256R1())
        der = bytearray(x509.load_pem_x509_csr(csr_pem(key).encode()).public_bytes(
            serialization.Encoding.DER))
        der[-5] ^= 0x01
        pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + \
            __import__("base64").encodebytes(bytes(der)).decode() + \
            "-----END CERTIFICATE REQUEST-----\n"
        response = self.node("POST", "/v1/svid/x509", {"entry_id": self.entry["id"], "csr": pem})
        self.assertEqual(response.status, 400, response)
        self.assertIn(response.json()["error"]["code"], ("ECRYPTO", "EINVAL"))

    def test_csr_for_unauthorized_entry(self):
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.node("POST", "/v1/svid/x509",
                             {"entry_id": self.foreign_entry["id"], "csr": csr_pem(key)})
        self.assert_error(response, 403, "EPERM", self.foreign_entry["id"], self.agent_id)

    # Join tokens -----------------------------------------------------------------

    def test_unknown_join_token(self):
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/node/attest",
                                   {"join_token": "0" * 64, "csr": csr_pem(key)})
        self.assert_error(response, 404, "ENOTFOUND", "unknown join token")

    def test_reused_join_token(self):
        token = self.server.join_token()["token"]
        self.server.attest(token)
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/node/attest",
                                   {"join_token": token, "csr": csr_pem(key)})
        self.assert_error(response, 409, "ECONFLICT", "already used")
        self.assertNotIn(token, response.body.decode())

    def test_expired_join_token(self):
        token = self.server.join_token(ttl=1)["token"]
        time.sleep(2.1)
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/node/attest",
                                   {"join_token": token, "csr": csr_pem(key)})
        self.assert_error(response, 401, "EEXPIRED")
        self.assertNotIn(token, response.body.decode())

    # Authentication ---------------------------------------------------------------

    def test_every_tls_route_needs_a_client_svid(self):
        for method, path in TLS_ROUTES:
            with self.subTest(route=f"{method} {path}"):
                response = self.server.tls(method, path, {} if method in ("POST", "PUT") else None)
                self.assertEqual(response.status, 401, response)

    def test_agent_cannot_call_admin_routes(self):
        for method, path in AGENT_FORBIDDEN:
            with self.subTest(route=f"{method} {path}"):
                response = self.node(method, path, {} if method in ("POST", "PUT") else None)
                self.assert_error(response, 403, "EPERM", self.agent_id)

    def test_minted_workload_svid_is_not_an_agent(self):
        minted = self.server.mint("spiffe://example.org/plain")
        cert = self.server.write("plain.pem", minted["svid"])
        key = self.server.write("plain.key", minted["private_key"])
        response = self.server.tls("GET", "/v1/node/entries", cert=cert, key=key)
        self.assert_error(response, 403, "EPERM")
        response = self.server.tls("GET", "/v1/entries", cert=cert, key=key)
        self.assert_error(response, 403, "EPERM")

    def test_foreign_trust_domain_refused_at_handshake(self):
        other = Server("other.org")
        try:
            minted = other.mint("spiffe://other.org/intruder")
            cert = other.write("intruder.pem", minted["svid"])
            key = other.write("intruder.key", minted["private_key"])
        finally:
            other.cleanup_keep = True
        try:
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                self.server.tls("GET", "/v1/health", cert=cert, key=key)
        finally:
            other.cleanup()

    def test_non_admin_uid_refused_on_admin_socket(self):
        """SO_PEERCRED decides: uid 65534 is allowed, 65533 is not."""
        server = Server("uids.example", config="admin:\n  allowed_uids: ['65534']\n")
        try:
            os.chmod(server.dir, 0o755)
            for uid, expected in ((65534, "200"), (65533, "403")):
                result = subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket",
                     server.admin_socket, "http://x/v1/health"],
                    capture_output=True, text=True, timeout=20,
                    preexec_fn=lambda uid=uid: (os.setgid(uid), os.setuid(uid)))
                self.assertEqual(result.stdout, expected, (uid, result))
        finally:
            server.cleanup()


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: the admin-socket uid checks need root to switch uids")
    wardenlib.main()
