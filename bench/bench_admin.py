"""Setup steps of bench/run.sh that curl cannot do well.

attest:  attests a node with a join token over TLS (the server's certificate
         names a SPIFFE ID, not a host, so host name checking is off and the
         chain is checked against the bundle) and writes node.pem and
         node.key (mode 0600).
entries: creates N registration entries over one keep-alive connection to
         the admin socket, stopping early after --max-seconds, and prints how
         many it created and the creation rate.

Runs with Debian's /usr/bin/python3, which has python3-cryptography."""
import argparse
import http.client
import json
import os
import socket
import ssl
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket; one connection serves many requests."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def attest(args):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-node")]))
           .sign(key, hashes.SHA256()))
    body = json.dumps({"join_token": args.token,
                       "csr": csr.public_bytes(serialization.Encoding.PEM).decode()})

    context = ssl.create_default_context(cafile=args.bundle)
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", args.port, timeout=30, context=context)
    conn.request("POST", "/v1/node/attest", body=body,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        sys.exit(f"node attestation failed: HTTP {response.status}: {data[:300]!r}")
    reply = json.loads(data)

    cert_path = os.path.join(args.out_dir, "node.pem")
    key_path = os.path.join(args.out_dir, "node.key")
    with open(cert_path, "w") as f:
        f.write(reply["svid"])
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    print(reply["spiffe_id"])


def create_entries(args):
    conn = UnixHTTPConnection(args.socket)
    headers = {"Content-Type": "application/json"}
    progress_every = max(args.count // 10, 1)
    start = time.monotonic()
    created = 0
    for i in range(args.count):
        if args.max_seconds and time.monotonic() - start > args.max_seconds:
            print(f"  stopped after {args.max_seconds} s at {created} entries",
                  file=sys.stderr, flush=True)
            break
        body = json.dumps({"spiffe_id": f"spiffe://{args.trust_domain}/bench/entry-{i}",
                           "parent_id": args.parent_id,
                           "selectors": [f"unix:uid:{1000 + i % 50000}"]})
        conn.request("POST", "/v1/entries", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 201:
            sys.exit(f"creating entry {i} failed: HTTP {response.status}: {data[:300]!r}")
        created += 1
        if response.will_close:
            # The server ended keep-alive: reconnect and go on.
            conn.close()
            conn = UnixHTTPConnection(args.socket)
        if created % progress_every == 0:
            elapsed = time.monotonic() - start
            print(f"  {created} entries, {created / elapsed:.0f}/s", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - start
    conn.close()
    print(f"entries requested={args.count} created={created} seconds={elapsed:.3f}"
          f" rate={created / elapsed:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    attest_parser = commands.add_parser("attest", help="attest a node with a join token")
    attest_parser.add_argument("--port", type=int, required=True, help="identity API port")
    attest_parser.add_argument("--bundle", required=True, help="trust bundle PEM file")
    attest_parser.add_argument("--token", required=True, help="join token")
    attest_parser.add_argument("--out-dir", required=True,
                               help="directory for node.pem and node.key")
    attest_parser.set_defaults(run=attest)

    entries_parser = commands.add_parser("entries", help="create N registration entries")
    entries_parser.add_argument("--socket", required=True, help="admin socket path")
    entries_parser.add_argument("--trust-domain", required=True)
    entries_parser.add_argument("--parent-id", required=True, help="parent SPIFFE ID")
    entries_parser.add_argument("--count", type=int, required=True, help="number of entries")
    entries_parser.add_argument("--max-seconds", type=float, default=0,
                                help="stop creating after this many seconds (0: no limit)")
    entries_parser.set_defaults(run=create_entries)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
