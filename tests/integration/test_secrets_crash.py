#!/usr/bin/python3
"""Crash safety of dynamic credentials. A client requests 200 PostgreSQL
credentials with a 5 s TTL while the server is killed with SIGKILL at
random moments, restarted on the same data directory and unsealed with the
saved key. Each lease is stored before its role is created. So once the
TTL has passed, no role made by warden may remain in pg_roles. Every
credential the client received must have its lease id in the server's
audit chain, and sys/leases/lookup finds it when the lookup ran before a
kill."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

import pglib
import wardenlib
from wardenlib import Server

REQUESTS = 200
TTL_SECONDS = 5
KILLS = 15
# Delay of a kill after the request it is aimed at starts, in seconds. A
# request takes a few milliseconds, so kills land before, during and just
# after the lease is stored and the role created.
KILL_DELAY = (0.0, 0.012)
CREATION = ['CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' '
            "VALID UNTIL '{{expiration}}'"]


class RestartableServer(Server):
    """A non-dev server that can be killed and started again on its data
    directory. Each start listens on new ports and writes a new log."""

    def __init__(self):
        super().__init__("example.org", localhost_name=True)
        self.args = list(self.process.args)
        self.starts = 1
        self.unseal_key = None

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def start_again(self):
        self.log.close()
        os.rename(self.log_path, f"{self.log_path}.{self.starts}")
        self.starts += 1
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = self._wait_ready()
        if self.unseal_key:
            self.unseal()

    def unseal(self):
        import hvac
        client = hvac.Client(url=self.vault_url, verify=self.bundle_path)
        status = client.sys.submit_unseal_key(self.unseal_key)
        client.adapter.close()
        if status["sealed"]:
            raise RuntimeError(f"still sealed after the unseal key: {status}")

    def all_logs(self):
        text = ""
        for n in range(1, self.starts):
            with open(f"{self.log_path}.{n}") as f:
                text += f.read()
        return text + self.read_log()


class Killer:
    """Kills the server after a random delay and starts it again, in a
    thread, while requests go on. ready is clear while the server is down;
    a failed start is saved in error."""

    def __init__(self, server):
        self.server = server
        self.ready = threading.Event()
        self.ready.set()
        self.thread = None
        self.kills = 0
        self.error = None

    def kill_soon(self):
        self.ready.clear()
        self.thread = threading.Thread(target=self._run, args=(random.uniform(*KILL_DELAY),),
                                       daemon=True)
        self.thread.start()

    def _run(self, delay):
        try:
            time.sleep(delay)
            self.server.kill()
            self.kills += 1
            self.server.start_again()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.ready.set()

    def wait(self):
        if self.thread is not None:
            self.thread.join(60)


def audited_lease_ids(data_dir):
    """Return the lease ids of every vault.response record in the audit log."""
    ids = set()
    with open(os.path.join(data_dir, "audit.log")) as f:
        for line in f:
            record = json.loads(line)
            if record.get("action") != "vault.response":
                continue
            detail = record.get("detail")
            if isinstance(detail, str):
                detail = json.loads(detail)
            if detail.get("lease_id"):
                ids.add(detail["lease_id"])
    return ids


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.pg = pglib.Postgres()
        try:
            self.server = RestartableServer()
        except BaseException:
            self.pg.stop()
            raise

    def tearDown(self):
        self.server.cleanup()
        self.pg.stop()

    def client(self, token=None):
        import hvac
        return hvac.Client(url=self.server.vault_url, token=token, verify=self.server.bundle_path,
                           timeout=10)

    def set_up_vault(self):
        import hvac
        client = self.client()
        init = client.sys.initialize(secret_shares=1, secret_threshold=1)
        client.adapter.close()
        self.server.unseal_key = init["keys"][0]
        self.root_token = init["root_token"]
        self.server.unseal()
        client = self.client(self.root_token)
        client.sys.enable_secrets_engine("database", path="database")
        client.secrets.database.configure(
            "pg", "postgresql-database-plugin", allowed_roles=["app"],
            connection_url=self.pg.connection_url(), username=self.pg.admin_user,
            password=self.pg.admin_password)
        client.secrets.database.create_role(
            "app", db_name="pg", creation_statements=CREATION, default_ttl=TTL_SECONDS,
            max_ttl=TTL_SECONDS)
        client.adapter.close()
        return hvac

    def warden_roles(self):
        return {name for name in self.pg.roles() if name.startswith("v-")}

    def test_credentials_survive_kills(self):
        import requests
        hvac = self.set_up_vault()
        killer = Killer(self.server)
        kill_at = set(random.sample(range(REQUESTS), KILLS))
        received = {}        # lease id -> username
        looked_up = set()    # lease ids sys/leases/lookup found
        failures = 0

        try:
            for index in range(REQUESTS):
                if not killer.ready.wait(60) or killer.error is not None:
                    break
                if index in kill_at:
                    killer.kill_soon()
                client = self.client(self.root_token)
                try:
                    reply = client.secrets.database.generate_credentials("app")
                except (hvac.exceptions.VaultError, OSError, ValueError,
                        requests.exceptions.RequestException):
                    failures += 1
                    client.adapter.close()
                    continue
                received[reply["lease_id"]] = reply["data"]["username"]
                try:
                    lookup = client.sys.read_lease(reply["lease_id"])
                    if lookup["data"]["id"] == reply["lease_id"]:
                        looked_up.add(reply["lease_id"])
                except (hvac.exceptions.VaultError, OSError,
                        requests.exceptions.RequestException):
                    pass
                client.adapter.close()
        finally:
            killer.wait()
        if killer.error is not None:
            self.fail(f"restart failed after {killer.kills} kills: {killer.error}\n"
                      f"{self.server.all_logs()[-4000:]}")
        issued = set(re.findall(r"credentials issued .*\blease_id=(\S+)", self.server.all_logs()))
        print(f"received {len(received)} credentials, {failures} requests failed, "
              f"{killer.kills} kills, {len(looked_up)} leases looked up, "
              f"{len(issued - set(received))} issued but lost in flight", file=sys.stderr)
        self.assertEqual(killer.kills, KILLS)
        self.assertGreater(len(received), 20)

        # The server must be up and unsealed to revoke what expired while
        # it was down; then every role goes once its TTL has passed.
        self.server.kill()
        self.server.start_again()
        deadline = time.monotonic() + TTL_SECONDS + 60
        while self.warden_roles() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = self.warden_roles()
        self.assertEqual(left, set(), f"roles outlived their leases:\n"
                         f"{self.server.all_logs()[-4000:]}")
        for username in received.values():
            self.assertNotIn(username, left)

        # Every credential that reached the client was leased: its lease id
        # is in the audit chain, which is intact after the kills.
        self.server.stop()
        missing = set(received) - audited_lease_ids(self.server.data_dir)
        self.assertEqual(missing, set(), "credentials without an audited lease")
        verify = subprocess.run([wardenlib.WARDEN, "audit", "verify",
                                 os.path.join(self.server.data_dir, "audit.log")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(verify.returncode, 0, verify.stdout)
        self.assertGreater(len(looked_up), len(received) // 2)


if __name__ == "__main__":
    pglib.skip_unless_available()
    try:
        import hvac  # noqa: F401
    except ImportError:
        print("SKIP: python3-hvac is not installed")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
