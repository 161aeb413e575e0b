"""Helpers for the `warden proxy` integration tests. They provide a test PKI
for trust domain example.org with good and bad X.509-SVIDs, an nginx as the
application behind the inbound proxy, `warden proxy` processes with their
listen addresses, metrics and logs, and ES256 JWTs with their JWKS.

Every process is started here and ended by its own pid."""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import wardenlib

NGINX = "/usr/sbin/nginx"
CURL = "/usr/bin/curl"
OPENSSL = "/usr/bin/openssl"
WRK = "/usr/bin/wrk"

TRUST_DOMAIN = "example.org"
ID_A = "spiffe://example.org/a"
ID_B = "spiffe://example.org/b"
ID_C = "spiffe://example.org/c"

# The body nginx returns for GET /v1/data.
DATA_BODY = b'{"data":"for admins"}\n'

# The flagship policy: only spiffe://example.org/a may call GET /v1/data,
# and only with a JWT whose scope includes data:read and whose groups
# include admin.
FLAGSHIP_POLICY = """package proxy

import rego.v1

default allow := false

allow if {
	input.source.spiffe_id == "spiffe://example.org/a"
	input.request.method == "GET"
	input.request.path == "/v1/data"
	"data:read" in split(input.request.jwt.scope, " ")
	"admin" in input.request.jwt.groups
}
"""

# Allows every request from spiffe://example.org/a, for tests about
# transport rather than policy.
ALLOW_A_POLICY = """package proxy

import rego.v1

default allow := false

allow if input.source.spiffe_id == "spiffe://example.org/a"
"""


def missing_tools(*paths):
    """Returns the reason to skip when one of paths is not executable, else None."""
    missing = [path for path in paths if not os.access(path, os.X_OK)]
    if missing:
        return "missing " + ", ".join(missing) + " (install nginx-light, curl, openssl, wrk)"
    return None


def free_port():
    """Returns a loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_file(path, data, mode=0o600):
    """Writes data to path through a temporary file and a rename, so a
    process watching path never reads half a file."""
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(temporary, mode)
    os.rename(temporary, path)
    return path


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_until(predicate, timeout=10, interval=0.1):
    """Polls predicate until it returns a true value; returns that value,
    or the last false one after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def stop_process(process, timeout=10):
    """Ends a process this module started: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# --- PKI -------------------------------------------------------------------

def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def pem_key(key):
    return wardenlib.key_pem(key)


class Authority:
    """A self-signed CA of one trust domain: URI SAN spiffe://<td>,
    CA:true, keyCertSign and cRLSign."""

    def __init__(self, trust_domain):
        self.trust_domain = trust_domain
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "warden test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"{trust_domain} test CA")])
        now = _now()
        public_key = self.key.public_key()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"spiffe://{trust_domain}")]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self.key, hashes.SHA256()))

    def issue(self, uris, not_before=None, not_after=None):
        """Issues an X.509-SVID-shaped leaf naming uris (a SPIFFE ID or a
        list of them); returns (cert, key)."""
        if isinstance(uris, str):
            uris = [uris]
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        not_before = not_before or now - datetime.timedelta(minutes=5)
        not_after = not_after or now + datetime.timedelta(hours=1)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIFFE")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False)
            .add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(uri) for uri in uris]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256()))
        return cert, key

    def crl(self, revoked_serials=()):
        """Returns a PEM CRL of this CA listing revoked_serials."""
        now = _now()
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(self.cert.subject)
                   .last_update(now - datetime.timedelta(minutes=1))
                   .next_update(now + datetime.timedelta(hours=1))
                   .add_extension(x509.CRLNumber(int(time.time())), critical=False))
        for serial in revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - datetime.timedelta(seconds=30)).build())
        crl = builder.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM).decode()


class Credentials:
    """A certificate and key written as PEM files."""

    def __init__(self, directory, name, cert, key):
        self.cert = cert
        self.key = key
        self.cert_path = write_file(os.path.join(directory, f"{name}.pem"), pem_cert(cert))
        self.key_path = write_file(os.path.join(directory, f"{name}.key"), pem_key(key))
        self.der_sha256 = hashlib.sha256(
            cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    def args(self, bundle_path, crl_path=None):
        """The identity flags of `warden proxy` for these credentials."""
        result = ["--cert", self.cert_path, "--key", self.key_path, "--bundle", bundle_path]
        if crl_path:
            result += ["--crl", crl_path]
        return result


class TestPKI:
    """The CA of example.org, a CA of other.org, and the bundle file."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = Authority(TRUST_DOMAIN)
        self.other_ca = Authority("other.org")
        self.bundle_path = write_file(os.path.join(directory, "bundle.pem"),
                                      pem_cert(self.ca.cert))

    def svid(self, name, uris, authority=None, **validity):
        cert, key = (authority or self.ca).issue(uris, **validity)
        return Credentials(self.dir, name, cert, key)

    def expired(self, name, spiffe_id):
        now = _now()
        return self.svid(name, spiffe_id, not_before=now - datetime.timedelta(hours=2),
                         not_after=now - datetime.timedelta(hours=1))


# --- JWT -------------------------------------------------------------------

def base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JWTIssuer:
    """An ES256 signing key and the JWKS file that publishes it."""

    def __init__(self, kid="test-key"):
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self):
        # RFC 7518 section 6.2.1.2 requires x and y at the full 32 bytes of
        # P-256, but PyJWT 2.6's to_jwk drops leading zero bytes, so the
        # coordinates are encoded here.
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": base64url(numbers.x.to_bytes(32, "big")),
               "y": base64url(numbers.y.to_bytes(32, "big")), "kid": self.kid,
               "alg": "ES256", "use": "sig"}
        return json.dumps({"keys": [jwk]})

    def token(self, claims=None, lifetime=300, **extra):
        now = int(time.time())
        body = {"iss": "https://issuer.example.org", "sub": "user-1", "aud": "service-b",
                "iat": now, "nbf": now - 5, "exp": now + lifetime}
        body.update(claims or {})
        body.update(extra)
        return jwt.encode(body, self.key, algorithm="ES256", headers={"kid": self.kid})


# --- nginx -----------------------------------------------------------------

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location = /v1/data {{
            default_type application/json;
            return 200 '{body}';
        }}
        location = /v1/echo-xfcc {{
            default_type text/plain;
            return 200 "$http_x_forwarded_client_cert";
        }}
        location / {{
            default_type text/plain;
            return 404 "no such path\\n";
        }}
    }}
}}
"""


class Nginx:
    """nginx-light in the foreground, listening on 127.0.0.1:self.port."""

    def __init__(self, parent_dir):
        self.dir = os.path.join(parent_dir, "nginx")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.port = free_port()
        conf = NGINX_CONF.format(dir=self.dir, port=self.port,
                                 body=DATA_BODY.decode().replace("\n", "\\n"))
        self.conf_path = write_file(os.path.join(self.dir, "nginx.conf"), conf, 0o644)
        self.error_log = os.path.join(self.dir, "error.log")
        self.process = subprocess.Popen(
            [NGINX, "-p", self.dir, "-c", self.conf_path, "-e", self.error_log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            with open(self.error_log) as f:
                raise RuntimeError(f"nginx did not start:\n{f.read()}")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        stop_process(self.process)


# --- warden proxy ----------------------------------------------------------

LISTENING = re.compile(r"proxy listening.*\blistener=(\S+).*\baddress=(\S+)")


class Proxy:
    """A `warden proxy` process. listeners maps each listener's name to its
    (host, port) once it logged "proxy listening"."""

    def __init__(self, directory, name, args, listener_count=1, metrics=True,
                 access_log=True, preexec_fn=None):
        self.dir = directory
        self.name = name
        self.log_path = os.path.join(directory, f"{name}.log")
        self.access_log_path = os.path.join(directory, f"{name}.access.jsonl")
        self.metrics_port = free_port() if metrics else None
        full = [wardenlib.WARDEN, "proxy"] + list(args)
        if metrics:
            full += ["--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        if access_log:
            full += ["--access-log", self.access_log_path]
        self.args = full
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        try:
            self.listeners = self._wait_listening(listener_count)
        except RuntimeError:
            stop_process(self.process)
            self.log.close()
            raise

    def _wait_listening(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {}
            for match in LISTENING.finditer(self.read_log()):
                host, _, port = match.group(2).strip('"').rpartition(":")
                found[match.group(1).strip('"')] = (host, int(port))
            if len(found) >= count:
                return found
            if self.process.poll() is not None:
                raise RuntimeError(f"warden proxy {self.name} exited {self.process.returncode}:"
                                   f"\n{' '.join(self.args)}\n{self.read_log()}")
            time.sleep(0.05)
        raise RuntimeError(f"warden proxy {self.name} did not log {count} listeners in "
                           f"{timeout} s:\n{self.read_log()}")

    @property
    def port(self):
        """The port of the only listener."""
        assert len(self.listeners) == 1, self.listeners
        return next(iter(self.listeners.values()))[1]

    def address(self, listener=None):
        host, port = self.listeners[listener] if listener else next(iter(self.listeners.values()))
        return f"{host}:{port}"

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def access_log(self):
        """The access log as a list of parsed JSON lines."""
        if not os.path.exists(self.access_log_path):
            return []
        with open(self.access_log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def metrics_text(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            body = response.read().decode()
            assert response.status == 200, (response.status, body)
            return body
        finally:
            conn.close()

    def metric(self, name, **labels):
        """The value of one sample, or 0 when the proxy has not exported it
        yet (a counter that never counted)."""
        return parse_metric(self.metrics_text(), name, **labels)

    def stop(self):
        """Stops the proxy with SIGTERM and raises AssertionError when it
        did not exit with status 0 or a sanitizer reported an error."""
        if self.log.closed:
            return self.process.returncode
        code = stop_process(self.process)
        self.log.close()
        log = self.read_log()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                raise AssertionError(f"warden proxy {self.name}: {marker} in its log:\n{log}")
        if code != 0:
            raise AssertionError(f"warden proxy {self.name} exited {code} on SIGTERM:\n"
                                 f"{log[-3000:]}")
        return code


# Lines that ASan, LSan and UBSan builds print on stderr.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def parse_metric(text, name, **labels):
    expected = {key: str(value) for key, value in labels.items()}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                match.group(2) or ""))
        if all(found.get(key) == value for key, value in expected.items()):
            return float(match.group(3))
    return 0.0


def inbound_args(listen, forward, allow=(), http=False):
    args = ["--inbound", listen, "--forward", forward]
    for pattern in allow:
        args += ["--allow", pattern]
    if http:
        args.append("--http")
    return args


def outbound_args(listen, upstream, expect=(), http=False):
    args = ["--outbound", listen, "--upstream", upstream]
    for pattern in expect:
        args += ["--expect", pattern]
    if http:
        args.append("--http")
    return args


class Agent:
    """A `warden agent run` process serving the Workload API on self.socket,
    attested to server with a join token."""

    def __init__(self, server, directory, join_token, sync_interval=1):
        self.socket = os.path.join(directory, "agent.sock")
        self.log_path = os.path.join(directory, "agent.log")
        args = [wardenlib.WARDEN, "agent", "run",
                "--server-address", f"127.0.0.1:{server.port}",
                "--trust-domain", server.trust_domain,
                "--trust-bundle", server.bundle_path,
                "--data-dir", os.path.join(directory, "agent-data"),
                "--socket-path", self.socket,
                "--sync-interval", f"{sync_interval}s", "--join-token", join_token]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        # The agent prints SPIFFE_ENDPOINT_SOCKET=... once it serves.
        if not self.process.stdout.readline().strip():
            self.stop()
            raise RuntimeError(f"agent exited {self.process.returncode}:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        code = stop_process(self.process)
        self.process.stdout.close()
        self.log.close()
        return code


# --- clients ---------------------------------------------------------------

class CurlResult:
    def __init__(self, completed):
        self.exit_code = completed.returncode
        self.stderr = completed.stderr.decode(errors="replace")
        # -D - writes the response head before the body on stdout.
        head, _, self.body = completed.stdout.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        match = re.match(r"HTTP/[\d.]+ (\d{3})", lines[0])
        self.status = int(match.group(1)) if match else None
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"CurlResult(exit={self.exit_code}, status={self.status}, "
                f"body={self.body[:300]!r}, stderr={self.stderr[-300:]!r})")


def curl(url, method="GET", headers=(), data=None, timeout=10):
    """Runs curl once; returns its exit code, the status, headers and body."""
    args = [CURL, "-sS", "--max-time", str(timeout), "-X", method, "-D", "-", "-o", "-", url]
    for header in headers:
        args += ["-H", header]
    if data is not None:
        args += ["--data-binary", data]
    return CurlResult(subprocess.run(args, capture_output=True, timeout=timeout + 5))


def run_curl_args(args, timeout=30):
    return subprocess.run([CURL] + list(args), capture_output=True, timeout=timeout)


def tls_client_context(bundle_path, credentials=None):
    """A client context that trusts bundle_path and presents credentials;
    SVIDs name SPIFFE IDs, not host names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(bundle_path)
    context.check_hostname = False
    if credentials:
        context.load_cert_chain(credentials.cert_path, credentials.key_path)
    return context


def tls_exchange(port, context, payload, timeout=5):
    """Connects with TLS, sends payload and reads until the peer closes.
    Returns (response bytes, error) where error names the exception that
    ended the exchange, or None after a clean close."""
    received = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with context.wrap_socket(raw) as tls:
                tls.sendall(payload)
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return received, None
                    received += chunk
    except (OSError, ssl.SSLError) as error:
        return received, f"{type(error).__name__}: {error}"


def http_request_bytes(path="/v1/data", method="GET", headers=()):
    lines = [f"{method} {path} HTTP/1.1", "Host: b.example.org", "Connection: close"]
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(response):
    """The status code of a raw HTTP/1.1 response, or None."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    return int(match.group(1)) if match else None


def body_of(response):
    return response.partition(b"\r\n\r\n")[2]


# --- audit -----------------------------------------------------------------

# The detail of a proxy.request record: "decision <uuid>: <reason>".
DECISION_DETAIL = re.compile(
    r"^decision [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}: ")


def audit_verify(path):
    """Runs `warden audit verify --json PATH`; returns (exit code, output)."""
    result = subprocess.run([wardenlib.WARDEN, "audit", "verify", "--json", path],
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


def audit_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class WorkDir:
    """A scratch directory removed at the end."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def join(self, *names):
        return os.path.join(self.path, *names)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

