#!/usr/bin/python3
"""GET /metrics of `warden server`, scraped with curl and a client
X.509-SVID as Prometheus would: the text format 0.0.4 with HELP and TYPE
for every metric, request and sync counters with exact values, a lone
server holding the singleton lock, and a request without a client
certificate refused. With WARDEN_TEST_DATASTORE=postgres, two servers on
one datastore report one holder between them and count the changes that
one notifies to the other."""
import re
import subprocess
import unittest

import wardenlib
from wardenlib import Server, start_peer, wait_until

CURL = "/usr/bin/curl"
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def curl_metrics(server, *args):
    """Runs curl on server's /metrics with args; returns its output: the
    headers, a blank line, then the body."""
    url = f"https://localhost:{server.port}/metrics"
    result = subprocess.run(
        [CURL, "-sS", "-i", "--max-time", "10", "--cacert", server.bundle_path,
         "--resolve", f"localhost:{server.port}:127.0.0.1", *args, url],
        capture_output=True, text=True, check=True)
    return result.stdout


class Scraper:
    """Scrapes one server's /metrics with a client SVID of its own."""

    def __init__(self, server):
        self.server = server
        minted = server.mint("spiffe://example.org/monitoring")
        self.cert = server.write("monitoring.pem", minted["svid"])
        self.key = server.write("monitoring.key", minted["private_key"])

    def scrape(self):
        """Returns the content type and {name or name{labels}: value}, after
        checking that every sample's metric has HELP and TYPE lines first."""
        output = curl_metrics(self.server, "--cert", self.cert, "--key", self.key)
        head, body = output.split("\n\n", 1)
        status = head.split("\n")[0]
        if status.split()[1] != "200":
            raise AssertionError(f"{status}\n{body}")
        content_type = re.search(r"(?im)^content-type: (.*)$", head).group(1).strip()
        helped, typed, samples = set(), {}, {}
        for line in body.splitlines():
            if line.startswith("# HELP "):
                helped.add(line.split()[2])
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split()
                typed[name] = kind
            else:
                match = SAMPLE.match(line)
                if not match:
                    raise AssertionError(f"not a sample line: {line!r}")
                name, labels, value = match.groups()
                if name not in helped or name not in typed:
                    raise AssertionError(f"{name} has no HELP or TYPE line before it")
                samples[name + (labels or "")] = float(value)
        return content_type, samples, typed


class LoneServerMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org", localhost_name=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_counters_and_singleton(self):
        scraper = Scraper(self.server)
        # On PostgreSQL the lone server takes the lock at its first tick.
        self.assertTrue(wait_until(
            lambda: scraper.scrape()[1]["warden_server_singleton_holder"] == 1, 5))
        _, base, _ = scraper.scrape()

        agent_id, cert, key = self.server.new_agent()    # admin: token; node: attest
        revision = self.server.tls("GET", "/v1/node/entries?since=0", cert=cert,
                                   key=key).json()["revision"]
        for _ in range(2):
            reply = self.server.tls("GET", f"/v1/node/entries?since={revision}&unchanged=ok",
                                    cert=cert, key=key).json()
            self.assertEqual(reply["unchanged"], True)
        response = self.server.tls("GET", "/v1/node/entries?since=x", cert=cert, key=key)
        self.assertEqual(response.status, 400, response)

        content_type, samples, types = scraper.scrape()
        self.assertEqual(content_type, "text/plain; version=0.0.4")
        self.assertEqual(samples["warden_server_singleton_holder"], 1)
        self.assertEqual(types["warden_server_singleton_holder"], "gauge")
        backend = wardenlib.datastore_under_test()
        self.assertEqual(samples[f'warden_server_datastore_info{{backend="{backend}"}}'], 1)
        self.assertGreaterEqual(samples["warden_server_datastore_latency_seconds"], 0)
        self.assertLess(samples["warden_server_datastore_latency_seconds"], 1)
        self.assertEqual(types["warden_server_requests_total"], "counter")

        def delta(name):
            return samples[name] - base[name]

        # A scrape counts itself once its reply is written.
        self.assertEqual(delta('warden_server_requests_total{class="shared"}'), 1)
        self.assertEqual(delta('warden_server_requests_total{class="admin"}'), 1)
        self.assertEqual(delta('warden_server_requests_total{class="node"}'), 5)
        self.assertEqual(samples['warden_server_requests_total{class="policy"}'], 0)
        self.assertEqual(delta('warden_server_request_errors_total{class="node"}'), 1)
        self.assertEqual(samples['warden_server_request_errors_total{class="admin"}'], 0)
        self.assertEqual(samples["warden_server_entry_syncs_total"], 3)
        self.assertEqual(samples["warden_server_entry_syncs_unchanged_total"], 2)
        self.assertEqual(samples["warden_server_changes_applied_total"], 0)
        self.assertGreater(samples["warden_server_datastore_statements_total"], 0)
        # The first unchanged=ok sync reads the revision, the second does not.
        self.assertEqual(samples['warden_server_cache_misses_total{cache="entry_revision"}'], 1)
        self.assertEqual(samples['warden_server_cache_hits_total{cache="entry_revision"}'], 1)
        self.assertGreater(delta('warden_server_cache_hits_total{cache="caller"}'), 0)
        self.assertEqual(types["warden_server_cache_hits_total"], "counter")

    def test_health_lock_and_latency(self):
        # The lone server holds the lock after its first tick, which also
        # times a round trip to the datastore.
        self.assertTrue(wait_until(
            lambda: self.server.admin("GET", "/v1/health").json()["singleton"], 5))
        self.assertTrue(wait_until(lambda: self.server.admin("GET", "/v1/health").json()[
            "datastore"]["latency_ms"] > 0, 5))
        response = self.server.admin("GET", "/v1/health")
        self.assertEqual(response.status, 200, response)
        health = response.json()
        lock = health["singleton_lock"]
        self.assertEqual(lock["held"], True)
        self.assertNotIn("node", lock)
        if wardenlib.datastore_under_test() == "postgres":
            self.assertEqual(lock["shared"], True)
            self.assertRegex(lock["this_node"], r"^.+:\d+:[0-9a-f]{8}$")
            self.assertEqual(lock["holder_node"], lock["this_node"])
        else:
            self.assertEqual(lock["shared"], False)
            self.assertEqual(lock["this_node"], "")
            self.assertIsNone(lock["holder_node"])
        # Latencies are whole microseconds in milliseconds: at most three
        # decimals in the reply's text.
        body = response.body.decode()
        for field in ("latency_ms", "latency_avg_ms"):
            match = re.search(rf'"{field}":([0-9.eE+-]+)[,}}]', body)
            self.assertIsNotNone(match, body)
            self.assertRegex(match.group(1), r"^\d+(\.\d{1,3})?$", body)
            self.assertGreater(health["datastore"][field], 0, body)
            self.assertLess(health["datastore"][field], 1000, body)

    def test_client_certificate_required(self):
        reply = curl_metrics(self.server)
        status = reply.split("\n", 1)[0]
        self.assertEqual(status.split()[1], "401", reply)
        self.assertNotIn("warden_server_", reply)


class SharedDatastoreMetricsTest(unittest.TestCase):
    def setUp(self):
        if wardenlib.datastore_under_test() != "postgres":
            self.skipTest("needs WARDEN_TEST_DATASTORE=postgres: servers share a datastore")
        self.first = Server("example.org", localhost_name=True)
        self.second = None
        self.second = start_peer(self.first, localhost_name=True)

    def tearDown(self):
        for server in (self.second, self.first):
            if server is not None:
                server.cleanup()

    def test_one_holder_and_changes(self):
        scrapers = [Scraper(self.first), Scraper(self.second)]

        def holders():
            return [s.scrape()[1]["warden_server_singleton_holder"] for s in scrapers]

        # The second server tries the lock at its first tick.
        self.assertTrue(wait_until(lambda: sorted(holders()) == [0, 1], 5), holders())
        # Both report the holder's node, which the other reads from
        # PostgreSQL's pg_stat_activity at its next tick.
        def locks():
            return [server.admin("GET", "/v1/health").json()["singleton_lock"]
                    for server in (self.first, self.second)]

        holder_node = [lock for lock in locks() if lock["held"]][0]["this_node"]
        self.assertTrue(wait_until(lambda: [lock["holder_node"] for lock in locks()] ==
                                   [holder_node, holder_node], 3), locks())
        self.assertNotEqual(locks()[0]["this_node"], locks()[1]["this_node"])
        for scraper in scrapers:
            _, samples, _ = scraper.scrape()
            self.assertEqual(samples['warden_server_datastore_info{backend="postgres"}'], 1)
            self.assertEqual(samples["warden_server_change_listener_up"], 1)

        before = scrapers[1].scrape()[1]["warden_server_changes_applied_total"]
        agent_id, _, _ = self.first.new_agent()
        self.first.create_entry("spiffe://example.org/metrics", agent_id)
        # Attestation and the entry each notify the second server once.
        self.assertTrue(wait_until(lambda: scrapers[1].scrape()[1][
            "warden_server_changes_applied_total"] == before + 2, 2),
            scrapers[1].scrape()[1])
        self.assertEqual(scrapers[0].scrape()[1]["warden_server_changes_applied_total"], 0)

    def test_datastore_outage_reported(self):
        """PostgreSQL stops: /v1/health and /metrics on the admin socket
        report the datastore down within a few ticks, and up again once it
        is back."""
        def health(server):
            response = server.admin("GET", "/v1/health")
            self.assertEqual(response.status, 200, response)
            return response.json()["datastore"]

        def up_gauge(server):
            response = server.admin("GET", "/metrics")
            self.assertEqual(response.status, 200, response)
            match = re.search(r"(?m)^warden_server_datastore_up (\S+)$", response.body.decode())
            self.assertIsNotNone(match, response.body.decode())
            return float(match.group(1))

        self.assertTrue(wait_until(lambda: health(self.first)["up"], 5))
        self.assertEqual(up_gauge(self.first), 1)
        errors = health(self.first)["errors"]

        pg = wardenlib.postgres_cluster()
        pg.pause()
        try:
            # The tick runs once a second; the slack is for sanitizer builds.
            for server in (self.first, self.second):
                self.assertTrue(wait_until(lambda: health(server)["up"] is False, 5),
                                health(server))
                self.assertEqual(up_gauge(server), 0)
            self.assertGreater(health(self.first)["errors"], errors)
        finally:
            pg.resume()
        for server in (self.first, self.second):
            self.assertTrue(wait_until(lambda: health(server)["up"] is True, 10),
                            health(server))
            self.assertEqual(up_gauge(server), 1)


if __name__ == "__main__":
    wardenlib.main()
