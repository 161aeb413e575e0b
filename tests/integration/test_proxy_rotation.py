#!/usr/bin/python3
"""SVID rotation under load: both proxies take their identities from a
real `warden agent` whose entries give X.509-SVIDs a 4 s lifetime, and wrk
drives HTTP traffic through curl's path (outbound -> inbound -> nginx) for
12 s, on kept-alive connections and on a new connection per request. No
request may fail while each proxy rotates its SVID several times."""
import os
import re
import subprocess
import sys
import unittest

import proxylib
import wardenlib
from proxylib import ID_A, ID_B
from wardenlib import Server

SKIP_REASON = proxylib.missing_tools(proxylib.NGINX, proxylib.CURL, proxylib.WRK)

# The shortest lifetime the server would issue is 1 s, but the agent
# renews at about half the lifetime after a sync, so 4 s with a 1 s sync
# interval still leaves each SVID 1 s or more of validity when replaced.
SVID_TTL = 4
LOAD_SECONDS = 12
GID_A = 4301
GID_B = 4302

# notBefore 1 s in the past, so the agent renews at half the real lifetime.
SERVER_CONFIG = "identity:\n  clock_skew: 1s\n"


def run_with_gid(gid):
    """A preexec_fn giving the proxy its own primary group, which selects
    its registration entry (unix:gid)."""
    def switch():
        os.setgroups([])
        os.setgid(gid)
    return switch


def parse_wrk(output):
    """Returns (requests, socket errors, non-2xx/3xx responses) from wrk's
    summary; wrk prints the last two lines only when they are not zero."""
    requests = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (int(requests.group(1)) if requests else 0,
            sum(int(n) for n in errors.groups()) if errors else 0,
            int(non_2xx.group(1)) if non_2xx else 0)


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class RotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = proxylib.WorkDir("warden-proxy-rotation-")
        cls.addClassCleanup(cls.work.cleanup)
        cls.server = Server("example.org", config=SERVER_CONFIG)
        cls.addClassCleanup(cls.server.cleanup)
        token = cls.server.join_token()
        agent_id = token["spiffe_id"] if "spiffe_id" in token else token["agent_id"]
        for spiffe_id, gid in ((ID_A, GID_A), (ID_B, GID_B)):
            cls.server.create_entry(spiffe_id, agent_id,
                                    selectors=("unix:uid:0", f"unix:gid:{gid}"),
                                    x509_svid_ttl=SVID_TTL)
        cls.agent = proxylib.Agent(cls.server, cls.work.path, token["token"])
        cls.addClassCleanup(cls.agent.stop)
        cls.nginx = proxylib.Nginx(cls.work.path)
        cls.addClassCleanup(cls.nginx.stop)
        cls.proxies = []
        policy_path = proxylib.write_file(cls.work.join("allow-a.rego"),
                                          proxylib.ALLOW_A_POLICY, 0o644)
        identity = ["--workload-api", cls.agent.socket]
        cls.inbound = cls.start(
            "rotation-in", proxylib.inbound_args("127.0.0.1:0", cls.nginx.address, http=True)
            + identity + ["--policy", policy_path], GID_B)
        cls.outbound = cls.start(
            "rotation-out", proxylib.outbound_args("127.0.0.1:0", cls.inbound.address(),
                                                   expect=(ID_B,), http=True)
            + identity, GID_A)

    @classmethod
    def start(cls, name, args, gid):
        proxy = proxylib.Proxy(cls.work.path, name, args + ["--access-log", "off"],
                               access_log=False, preexec_fn=run_with_gid(gid))
        cls.proxies.append(proxy)
        cls.addClassCleanup(proxy.stop)
        return proxy

    def generations(self):
        return [proxy.metric("warden_proxy_identity_generation") for proxy in self.proxies]

    def test_chain_before_load(self):
        result = proxylib.curl(f"http://{self.outbound.address()}/v1/data")
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.body, proxylib.DATA_BODY)

    def test_rotation_under_load(self):
        url = f"http://{self.outbound.address()}/v1/data"
        before = self.generations()
        wrk_common = [proxylib.WRK, "-d", f"{LOAD_SECONDS}s", "--timeout", "5s", "--latency"]
        runs = {
            "keep-alive": subprocess.Popen(wrk_common + ["-t", "2", "-c", "16", url],
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True),
            # One TLS handshake per request, so many of them use rotated SVIDs.
            "close": subprocess.Popen(wrk_common + ["-t", "1", "-c", "4",
                                                    "-H", "Connection: close", url],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True),
        }
        outputs = {}
        try:
            for name, process in runs.items():
                outputs[name] = process.communicate(timeout=LOAD_SECONDS + 30)[0]
        finally:
            for process in runs.values():
                proxylib.stop_process(process)
        after = self.generations()

        for name, output in outputs.items():
            with self.subTest(run=name):
                requests, socket_errors, non_2xx = parse_wrk(output)
                self.assertEqual(runs[name].returncode, 0, output)
                self.assertGreater(requests, 100, output)
                self.assertEqual(socket_errors, 0, output)
                self.assertEqual(non_2xx, 0, output)
        for proxy, first, last in zip(self.proxies, before, after):
            with self.subTest(proxy=proxy.name):
                self.assertGreaterEqual(last - first, 2,
                                        f"identity generation {first} -> {last}")
        self.assertEqual(self.outbound.metric("warden_proxy_connections_refused_total",
                                              reason="tls"), 0)
        self.assertEqual(self.inbound.metric("warden_proxy_connections_refused_total",
                                             reason="tls"), 0)


if __name__ == "__main__":
    if SKIP_REASON is not None:
        print(f"SKIP: {SKIP_REASON}")
        sys.exit(wardenlib.SKIP_EXIT)
    if os.geteuid() != 0:
        print("SKIP: needs root to run each proxy under its own group id")
        sys.exit(wardenlib.SKIP_EXIT)
    wardenlib.main()
