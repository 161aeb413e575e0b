#!/usr/bin/python3
"""Write the scale-out benchmark's section of docs/benchmarks.md.

Reads the JSON that bench/scale/run.py writes and replaces the text between
the scale-bench markers of the output page, or appends the section when the
page has none."""

import argparse
import json
import os
import platform
import subprocess

BEGIN = "<!-- scale-bench:begin -->"
END = "<!-- scale-bench:end -->"
# A SPIRE user's MySQL figures, for context: the SPIRE issue "SPIRE has a
# lot of MySQL QPS" (January 2020), about 3,500 agents and 31,000 workloads.
# Of its 47,048 queries a second, 14,861 were prepare and 14,867 close
# statement commands.
SPIRE_AGENTS = 3500
SPIRE_QUERIES_PER_S = 47000
AGENT_SYNC_SECONDS = 5


def machine_facts(build_dir):
    cpus = os.cpu_count()
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory_kib = int(f.readline().split()[1])
    try:
        options = json.loads(subprocess.run(
            ["meson", "introspect", "--buildoptions", build_dir], check=True,
            capture_output=True, text=True).stdout)
        buildtype = next(o["value"] for o in options if o["name"] == "buildtype")
    except (OSError, subprocess.CalledProcessError, StopIteration, ValueError):
        buildtype = "unknown"
    try:
        postgres = subprocess.run(["/usr/lib/postgresql/15/bin/postgres", "--version"],
                                  check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        postgres = "unknown"
    return (f"{cpus} CPUs ({model}), {memory_kib / 1048576:.1f} GiB, Linux "
            f"{platform.release()}, {postgres}, build type {buildtype}")


def issuance_rows(results):
    rows = []
    for key in ("issue_one", "issue_three"):
        run = results[key]
        cpu = run["cpu"]
        per_server = ", ".join(f"{float(r['rate']):.0f}" for r in run["per_server"])
        server_cpu = ", ".join(f"{c:.1f}" for c in cpu["server_cpu_s"])
        errors = sum(int(r["errors"]) for r in run["per_server"])
        p99 = max(float(r["p99_ms"]) for r in run["per_server"])
        rows.append(
            f"| {run['servers']} | {run['threads']} | {run['rate']:.0f} | {per_server} | "
            f"{p99:.1f} | {errors} | {server_cpu} | {cpu['postgres_cpu_s']:.1f} | "
            f"{cpu['machine_busy_s']:.1f} of {cpu['machine_total_s']:.1f} | "
            f"{' '.join(cpu['loadavg_at_start'])} |")
    return rows


def per_sync(window, field, background):
    """Statements per sync, with the server's own background rate over the
    window's length taken off."""
    own = background[f"{field}_per_s"] * window["seconds"]
    syncs = window["syncs"]
    return max(window[field] - own, 0) / syncs if syncs else 0.0


def cpu_ms_per_sync(window, cpu_seconds):
    return f"{1000 * cpu_seconds / max(window['syncs'], 1):.2f}"


def sync_rows(results):
    background = results["background"]
    rows = [
        f"| server alone, no agents | – | – | – | {background['statements_per_s']:.1f} | "
        f"{background['data_statements_per_s']:.1f} | – | – | – | "
        f"{background['cpu']['server_cpu_s'][0]:.2f} | {background['cpu']['postgres_cpu_s']:.2f} "
        "| – | – |"
    ]
    labels = {
        "delta_idle": "delta sync (`?since=REV&unchanged=ok`, as the agent sends it), nothing changes",
        "delta_churn": "delta sync, entries change",
        "full_idle": "full sync (every entry each time), nothing changes",
    }
    for key, label in labels.items():
        window = results[key]
        driver = window["driver"]
        rows.append(
            f"| {label} | {float(driver['rate']):.0f} of {float(driver['target_rate']):.0f} | "
            f"{driver['p99_ms']} | {int(driver['bytes']) / max(window['syncs'], 1):.0f} | "
            f"{window['statements_per_s']:.0f} | "
            f"{window['data_statements_per_s']:.0f} | "
            f"{per_sync(window, 'statements', background):.1f} | "
            f"{per_sync(window, 'data_statements', background):.1f} | {window['changes']} | "
            f"{window['cpu']['server_cpu_s'][0]:.1f} | {window['cpu']['postgres_cpu_s']:.1f} | "
            f"{cpu_ms_per_sync(window, window['cpu']['server_cpu_s'][0])} | "
            f"{cpu_ms_per_sync(window, window['cpu']['postgres_cpu_s'])} |")
    return rows


def top_rows(window):
    syncs = window["syncs"] or 1
    return [f"| {item['calls'] / syncs:.2f} | `{item['query'].replace('|', '&#124;')}` |"
            for item in window["top"]]


def cpu_share(run, who):
    """CPU seconds over the run's length, as a share of one core."""
    cpu = run["cpu"]
    used = sum(cpu["server_cpu_s"]) if who == "server" else cpu["postgres_cpu_s"]
    return f"{used / cpu['seconds']:.0%}"


def texts(results, idle_all):
    """Return the sentences of the section that depend on the measured numbers."""
    opts = results["args"]
    three = results["issue_three"]["cpu"]
    if opts["period"] == AGENT_SYNC_SECONDS:
        period = "The simulation runs at that rate."
    else:
        period = (f"The simulation runs at a period of {opts['period']} s, "
                  f"{AGENT_SYNC_SECONDS / opts['period']:.0%} of that rate, because "
                  f"{os.cpu_count()} CPUs shared by the driver, the server and "
                  "PostgreSQL cannot serve the full rate. The statements per sync do "
                  "not depend on the rate; the figures per agent below are scaled to "
                  f"the {AGENT_SYNC_SECONDS} s interval.")
    busy = three["machine_busy_s"] / max(three["machine_total_s"], 0.01)
    if busy > 0.8:
        busy = f"which the machine-busy column shows at {busy:.0%} of all CPU time"
    else:
        busy = f"with {busy:.0%} of all CPU time in use (the machine-busy column)"
    if idle_reads_entries(results["delta_idle"]):
        delta = (
            "Delta sync shrinks the reply, not the datastore work. Per sync the "
            "server checks the caller (its node record, and whether its SVID's "
            "serial is revoked). Then, in one transaction that takes the lock "
            "shared by all servers, it reads the change counter and runs both "
            "recursive reads (entries changed since the revision, and every "
            "authorized entry id, which the agent needs to drop deleted "
            "entries), whether anything changed or not.")
        future = (
            "- Incremental sync would bring the idle load close to zero only if "
            "an unchanged revision were answered without the datastore: a sync "
            "whose `since` equals the current counter could stop after the "
            "counter read (no recursive reads), a server that learns the counter "
            "from change notifications (LISTEN/NOTIFY) could answer it from "
            "memory, and the caller checks could be kept for the life of the "
            "connection. Read-only transactions would also not need the write lock.")
    elif idle_all < 0.05:
        delta = (
            "An idle delta sync is answered from memory. The server keeps the "
            "entry revision, refreshed by its own entry writes and by other "
            "servers' `entry:SEQ` notifications. It keeps the outcome of the "
            "caller checks (the SVID's serial is not revoked, the node record "
            "accepts it) by serial, and drops them at any revocation or CA change "
            "and at a change of that agent's node record. What the window counts "
            "beyond the server's own tick and lock checks rounds to zero.")
        future = (
            "- Where an idle sync still reaches the datastore: while the change "
            "listener is disconnected (a PostgreSQL restart, say) the server "
            "answers nothing from memory, and each sync costs the three statements "
            "of the caller checks and the counter until the listener reconnects. "
            "After a revocation or a CA change every agent's next request checks "
            "its caller again (two statements), and so does an agent's next "
            "request after its node SVID is renewed. The first sync after an "
            "entry write through this server reads the counter once. A change "
            "written through another server reaches this server's memory when "
            "its notification arrives, and the server reads pending "
            "notifications before it answers from memory.")
    else:
        delta = (
            "An idle delta sync stops after the change counter: no transaction, "
            "no shared lock and no recursive entry reads. The statements left "
            "check the caller (its node record, and whether its SVID's serial is "
            "revoked) and read the counter.")
        future = (
            "- Closer to zero: a server that learns the counter from change "
            "notifications (LISTEN/NOTIFY) could answer it from memory, and the "
            "caller checks could be kept for the life of the connection, which "
            "would leave an idle sync with no statement at all.")
    return period, busy, delta, future


def idle_reads_entries(window):
    """Returns whether the idle window's syncs ran the recursive entry reads."""
    syncs = window["syncs"] or 1
    return any("WITH RECURSIVE" in item["query"] and item["calls"] / syncs >= 0.5
               for item in window["top"])


def section(results, args):
    setup = results["setup"]
    opts = results["args"]
    background = results["background"]
    idle = results["delta_idle"]
    full = results["full_idle"]
    one, three = results["issue_one"], results["issue_three"]
    idle_all = per_sync(idle, "statements", background)
    idle_data = per_sync(idle, "data_statements", background)
    full_all = per_sync(full, "statements", background)
    syncs_per_agent = 1 / AGENT_SYNC_SECONDS
    if idle_reads_entries(idle):
        locked_text = (f", in {SPIRE_AGENTS * syncs_per_agent:,.0f} and "
                       f"{10000 * syncs_per_agent:,.0f} sync transactions a second that "
                       "each take the shared lock")
    else:
        locked_text = ", with no transaction and no lock"
    period_text, busy_text, delta_text, future_text = texts(results, idle_all)
    pg_ms = 1000 * idle["cpu"]["postgres_cpu_s"] / max(idle["syncs"], 1)
    lines = [
        "## Scale-out: several servers on one PostgreSQL datastore",
        "",
        BEGIN,
        "",
        f"Measured {args.started} at revision {args.revision} on "
        f"{machine_facts(args.build_dir)}. Load average (1, 5, 15 min) at the "
        f"start {args.load_start}, at the end {args.load_end}: other work shared the "
        "machine, so the rates are lower bounds. Produced by:",
        "",
        "```",
        args.command,
        "```",
        "",
        "`bench/scale/run.py` starts a throwaway PostgreSQL 15 cluster "
        "(`fsync = off`, Unix socket only, `pg_stat_statements` loaded) and "
        "`warden server` processes with `--datastore` on one database. The "
        "first server is initialized and unsealed before the others start, "
        "because the CA keys move into the datastore at the first unseal; "
        "the others take the same unseal key on their admin sockets. The "
        "clients, the servers and PostgreSQL all run on this one machine.",
        "",
        "### X.509-SVID issuance with one and with three servers",
        "",
        f"`bench/bench_api` loops `POST /v1/svid/x509` (the node agent's "
        f"route: mTLS with a node SVID, a registration entry parented to the "
        f"node, 64 pre-generated CSRs) on keep-alive connections for "
        f"{opts['api_seconds']} s. With three servers one `bench_api` runs "
        f"against each at once, with a third of the threads. All three servers "
        f"run throughout, and the runs with one server and with three "
        f"alternate, {opts.get('api_reps', 1)} of each; the table shows the "
        f"median run of each (all rates: one server "
        f"{', '.join(f'{r:.0f}' for r in one.get('rates', [one['rate']]))}, three "
        f"{', '.join(f'{r:.0f}' for r in three.get('rates', [three['rate']]))}). "
        f"CPU seconds are read from `/proc/PID/stat` over the run: each "
        f"measured server's, and every PostgreSQL process's together.",
        "",
        "| servers | client threads | SVIDs/s | SVIDs/s per server | worst p99 ms | errors "
        "| server CPU s, each | PostgreSQL CPU s | machine busy s of CPU s | load at start |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *issuance_rows(results),
        "",
        f"Three servers issue {three['rate'] / one['rate']:.2f} times as many "
        f"SVIDs per second as one. The one server used "
        f"{cpu_share(one, 'server')} of a core and PostgreSQL "
        f"{cpu_share(one, 'postgres')}; the three servers together used "
        f"{cpu_share(three, 'server')} and PostgreSQL {cpu_share(three, 'postgres')}. "
        "A server runs its requests and its one datastore connection on one "
        "event-loop thread (docs/architecture.md, \"Datastore\"), so it waits "
        "during every statement's round trip, and more servers overlap those waits. "
        f"On {os.cpu_count()} CPUs the servers, the clients and PostgreSQL share "
        f"the same cores, {busy_text}, so this shows the cost of sharing one "
        "datastore rather than what three machines would add. Every issuance "
        "records its serial in a transaction, and the PostgreSQL store takes "
        "one advisory lock shared by all servers at the start of every "
        "transaction (`postgres_begin` in src/store/postgres.c), so the "
        "writes of all servers run one at a time.",
        "",
        "### Datastore load from agent syncs",
        "",
        f"`bench/bench_scale` simulates {opts['agents']:,} agents that each call "
        f"`GET /v1/node/entries` once every {opts['period']} s, spread evenly, "
        f"on one server. Attesting {opts['agents']:,} nodes would take most of "
        f"the run, so the agents share {setup['nodes']:,} real nodes (agent i "
        f"is node i mod {setup['nodes']:,}, each node on its own keep-alive mTLS "
        f"connection, each agent with its own revision), and every node has "
        f"{opts['entries_per_node']} entries: {setup['entries']:,} entries in the "
        f"table. Each window starts after every agent synced once (a full read, "
        f"as at agent start) and lasts {opts['sync_seconds']} s. The churn "
        f"window changes {setup['churn_per_s']} entries a second through the "
        f"admin API (`PATCH /v1/entries/ID`, new selectors): 1% a minute of the "
        f"{setup['simulated_entries']:,} entries that {opts['agents']:,} agents "
        f"with {opts['entries_per_node']} each would have, spread over the real "
        f"entries. The agent's default sync interval is {AGENT_SYNC_SECONDS} s, and "
        f"{opts['agents']:,} agents at that interval make "
        f"{opts['agents'] // AGENT_SYNC_SECONDS:,} syncs a second. {period_text}",
        "",
        "Statements are counted by `pg_stat_statements` for the server's "
        "database role, so the monitoring queries are not in them. "
        "\"Data statements\" leave out transaction control (BEGIN, COMMIT, "
        "SAVEPOINT, RELEASE) and the advisory lock every transaction takes. "
        "The per-sync columns take off the server's own rate without agents "
        "(its tick and lock checks).",
        "",
        "| window | syncs/s done of target | sync p99 ms | reply bytes per sync "
        "| statements/s | data statements/s "
        "| statements per sync | data statements per sync | entries changed | server CPU s "
        "| PostgreSQL CPU s | server CPU ms per sync | PostgreSQL CPU ms per sync |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *sync_rows(results),
        "",
        "The server's statements in the idle delta window, by calls per sync:",
        "",
        "| calls per sync | statement (first 120 characters) |",
        "|---|---|",
        *top_rows(idle),
        "",
        "What this means for the load an idle fleet puts on the datastore:",
        "",
        f"- An idle delta sync costs {idle_all:.1f} statements "
        f"({idle_data:.1f} that touch tables), a full sync {full_all:.1f}. "
        f"{delta_text}",
        f"- At the agent's {AGENT_SYNC_SECONDS} s interval that is "
        f"{idle_all * syncs_per_agent:.2f} statements a second per agent "
        f"({idle_data * syncs_per_agent:.2f} data statements): "
        f"{idle_all * syncs_per_agent * SPIRE_AGENTS:,.0f} a second for "
        f"{SPIRE_AGENTS:,} agents ({idle_data * syncs_per_agent * SPIRE_AGENTS:,.0f} "
        f"data statements) and {idle_all * syncs_per_agent * 10000:,.0f} for "
        f"10,000 agents{locked_text}. At the idle delta window's PostgreSQL CPU per sync "
        f"({cpu_ms_per_sync(idle, idle['cpu']['postgres_cpu_s'])} ms) that is an "
        f"estimated {pg_ms * SPIRE_AGENTS * syncs_per_agent / 1000:.1f} and "
        f"{pg_ms * 10000 * syncs_per_agent / 1000:.1f} cores of this machine for "
        "PostgreSQL alone. For comparison, a SPIRE user reported about "
        f"{SPIRE_QUERIES_PER_S:,} MySQL queries a second with about {SPIRE_AGENTS:,} "
        "agents and 31,000 workloads (SPIRE issue \"SPIRE has a lot of MySQL "
        "QPS\", January 2020), 14,861 of them prepare and 14,867 close-statement "
        "commands. SPIRE 1.8.7 later added an events-based entry cache and a "
        "sync of changed entries only, to reduce that load.",
        future_text,
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--started", required=True)
    parser.add_argument("--revision", required=True)
    parser.add_argument("--load-start", required=True)
    parser.add_argument("--load-end", required=True)
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    with open(args.results) as f:
        results = json.load(f)
    text = section(results, args)
    page = open(args.output).read() if os.path.exists(args.output) else "# Benchmarks\n"
    heading = "## Scale-out: several servers on one PostgreSQL datastore\n\n"
    if BEGIN in page and END in page:
        start = page.index(BEGIN)
        if page[:start].endswith(heading):
            start -= len(heading)
        end = page.index(END) + len(END) + 1
        page = page[:start] + text + page[end:]
    else:
        page = page.rstrip("\n") + "\n\n" + text
    with open(args.output, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
