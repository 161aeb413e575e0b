#!/usr/bin/python3
"""cosign key files exchanged between warden and an independent Python
implementation of the envelope: hashlib's scrypt, a pure-Python XSalsa20
with the cryptography package's Poly1305 for NaCl secretbox, and
cryptography's PKCS#8 and ECDSA. Python opens warden's cosign.key and signs
with it, and warden signs with a key file that Python wrote."""
import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.poly1305 import Poly1305

WARDEN = os.environ.get("WARDEN")
PASSWORD = "python password"

# TestDecrypt of go-securesystemslib encrypted/encrypted_test.go, to check
# this implementation against Go's before it judges warden's.
GO_VECTOR = (
    '{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},'
    '"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},'
    '"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},'
    '"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}')

SIGMA = b"expand 32-byte k"


def rotl(value, count):
    return ((value << count) | (value >> (32 - count))) & 0xFFFFFFFF


def salsa_rounds(state):
    """Applies the 20 Salsa20 rounds (10 double rounds) to 16 words."""
    x = list(state)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6), (15, 3, 7, 11),
                           (0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9), (15, 12, 13, 14)):
            x[b] ^= rotl((x[a] + x[d]) & 0xFFFFFFFF, 7)
            x[c] ^= rotl((x[b] + x[a]) & 0xFFFFFFFF, 9)
            x[d] ^= rotl((x[c] + x[b]) & 0xFFFFFFFF, 13)
            x[a] ^= rotl((x[d] + x[c]) & 0xFFFFFFFF, 18)
    return x


def salsa_state(key, middle):
    """Lays out the Salsa20 input: constants, key and 16 middle bytes."""
    c = struct.unpack("<4I", SIGMA)
    k = struct.unpack("<8I", key)
    m = struct.unpack("<4I", middle)
    return [c[0], k[0], k[1], k[2], k[3], c[1], m[0], m[1], m[2], m[3],
            c[2], k[4], k[5], k[6], k[7], c[3]]


def hsalsa20(key, nonce16):
    x = salsa_rounds(salsa_state(key, nonce16))
    return struct.pack("<8I", *(x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)))


def xsalsa20_stream(key, nonce24, length):
    subkey = hsalsa20(key, nonce24[:16])
    stream = b""
    counter = 0
    while len(stream) < length:
        state = salsa_state(subkey, nonce24[16:] + struct.pack("<Q", counter))
        out = salsa_rounds(state)
        stream += struct.pack("<16I", *((o + s) & 0xFFFFFFFF for o, s in zip(out, state)))
        counter += 1
    return stream[:length]


def secretbox_seal(key, nonce, message):
    stream = xsalsa20_stream(key, nonce, 32 + len(message))
    ciphertext = bytes(m ^ s for m, s in zip(message, stream[32:]))
    return Poly1305.generate_tag(stream[:32], ciphertext) + ciphertext


def secretbox_open(key, nonce, sealed):
    tag, ciphertext = sealed[:16], sealed[16:]
    stream = xsalsa20_stream(key, nonce, 32 + len(ciphertext))
    if not hmac.compare_digest(Poly1305.generate_tag(stream[:32], ciphertext), tag):
        raise ValueError("secretbox tag mismatch")
    return bytes(c ^ s for c, s in zip(ciphertext, stream[32:]))


def derive(password, kdf):
    params = kdf["params"]
    return hashlib.scrypt(password.encode(), salt=base64.b64decode(kdf["salt"]),
                          n=params["N"], r=params["r"], p=params["p"],
                          maxmem=256 * 1024 * 1024, dklen=32)


def open_envelope(text, password):
    envelope = json.loads(text)
    key = derive(password, envelope["kdf"])
    return secretbox_open(key, base64.b64decode(envelope["cipher"]["nonce"]),
                          base64.b64decode(envelope["ciphertext"]))


def seal_envelope(plaintext, password):
    kdf = {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
           "salt": base64.b64encode(os.urandom(32)).decode()}
    nonce = os.urandom(24)
    sealed = secretbox_seal(derive(password, kdf), nonce, plaintext)
    return json.dumps({"kdf": kdf,
                       "cipher": {"name": "nacl/secretbox",
                                  "nonce": base64.b64encode(nonce).decode()},
                       "ciphertext": base64.b64encode(sealed).decode()})


def pem_body(pem, pem_type):
    lines = pem.strip().splitlines()
    assert lines[0] == f"-----BEGIN {pem_type}-----", lines[0]
    assert lines[-1] == f"-----END {pem_type}-----", lines[-1]
    return base64.b64decode("".join(lines[1:-1]))


def pem_wrap(body, pem_type):
    text = base64.b64encode(body).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {pem_type}-----", *lines, f"-----END {pem_type}-----", ""])


class EnvelopeImplementationTest(unittest.TestCase):
    def test_opens_go_vector(self):
        self.assertEqual(open_envelope(GO_VECTOR, "supersecret"), b"reallyimportant")

    def test_rejects_wrong_password(self):
        with self.assertRaises(ValueError):
            open_envelope(GO_VECTOR, "supersecreT")


class KeyExchangeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.env = dict(os.environ, COSIGN_PASSWORD=PASSWORD)
        with open(self.path("blob"), "wb") as blob:
            blob.write(b"python blob\n")

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def warden(self, *args):
        return subprocess.run([WARDEN, *args], cwd=self.dir.name, env=self.env,
                              capture_output=True, text=True, check=False)

    def test_python_opens_warden_key(self):
        self.assertEqual(self.warden("keygen").returncode, 0)
        with open(self.path("cosign.key")) as key_file:
            envelope = pem_body(key_file.read(), "ENCRYPTED SIGSTORE PRIVATE KEY")
        private_key = serialization.load_der_private_key(
            open_envelope(envelope.decode(), PASSWORD), password=None)
        self.assertIsInstance(private_key.curve, ec.SECP256R1)

        with open(self.path("cosign.pub"), "rb") as pub_file:
            public_key = serialization.load_pem_public_key(pub_file.read())
        self.assertEqual(public_key.public_numbers(), private_key.public_key().public_numbers())

        # A signature Python makes with the decrypted key verifies in warden.
        signature = private_key.sign(b"python blob\n", ec.ECDSA(hashes.SHA256()))
        with open(self.path("sig.b64"), "w") as sig_file:
            sig_file.write(base64.b64encode(signature).decode())
        result = self.warden("verify-blob", "--key", "cosign.pub", "--signature", "sig.b64",
                             "blob")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Verified OK\n")

    def test_warden_signs_with_python_key(self):
        private_key = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = private_key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        with open(self.path("python.key"), "w") as key_file:
            key_file.write(pem_wrap(seal_envelope(pkcs8, PASSWORD).encode(),
                                    "ENCRYPTED SIGSTORE PRIVATE KEY"))

        result = self.warden("sign-blob", "--key", "python.key", "blob")
        self.assertEqual(result.returncode, 0, result.stderr)
        signature = base64.b64decode(result.stdout.strip())
        # Raises InvalidSignature when warden signed something else.
        private_key.public_key().verify(signature, b"python blob\n", ec.ECDSA(hashes.SHA256()))

        self.env["COSIGN_PASSWORD"] = "not the password"
        result = self.warden("sign-blob", "--key", "python.key", "blob")
        self.assertEqual(result.returncode, 1)
        self.assertIn("wrong password", result.stderr)


if __name__ == "__main__":
    if not WARDEN:
        print("SKIP: WARDEN is not set")
        sys.exit(77)
    unittest.main()
