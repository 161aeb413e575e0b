"""A throwaway PostgreSQL 15 cluster for integration tests.

The server binaries refuse to run as root, so the cluster runs as the
postgres user (through runuser) in a temporary directory owned by it. It
listens on a Unix socket in that directory only (no TCP), and every local
connection needs a password (scram-sha-256), so a wrong or revoked password
fails to log in as it would on a real server.

The cluster has a bootstrap superuser "postgres", a superuser "warden" for
the secrets service to administer, and a database "app". Clients run as the
calling user (root in CI), which can reach the socket.

A test that cannot run (no PostgreSQL binaries, no runuser, no postgres
user) calls skip_unless_available(), which prints the reason and exits 77."""
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
RUNUSER = "/usr/sbin/runuser"
PG_USER = "postgres"
SKIP_EXIT = 77

# Field separator of psql's unaligned output: a byte no test value contains.
FIELD_SEPARATOR = "\x1f"


def missing_requirement():
    """Return why a cluster cannot start here, or None when it can."""
    for name in ("initdb", "pg_ctl", "psql"):
        path = os.path.join(PG_BIN, name)
        if not os.access(path, os.X_OK):
            return f"PostgreSQL 15 is not installed: {path} not found"
    if not os.access(RUNUSER, os.X_OK):
        return f"{RUNUSER} not found"
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        return f"no {PG_USER} user to run the PostgreSQL server as"
    if os.geteuid() != 0:
        return "starting PostgreSQL as the postgres user needs root"
    return None


def skip_unless_available():
    """Exit 77 with the reason printed when no cluster can start here."""
    reason = missing_requirement()
    if reason is not None:
        print(f"SKIP: {reason}")
        sys.exit(SKIP_EXIT)


class PsqlError(Exception):
    """psql exited with an error. The message is its stderr."""


class Postgres:
    """A running cluster: call stop() (or use `with`) to end it."""

    def __init__(self, database="app", admin_user="warden"):
        self.dir = tempfile.mkdtemp(prefix="warden-pg-")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.socket_dir = self.dir
        self.database = database
        self.admin_user = admin_user
        self.admin_password = "Warden-" + secrets.token_hex(12)
        self.bootstrap_password = "Postgres-" + secrets.token_hex(12)
        self.started = False

        owner = pwd.getpwnam(PG_USER)
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        os.chmod(self.dir, 0o755)
        try:
            self._initdb()
            self._start()
            self.psql(f'CREATE ROLE "{admin_user}" WITH SUPERUSER LOGIN '
                      f"PASSWORD '{self.admin_password}'",
                      user="postgres", password=self.bootstrap_password, database="postgres")
            self.psql(f'CREATE DATABASE "{database}" OWNER "{admin_user}"',
                      user="postgres", password=self.bootstrap_password, database="postgres")
        except BaseException:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _run_as_postgres(self, args, **kwargs):
        return subprocess.run([RUNUSER, "-u", PG_USER, "--"] + args, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120, **kwargs)

    def _initdb(self):
        password_file = os.path.join(self.dir, "pwfile")
        with open(password_file, "w") as f:
            f.write(self.bootstrap_password + "\n")
        owner = pwd.getpwnam(PG_USER)
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
        os.chmod(password_file, 0o600)
        try:
            self._run_as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data_dir,
                                   "-U", "postgres", "--pwfile", password_file,
                                   "--auth-local=scram-sha-256", "--auth-host=reject",
                                   "--encoding=UTF8", "--locale=C.UTF-8"])
        finally:
            os.unlink(password_file)

        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = ''\n")
            f.write(f"unix_socket_directories = '{self.socket_dir}'\n")
            f.write("fsync = off\n")
            f.write("max_connections = 50\n")

    def _start(self):
        self._run_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir,
                               "-l", self.log_path, "-w", "-t", "60", "start"])
        self.started = True

    def pause(self):
        """Stop the server (pg_ctl -m fast) but keep its files, so that
        resume() brings the same cluster back: an outage of the datastore."""
        self._run_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir,
                               "-m", "fast", "-w", "-t", "60", "stop"])
        self.started = False

    def resume(self):
        """Start the server that pause() stopped."""
        self._start()

    def connection_url(self):
        """The templated URL the secrets engine's config takes."""
        return f"postgresql://{{{{username}}}}:{{{{password}}}}@/{self.database}?host={self.socket_dir}"

    def _client_env(self, password):
        env = dict(os.environ)
        env.pop("PGSERVICE", None)
        env["PGPASSWORD"] = password
        env["PGCONNECT_TIMEOUT"] = "5"
        return env

    def psql_command(self, user, database):
        return [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-F", FIELD_SEPARATOR,
                "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-U", user, "-d", database]

    def psql(self, sql, user=None, password=None, database=None):
        """Run sql and return its rows as lists of strings.

        Connects as the admin superuser unless user and password are given.
        Raises PsqlError with psql's stderr when the login or a statement
        fails."""
        if user is None:
            user, password = self.admin_user, self.admin_password
        result = subprocess.run(self.psql_command(user, database or self.database) + ["-c", sql],
                                env=self._client_env(password or ""), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise PsqlError(result.stderr.strip())
        return [line.split(FIELD_SEPARATOR) for line in result.stdout.splitlines() if line != ""]

    def session(self, user, password):
        """Open a psql session that stays connected (see Session)."""
        return Session(self, user, password)

    def roles(self):
        """Return the set of role names in pg_roles."""
        return {row[0] for row in self.psql("SELECT rolname FROM pg_roles")}

    def log(self):
        """Return the server log so far, for failure messages."""
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """Stop the server at once (pg_ctl -m immediate) and delete its files."""
        if self.started:
            subprocess.run([RUNUSER, "-u", PG_USER, "--", os.path.join(PG_BIN, "pg_ctl"),
                            "-D", self.data_dir, "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class Session:
    """A long-lived psql process, to check that a server ends live sessions.

    query() sends one statement and waits for its output line. alive() runs
    SELECT 1 and returns whether the backend still returns its row."""

    def __init__(self, postgres, user, password):
        self.process = subprocess.Popen(
            postgres.psql_command(user, postgres.database),
            env=postgres._client_env(password), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        if not self.alive():
            stderr = self.close()
            raise PsqlError(f"session for {user} did not start: {stderr}")

    def query(self, sql, timeout=10):
        """Return the first output line of sql, or None when psql is gone."""
        if self.process.poll() is not None:
            return None
        marker = "__done_" + secrets.token_hex(4)
        try:
            self.process.stdin.write(f"{sql};\n\\echo {marker}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line == "":
                return None
            line = line.rstrip("\n")
            if line == marker:
                return lines[0] if lines else ""
            lines.append(line)
        return None

    def alive(self):
        return self.query("SELECT 1") == "1"

    def close(self):
        """End psql by its pid and return its stderr."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            _, stderr = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            stderr = ""
        return stderr or ""
