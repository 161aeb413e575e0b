"""The measured part of bench/scale.sh: starts a throwaway PostgreSQL 15
cluster with pg_stat_statements and `warden server` processes on it, runs
the drivers and writes every number to a JSON file for report.py.

1. Issuance: bench_api (POST /v1/svid/x509 with a node SVID) against one
   server, then against three servers on the same database at once, with
   the threads split evenly. CPU seconds of each server, of all PostgreSQL
   processes and of the machine come from /proc.
2. Datastore load: bench_scale simulates many agents syncing
   GET /v1/node/entries with one server. pg_stat_statements counts the
   statements the server's role ran in each window; a window without
   agents gives the server's own background rate, which is reported apart.

Reuses tests/integration/pglib.py and wardenlib.py, which set up the same
cluster and servers for test_multi_server.py. Runs as root (PostgreSQL runs
as the postgres user through runuser)."""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import pglib  # noqa: E402
import wardenlib  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
TRUST_DOMAIN = "bench.example"
# Every simulated agent connects, and every node attests, from 127.0.0.1;
# the defaults allow 64 connections and 1 attestation a second per address.
SERVER_CONFIG = """identity:
  dns_names: [localhost]
limits:
  max_connections: 8192
  max_connections_per_ip: 8192
  attestations_per_second: 10000
  attestation_burst: 10000
"""


def progress(message):
    print(f"[bench-scale {time.strftime('%H:%M:%S', time.gmtime())}] {message}",
          file=sys.stderr, flush=True)


class StatsPostgres(pglib.Postgres):
    """pglib's cluster with pg_stat_statements loaded at start, and room for
    the connections of three servers."""

    def _initdb(self):
        super()._initdb()
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\n")
            f.write("pg_stat_statements.track = all\n")
            f.write("max_connections = 200\n")

    def monitor(self, sql, database="warden"):
        """Runs sql as the bootstrap superuser, whose statements are not
        counted with the server's."""
        return self.psql(sql, user="postgres", password=self.bootstrap_password,
                         database=database)

    def postmaster_pid(self):
        with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
            return int(f.readline())


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name may contain spaces, but the fields after it cannot.
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid, with_children=False):
    """User + system CPU of pid (fields 14 and 15 of /proc/PID/stat), and of
    its exited children (16 and 17) when asked."""
    try:
        fields = proc_stat(pid)
    except OSError:
        return 0.0
    # proc_stat drops the first two fields: field N is fields[N - 3].
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def postgres_cpu(pg):
    """CPU seconds of the postmaster, its live children and its exited ones."""
    master = pg.postmaster_pid()
    total = cpu_seconds(master, with_children=True)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if int(proc_stat(int(name))[1]) == master:
                total += cpu_seconds(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_ticks():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    return busy / CLK_TCK, sum(fields[:8]) / CLK_TCK


class CpuWindow:
    """CPU seconds of the servers, PostgreSQL and the machine over a window."""

    def __init__(self, pg, servers):
        self.pg = pg
        self.servers = servers
        self.start = time.monotonic()
        self.server_cpu = [cpu_seconds(s.process.pid) for s in servers]
        self.pg_cpu = postgres_cpu(pg)
        self.machine = machine_ticks()
        self.loadavg = open("/proc/loadavg").read().split()[:3]

    def finish(self):
        seconds = time.monotonic() - self.start
        busy, total = machine_ticks()
        return {
            "seconds": round(seconds, 3),
            "server_cpu_s": [round(cpu_seconds(s.process.pid) - before, 2)
                             for s, before in zip(self.servers, self.server_cpu)],
            "postgres_cpu_s": round(postgres_cpu(self.pg) - self.pg_cpu, 2),
            "machine_busy_s": round(busy - self.machine[0], 2),
            "machine_total_s": round(total - self.machine[1], 2),
            "loadavg_at_start": self.loadavg,
        }


def statement_counts(pg):
    """calls per statement of the server's role, by queryid."""
    rows = pg.monitor(
        "SELECT s.queryid, s.calls, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 120) "
        "FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
        f"WHERE r.rolname = '{pg.admin_user}'")
    return {row[0]: (int(row[1]), row[2]) for row in rows}


# Transaction control, and the advisory lock the store takes in every
# transaction: statements that read or write no table.
CONTROL_PREFIXES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT",
                    "ROLLBACK TO SAVEPOINT", "SELECT pg_advisory_xact_lock")


def is_control(text):
    return text.startswith(CONTROL_PREFIXES)


def commits(pg):
    rows = pg.monitor("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                      "WHERE datname = 'warden'")
    return int(rows[0][0])


class StatementWindow:
    """Statements and transactions of the server's role over a window."""

    def __init__(self, pg):
        self.pg = pg
        self.start = time.monotonic()
        self.counts = statement_counts(pg)
        self.commits = commits(pg)

    def finish(self):
        seconds = time.monotonic() - self.start
        after = statement_counts(self.pg)
        transactions = commits(self.pg) - self.commits
        diff = []
        for queryid, (calls, text) in after.items():
            delta = calls - self.counts.get(queryid, (0, text))[0]
            if delta > 0:
                diff.append((delta, text))
        diff.sort(reverse=True)
        total = sum(calls for calls, _ in diff)
        control = sum(calls for calls, text in diff if is_control(text))
        begins = sum(calls for calls, text in diff if text.startswith("BEGIN"))
        return {
            "seconds": round(seconds, 3),
            "statements": total,
            "statements_per_s": round(total / seconds, 1),
            "data_statements": total - control,
            "data_statements_per_s": round((total - control) / seconds, 1),
            "transactions": begins,
            "pg_stat_database_transactions": transactions,
            "top": [{"calls": calls, "query": text} for calls, text in diff[:10]],
        }


def start_first_server(pg, url):
    server = wardenlib.Server(trust_domain=TRUST_DOMAIN, config=SERVER_CONFIG, datastore=url)
    init = server.vault_raw("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1},
                            token="")
    assert init.status == 200, init
    key = init.json()["keys"][0]
    unseal = server.admin("PUT", "/v1/sys/unseal", {"key": key})
    assert unseal.status == 200, unseal
    assert unseal.json()["sealed"] is False, unseal
    return server, key


def start_more_server(url, key):
    server = wardenlib.Server(trust_domain=TRUST_DOMAIN, config=SERVER_CONFIG, datastore=url)
    unseal = server.admin("PUT", "/v1/sys/unseal", {"key": key})
    assert unseal.status == 200, unseal
    assert unseal.json()["sealed"] is False, unseal
    return server


def wait_serving(server):
    """Waits until the identity API takes an attestation, which needs the
    shared CA after the unseal; returns (agent_id, cert, key)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return server.new_agent()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def run_api(build_dir, server, cert, key, entry_id, threads, seconds):
    return subprocess.Popen(
        [os.path.join(build_dir, "bench", "bench_api"), "--port", str(server.port),
         "--cert", cert, "--key", key, "--bundle", server.bundle_path, "--entry-id", entry_id,
         "--threads", str(threads), "--seconds", str(seconds), "--csrs", "64"],
        stdout=subprocess.PIPE, text=True)


def parse_fields(line):
    return dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)


def issuance(build_dir, pg, servers, node, threads, seconds):
    """Runs bench_api against every server at once, threads split evenly.
    node is (cert, key, entry id): a node SVID and an entry parented to it."""
    cert, key, entry_id = node
    per_server = max(threads // len(servers), 1)
    window = CpuWindow(pg, servers)
    processes = [run_api(build_dir, s, cert, key, entry_id, per_server, seconds)
                 for s in servers]
    outputs = [p.communicate()[0] for p in processes]
    cpu = window.finish()
    results = []
    for process, output in zip(processes, outputs):
        line = next((x for x in output.splitlines() if x.startswith("api ")), "")
        if process.returncode != 0 or not line:
            raise RuntimeError(f"bench_api exited {process.returncode}: {output}")
        results.append(parse_fields(line))
    total = sum(float(r["rate"]) for r in results)
    return {"servers": len(servers), "threads": per_server * len(servers),
            "rate": round(total, 1), "per_server": results, "cpu": cpu}


def make_nodes(server, count, directory):
    """Attests count nodes with one shared key over one connection; writes
    node-N.pem and node.key. Returns the nodes' SPIFFE IDs."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = wardenlib.csr_pem(key, "bench-node")
    tokens = []

    admin = wardenlib.UnixHTTPConnection(server.admin_socket)
    for _ in range(count):
        admin.request("POST", "/v1/tokens")
        response = admin.getresponse()
        body = response.read()
        assert response.status == 201, body
        tokens.append(json.loads(body)["token"])
    admin.close()

    conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=30,
                                       context=server.tls_context())
    ids = []
    for n, token in enumerate(tokens):
        conn.request("POST", "/v1/node/attest", body=json.dumps({"join_token": token, "csr": csr}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
        reply = json.loads(body)
        with open(os.path.join(directory, f"node-{n}.pem"), "w") as f:
            f.write(reply["svid"])
        ids.append(reply["spiffe_id"])
    conn.close()

    key_path = os.path.join(directory, "node.key")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(wardenlib.key_pem(key))
    return ids, key_path


def make_entries(server, node_ids, per_node):
    """Creates per_node entries under every node; returns their ids."""
    conn = wardenlib.UnixHTTPConnection(server.admin_socket)
    ids = []
    for n, node in enumerate(node_ids):
        for e in range(per_node):
            body = {"spiffe_id": f"spiffe://{TRUST_DOMAIN}/bench/n{n}/w{e}", "parent_id": node,
                    "selectors": [f"unix:uid:{1000 + e}"]}
            conn.request("POST", "/v1/entries", body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            assert response.status == 201, data
            ids.append(json.loads(data)["id"])
    conn.close()
    return ids


class Churn(threading.Thread):
    """Changes entries at a fixed rate through the admin API (PATCH of the
    selectors), walking the entries in turn."""

    def __init__(self, server, entry_ids, per_second):
        super().__init__(daemon=True)
        self.server = server
        self.entry_ids = entry_ids
        self.interval = 1.0 / per_second
        self.stop = threading.Event()
        self.changes = 0
        self.errors = 0

    def run(self):
        conn = wardenlib.UnixHTTPConnection(self.server.admin_socket)
        due = time.monotonic()
        while not self.stop.is_set():
            entry_id = self.entry_ids[self.changes % len(self.entry_ids)]
            body = {"selectors": [f"unix:uid:{2000 + self.changes % 1000}"]}
            conn.request("PATCH", f"/v1/entries/{urllib.parse.quote(entry_id)}",
                         body=json.dumps(body), headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status == 200:
                self.changes += 1
            else:
                self.errors += 1
                if self.errors == 1:
                    progress(f"churn: HTTP {response.status}: {data[:200]!r}")
            due += self.interval
            self.stop.wait(max(0.0, due - time.monotonic()))
        conn.close()


def sync_window(args, pg, server, nodes_dir, key_path, node_count, full, churn_per_s,
                entry_ids):
    command = [os.path.join(args.build_dir, "bench", "bench_scale"), "--port", str(server.port),
               "--nodes-dir", nodes_dir, "--node-count", str(node_count), "--key", key_path,
               "--bundle", server.bundle_path, "--agents", str(args.agents),
               "--period", str(args.period), "--seconds", str(args.sync_seconds),
               "--threads", str(args.sync_threads)]
    if full:
        command.append("--full")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    lines = {}
    statements = cpu = None
    churn = None
    for line in process.stdout:
        if line.startswith("window_start"):
            statements = StatementWindow(pg)
            cpu = CpuWindow(pg, [server])
            if churn_per_s:
                churn = Churn(server, entry_ids, churn_per_s)
                churn.start()
        elif line.startswith("window "):
            result = statements.finish()
            result["cpu"] = cpu.finish()
            lines["window"] = parse_fields(line)
        elif line.startswith("warmup "):
            lines["warmup"] = parse_fields(line)
    process.wait()
    if churn:
        churn.stop.set()
        churn.join()
    if process.returncode != 0 or "window" not in lines:
        raise RuntimeError(f"bench_scale exited {process.returncode}")
    result["driver"] = lines["window"]
    result["warmup"] = lines["warmup"]
    result["mode"] = "full" if full else "delta"
    result["churn_per_s"] = churn_per_s
    result["changes"] = churn.changes if churn else 0
    syncs = int(lines["window"]["syncs"])
    result["syncs"] = syncs
    return result


def background_window(pg, server, seconds):
    statements = StatementWindow(pg)
    cpu = CpuWindow(pg, [server])
    time.sleep(seconds)
    result = statements.finish()
    result["cpu"] = cpu.finish()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--api-threads", type=int, default=6)
    parser.add_argument("--api-seconds", type=int, default=10)
    parser.add_argument("--api-reps", type=int, default=3)
    parser.add_argument("--agents", type=int, default=10000)
    parser.add_argument("--period", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--entries-per-node", type=int, default=3)
    parser.add_argument("--sync-seconds", type=int, default=40)
    parser.add_argument("--sync-threads", type=int, default=4)
    parser.add_argument("--churn-percent-per-minute", type=float, default=1.0)
    args = parser.parse_args()
    wardenlib.WARDEN = os.path.join(args.build_dir, "warden")

    reason = pglib.missing_requirement()
    if reason is None and not os.path.exists(
            "/usr/share/postgresql/15/extension/pg_stat_statements.control"):
        reason = "pg_stat_statements is not installed (postgresql-contrib-15)"
    if reason is not None:
        print(f"SKIP: {reason}")
        sys.exit(pglib.SKIP_EXIT)

    results = {"args": vars(args)}
    servers = []
    pg = StatsPostgres(database="warden")
    try:
        pg.monitor("CREATE EXTENSION pg_stat_statements")
        url = (f"postgresql://{pg.admin_user}:{pg.admin_password}@/warden"
               f"?host={pg.socket_dir}")
        first, key = start_first_server(pg, url)
        servers.append(first)
        wait_serving(first)
        for _ in range(2):
            servers.append(start_more_server(url, key))
        for server in servers[1:]:
            wait_serving(server)
        # One server and three alternate, so a change in the machine's other
        # load falls on both; the report takes the median run of each.
        agent_id, cert, node_key = first.new_agent()
        entry = first.create_entry(f"spiffe://{TRUST_DOMAIN}/bench/issue", agent_id)
        node = (cert, node_key, entry["id"])
        runs = {"issue_one": [], "issue_three": []}
        for rep in range(args.api_reps):
            for name, group in (("issue_one", servers[:1]), ("issue_three", servers)):
                run = issuance(args.build_dir, pg, group, node, args.api_threads,
                               args.api_seconds)
                runs[name].append(run)
                progress(f"issuance rep {rep + 1}, {len(group)} server(s): "
                         f"{run['rate']} SVIDs/s")
        for name, group_runs in runs.items():
            ordered = sorted(group_runs, key=lambda run: run["rate"])
            results[name] = ordered[len(ordered) // 2]
            results[name]["rates"] = [run["rate"] for run in group_runs]
        for server in servers[1:]:
            server.cleanup()
        del servers[1:]

        nodes_dir = os.path.join(first.dir, "nodes")
        os.mkdir(nodes_dir)
        progress(f"attesting {args.nodes} nodes")
        node_ids, node_key = make_nodes(first, args.nodes, nodes_dir)
        progress(f"creating {args.nodes * args.entries_per_node} entries")
        entry_ids = make_entries(first, node_ids, args.entries_per_node)
        simulated_entries = args.agents * args.entries_per_node
        churn_per_s = simulated_entries * args.churn_percent_per_minute / 100 / 60
        results["setup"] = {"nodes": args.nodes, "entries": len(entry_ids),
                            "simulated_entries": simulated_entries,
                            "churn_per_s": round(churn_per_s, 3)}
        progress("background: the server alone")
        results["background"] = background_window(pg, first, min(args.sync_seconds, 10))
        for name, full, churn in (("delta_idle", False, 0), ("delta_churn", False, churn_per_s),
                                  ("full_idle", True, 0)):
            progress(f"sync window {name}")
            results[name] = sync_window(args, pg, first, nodes_dir, node_key, args.nodes, full,
                                        churn, entry_ids)
            progress(f"  {results[name]['statements_per_s']} statements/s at "
                     f"{results[name]['driver']['rate']} syncs/s")
    finally:
        for server in servers:
            server.cleanup()
        pg.stop()
    with open(args.output, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
