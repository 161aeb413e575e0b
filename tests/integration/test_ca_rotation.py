#!/usr/bin/python3
"""CA rotation in real time with a one-minute CA: the next CA is published in
the bundle at half life before it signs anything and becomes the signer at
one sixth of life left, so every SVID verifies against the bundle peers
already hold."""
import time
import unittest

from cryptography.hazmat.primitives.asymmetric import ec

import wardenlib
from wardenlib import Server, load_certs

CA_TTL = 60


def x509_authorities(server):
    bundle = server.admin("GET", "/v1/bundle").json()
    return bundle, [k for k in bundle["keys"] if k["use"] == "x509-svid"]


def signed_by(cert, ca):
    try:
        ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               ec.ECDSA(cert.signature_hash_algorithm))
        return True
    except Exception:
        return False


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


class CaRotationTest(unittest.TestCase):
    def test_prepare_then_activate(self):
        server = Server("rotate.example", config=(
            f"identity:\n  ca_ttl: {CA_TTL}s\n  default_x509_svid_ttl: 8s\n"
            "  default_jwt_svid_ttl: 8s\n  refresh_hint: 5s\n"))
        try:
            started = time.monotonic()
            bundle, keys = x509_authorities(server)
            self.assertEqual(len(keys), 1)
            first_ca = load_certs(server.bundle_pem)[0]
            first_sequence = bundle["spiffe_sequence"]

            # Prepared at half life: two authorities, the old one still signs.
            bundle, keys = wait_for(
                lambda: (lambda b: b if len(b[1]) == 2 else None)(x509_authorities(server)),
                CA_TTL / 2 + 10, "the next CA in the bundle")
            self.assertGreaterEqual(time.monotonic() - started, CA_TTL / 2 - 5)
            self.assertGreater(bundle["spiffe_sequence"], first_sequence)
            prepared_bundle_pem = server.admin("GET", "/v1/bundle?format=pem").body
            cas = load_certs(prepared_bundle_pem)
            self.assertEqual(len(cas), 2)
            second_ca = [ca for ca in cas if ca != first_ca][0]
            before_activation = load_certs(server.mint("spiffe://rotate.example/a")["svid"])[0]
            self.assertTrue(signed_by(before_activation, first_ca))

            # Activated at one sixth of life left: the new CA signs.
            def active_is_second():
                status = server.admin("GET", "/v1/ca").json()
                active = [s for s in status["slots"] if s["state"] == "active"]
                return active and active[0]["not_after"] > int(first_ca.not_valid_after.timestamp())
            wait_for(active_is_second, CA_TTL / 3 + 10, "the next CA to become active")
            self.assertGreaterEqual(time.monotonic() - started, CA_TTL * 5 / 6 - 5)
            after_activation = load_certs(server.mint("spiffe://rotate.example/b")["svid"])[0]
            self.assertTrue(signed_by(after_activation, second_ca))
            self.assertFalse(signed_by(after_activation, first_ca))

            # A peer that fetched the bundle at prepare time already trusts
            # the new signer, including the server's own renewed certificate.
            path = server.write("prepared-bundle.pem", prepared_bundle_pem)
            server.bundle_path = path
            self.assertEqual(server.tls("POST", "/v1/node/attest", {}).status, 400)
        finally:
            server.cleanup()


if __name__ == "__main__":
    wardenlib.main()
