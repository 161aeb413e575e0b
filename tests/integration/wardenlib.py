"""Helpers for integration tests: start a real `warden server` in a scratch
directory and talk to it over its admin socket and its TLS identity API.

Tests run with Debian's /usr/bin/python3 so that python3-cryptography and
python3-jwt import. Each test file is a unittest module run as a script.

With WARDEN_TEST_DATASTORE=postgres in the environment, every Server keeps
its state in a database of its own on one throwaway PostgreSQL cluster
(pglib.py) started for the test process, instead of SQLite in its data
directory."""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

WARDEN = os.environ.get("WARDEN", "build/warden")
SKIP_EXIT = 77

_postgres = None
_postgres_databases = 0


def datastore_under_test():
    """The datastore WARDEN_TEST_DATASTORE requests: "sqlite" or "postgres"."""
    value = os.environ.get("WARDEN_TEST_DATASTORE", "sqlite") or "sqlite"
    if value not in ("sqlite", "postgres"):
        raise RuntimeError(f"WARDEN_TEST_DATASTORE={value!r}: expected sqlite or postgres")
    return value


def postgres_cluster():
    """The PostgreSQL cluster shared by this test process, started on first
    use and stopped at exit. Exits 77 when no cluster can start here."""
    global _postgres
    if _postgres is None:
        import pglib
        pglib.skip_unless_available()
        _postgres = pglib.Postgres()
        atexit.register(_postgres.stop)
    return _postgres


def datastore_database(url):
    """The database name in a datastore URL from postgres_datastore."""
    return url.split("@/", 1)[1].split("?", 1)[0]


def postgres_datastore():
    """Creates an empty database on the shared cluster and returns its
    datastore URL."""
    global _postgres_databases
    pg = postgres_cluster()
    _postgres_databases += 1
    name = f"warden{_postgres_databases}"
    pg.psql(f'CREATE DATABASE "{name}" OWNER "{pg.admin_user}"', database="postgres")
    return f"postgresql://{pg.admin_user}:{pg.admin_password}@/{name}?host={pg.socket_dir}"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket, as the CLI talks to the admin API."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body)

    def error_message(self):
        return self.json()["error"]["message"]

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class Server:
    """A warden server process with its own data directory and admin socket."""

    def __init__(self, trust_domain="example.org", config=None, extra_args=(), dev_root_token=None,
                 localhost_name=None, datastore=None):
        if datastore is None and datastore_under_test() == "postgres":
            datastore = postgres_datastore()
        self.datastore = datastore
        # Flags a test passes again when it restarts the server itself.
        self.datastore_args = ["--datastore", datastore] if datastore else []
        self.dir = tempfile.mkdtemp(prefix="warden-it-")
        self.trust_domain = trust_domain
        self.data_dir = os.path.join(self.dir, "data")
        self.admin_socket = os.path.join(self.dir, "admin.sock")
        self.log_path = os.path.join(self.dir, "server.log")
        args = [WARDEN, "server", "--trust-domain", trust_domain,
                "--data-dir", self.data_dir, "--listen", "127.0.0.1:0", "--policy-listen", "127.0.0.1:0",
                "--secrets-listen", "127.0.0.1:0", "--admin-socket", self.admin_socket]
        self.root_token = dev_root_token
        if dev_root_token is not None:
            args += ["--dev", "--dev-root-token", dev_root_token]
        if localhost_name is None:
            localhost_name = dev_root_token is not None
        if config is None and localhost_name:
            # Vault clients check the host name, so the serving SVID names
            # localhost besides its SPIFFE ID.
            config = "identity:\n  dns_names: [localhost]\n"
        if config is not None:
            config_path = os.path.join(self.dir, "server.yaml")
            with open(config_path, "w") as f:
                f.write(config)
            args += ["--config", config_path]
        args += self.datastore_args
        args += list(extra_args)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = self._wait_ready()
        self.bundle_pem = self.admin("GET", "/v1/bundle?format=pem").body
        self.bundle_path = self.write("bundle.pem", self.bundle_pem)

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"warden server exited {self.process.returncode}:\n{self.read_log()}")
            match = re.search(r"server started .*\bport=(\d+)", self.read_log())
            if match and os.path.exists(self.admin_socket):
                policy = re.search(r"server started .*\bpolicy_port=(\d+)", self.read_log())
                self.policy_port = int(policy.group(1)) if policy else None
                secrets = re.search(r"server started .*\bsecrets_port=(\d+)", self.read_log())
                self.secrets_port = int(secrets.group(1)) if secrets else None
                return int(match.group(1))
            time.sleep(0.05)
        raise RuntimeError(f"warden server not ready in 20 s:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def write(self, name, data, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # Requests ------------------------------------------------------------

    def admin(self, method, path, body=None, raw=None, headers=None):
        conn = UnixHTTPConnection(self.admin_socket)
        return self._request(conn, method, path, body, raw, headers)

    def tls_context(self, cert=None, key=None):
        context = ssl.create_default_context(cafile=self.bundle_path)
        # The server's SVID names a SPIFFE ID, not a host name.
        context.check_hostname = False
        if cert:
            context.load_cert_chain(cert, key)
        return context

    def tls(self, method, path, body=None, cert=None, key=None, raw=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=self.tls_context(cert, key))
        return self._request(conn, method, path, body, raw, headers)

    @staticmethod
    def _request(conn, method, path, body, raw, headers):
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        all_headers = {"Content-Type": "application/json"} if payload is not None else {}
        all_headers.update(headers or {})
        try:
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return Response(response.status, data, dict(response.getheaders()))
        finally:
            conn.close()

    # Identity flows --------------------------------------------------------

    @property
    def vault_url(self):
        return f"https://localhost:{self.secrets_port}"

    def vault(self, token=None, cert=None):
        """An hvac client (Debian's python3-hvac) for the secrets API. token
        defaults to the dev root token; cert is (cert_path, key_path)."""
        import hvac
        return hvac.Client(url=self.vault_url, token=token if token is not None else self.root_token,
                           verify=self.bundle_path, cert=cert)

    def vault_raw(self, method, path, body=None, token=None, raw=None, headers=None):
        """One request to the secrets API without hvac, to see exact statuses
        and bodies. path starts with /v1/."""
        all_headers = dict(headers or {})
        token = token if token is not None else self.root_token
        if token:
            all_headers["X-Vault-Token"] = token
        conn = http.client.HTTPSConnection("127.0.0.1", self.secrets_port, timeout=10,
                                           context=self.tls_context())
        return self._request(conn, method, path, body, raw, all_headers)

    def join_token(self, ttl=None):
        response = self.admin("POST", "/v1/tokens", {"ttl": ttl} if ttl else None)
        assert response.status == 201, response
        return response.json()

    def attest(self, token, key=None):
        """Attests a node with token; returns (agent_id, cert_path, key_path)."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        response = self.tls("POST", "/v1/node/attest",
                            {"join_token": token, "csr": csr_pem(key)})
        assert response.status == 200, response
        reply = response.json()
        name = re.sub(r"[^a-z0-9]", "_", reply["spiffe_id"][-12:])
        cert_path = self.write(f"node-{name}.pem", reply["svid"])
        key_path = self.write(f"node-{name}.key", key_pem(key))
        return reply["spiffe_id"], cert_path, key_path

    def new_agent(self):
        return self.attest(self.join_token()["token"])

    def create_entry(self, spiffe_id, parent_id, selectors=("unix:uid:1000",), **fields):
        body = {"spiffe_id": spiffe_id, "parent_id": parent_id, "selectors": list(selectors)}
        body.update(fields)
        response = self.admin("POST", "/v1/entries", body)
        assert response.status == 201, response
        return response.json()

    def mint(self, spiffe_id, **fields):
        body = {"spiffe_id": spiffe_id}
        body.update(fields)
        response = self.admin("POST", "/v1/svid/mint", body)
        assert response.status == 200, response
        return response.json()

    def entry_count(self):
        response = self.admin("GET", "/v1/entries?limit=1000")
        assert response.status == 200, response
        return len(response.json()["entries"])


def start_peer(first, **kwargs):
    """Starts another server on first's PostgreSQL datastore. Until servers
    keep the CA keys in the datastore, the peer gets a copy of first's key
    files in a data directory of its own."""
    data_dir = tempfile.mkdtemp(prefix="warden-peer-")
    authority = os.path.join(first.data_dir, "authority")
    if os.path.isdir(authority):
        shutil.copytree(authority, os.path.join(data_dir, "authority"))
    peer = Server(first.trust_domain, datastore=first.datastore,
                  extra_args=["--data-dir", data_dir], **kwargs)
    peer.peer_data_dir = data_dir
    return peer


def wait_until(predicate, seconds):
    """Polls predicate every 50 ms for up to seconds; returns its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def csr_pem(key, common_name="workload"):
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def load_certs(pem):
    """Parses every certificate in PEM text (Debian 12's cryptography 38 has
    no load_pem_x509_certificates)."""
    data = pem.encode() if isinstance(pem, str) else pem
    certs = [x509.load_pem_x509_certificate(block) for block in PEM_CERT.findall(data)]
    assert certs, f"no certificate in {data[:200]!r}"
    return certs


def main():
    """Runs the calling module's tests; exits 1 on failure, like unittest."""
    if not os.path.exists(WARDEN):
        print(f"SKIP: warden binary {WARDEN} not found")
        sys.exit(SKIP_EXIT)
    if datastore_under_test() == "postgres":
        # Here rather than in a test's setUp, where unittest would count
        # the exit as an error.
        import pglib
        pglib.skip_unless_available()
    unittest.main(module="__main__", verbosity=2)
