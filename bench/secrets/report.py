#!/usr/bin/python3
"""Write the secrets benchmark's section of docs/benchmarks.md.

Reads what bench/secrets.sh leaves in its work directory (results.txt with
one line of key=value pairs per measured run, machine.tsv, and the
PostgreSQL log stretches raw/statements-*.log) and replaces the text
between the secrets-bench markers of the output page, or appends the
section when the page has none.
"""

import argparse
import os
import re
import statistics

BEGIN = "<!-- secrets-bench:begin -->"
END = "<!-- secrets-bench:end -->"
TARGET_RATIO = 0.7
# The rate gain from one client to many above which the baseline counts as
# having run cycles in parallel.
PARALLEL_GAIN = 1.2

# Published figures of other implementations, measured on their hardware,
# for context only.
OPENBAO_KV_READS = 27385
VAULT_BENCHMARK_PG_CREDS = 226

# Statements whose text differs per credential are grouped under one
# label: quoted identifiers and literals, and the long schema query.
STATEMENT_LABELS = [
    (re.compile(r"^SELECT pg_catalog.pg_advisory_xact_lock\([0-9]+\); .*DROP ROLE"),
     "LOCK; REVOKE … in every schema; DROP ROLE … (one transaction)"),
    (re.compile(r"^SELECT pg_catalog.pg_advisory_xact_lock\([0-9]+\)$"),
     "SELECT pg_advisory_xact_lock(…) before a GRANT"),
    (re.compile(r"^SELECT 'd', pg_catalog.current_database\(\)"),
     "SELECT the database and the schemas where the user has privileges (pg_shdepend)"),
    (re.compile(r"^SELECT r.oid::text, \(SELECT pg_catalog.count\(pg_catalog.pg_terminate_backend"),
     "SELECT the user's oid and pg_terminate_backend(…) of its sessions"),
    (re.compile(r"^BEGIN; CREATE ROLE .* GRANT SELECT ON .* COMMIT$"),
     "BEGIN; CREATE ROLE … LOGIN PASSWORD … VALID UNTIL …; LOCK; GRANT SELECT …; COMMIT"),
    (re.compile(r"^BEGIN; .*REVOKE SELECT ON .* DROP ROLE .* COMMIT$"),
     "BEGIN; LOCK; REVOKE SELECT …; DROP ROLE …; COMMIT"),
    (re.compile(r"UNION SELECT n.nspname FROM pg_catalog.pg_namespace n"),
     "SELECT the schemas where the user has privileges (pg_catalog)"),
    (re.compile(r"information_schema.role_(column|table)_grants"),
     "SELECT the schemas where the user has privileges (information_schema)"),
    (re.compile(r"^SELECT pg_catalog.pg_terminate_backend.*usename"),
     "SELECT pg_terminate_backend(…) of the user's sessions, by name"),
    (re.compile(r"^SELECT pg_catalog.pg_terminate_backend.*usesysid"),
     "SELECT pg_terminate_backend(…) of the user's sessions, by oid"),
    (re.compile(r"^SELECT oid::text FROM pg_catalog.pg_roles"),
     "SELECT oid FROM pg_roles WHERE rolname = $1"),
]
DURATION = re.compile(
    r"duration: ([0-9.]+) ms +(?:statement|parse [^:]*|bind [^:]*|execute [^:]*): (.*)$")


def parse_results(path):
    """Return {name: [run, ...]} where a run is a dict of the line's pairs."""
    runs = {}
    with open(path) as f:
        for line in f:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            if "name" in fields:
                runs.setdefault(fields["name"], []).append(fields)
    return runs


def read_tsv(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)


def median(runs, key):
    values = [float(run[key]) for run in runs if key in run]
    return statistics.median(values) if values else None


def per_op(runs, key, scale=1.0):
    """Return the median over runs of run[key] / run["ops"] x scale."""
    values = [float(run[key]) * scale / float(run["ops"])
              for run in runs if key in run and float(run.get("ops", 0)) > 0]
    return statistics.median(values) if values else None


def others_share(run, clock):
    """Return the share of all CPUs that processes other than the client,
    warden and PostgreSQL used during a run, or None without the figures.
    PostgreSQL's time is read over a slightly longer span than the rest, so
    the share may come out a little low. It is never below 0."""
    if "machine_total_s" not in run or float(run["machine_total_s"]) <= 0:
        return None
    ours = (float(run.get("client_cpu_s", 0)) + float(run.get("server_cpu_s", 0)) +
            float(run.get("pg_cpu_ticks", 0)) / clock)
    return max(0.0, float(run["machine_busy_s"]) - ours) / float(run["machine_total_s"])


def load_summary(runs, clock):
    """Describe how much of the CPUs other work and the hypervisor took."""
    all_runs = [run for group in runs.values() for run in group]
    shares = [share for share in (others_share(run, clock) for run in all_runs)
              if share is not None]
    steals = [float(run["machine_steal_s"]) / float(run["machine_total_s"])
              for run in all_runs if float(run.get("machine_total_s", 0)) > 0]
    if not shares:
        return "not measured"
    return (f"{100 * statistics.median(shares):.1f}% (median; {100 * min(shares):.1f}% to "
            f"{100 * max(shares):.1f}% across runs); hypervisor steal "
            f"{100 * statistics.median(steals):.1f}%")


def number(value, digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def label_statement(text):
    text = text.strip()
    for pattern, label in STATEMENT_LABELS:
        if pattern.search(text):
            return label
    text = re.sub(r'"[^"]*"', '"…"', text)
    return re.sub(r"'[^']*'", "'…'", text)


def statement_times(path, cycles):
    """Return [(label, calls per cycle, mean ms, ms per cycle)], slowest
    first, from the log_min_duration_statement lines of one traced run.
    The parse, bind and execute steps of one statement add up."""
    totals, calls = {}, {}
    if not os.path.exists(path) or cycles <= 0:
        return []
    with open(path, errors="replace") as f:
        for line in f:
            match = DURATION.search(line)
            if not match:
                continue
            label = label_statement(match.group(2))
            totals[label] = totals.get(label, 0.0) + float(match.group(1))
            if " execute " in line or " statement: " in line:
                calls[label] = calls.get(label, 0) + 1
    rows = [(label, calls.get(label, 0) / cycles, totals[label] / max(calls.get(label, 0), 1),
             totals[label] / cycles) for label in totals]
    return sorted(rows, key=lambda row: -row[3])


def traced_cycles(path):
    """Return the ops of a traced run's driver output, 0 when missing."""
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        for line in f:
            match = re.search(r"\bops=(\d+)", line)
            if match:
                return int(match.group(1))
    return 0


def rates(runs):
    return " / ".join(number(float(run["rate"])) for run in runs)


def rep_ratios(numerators, denominators):
    """Return the rate ratios of the runs of each repetition, as text."""
    by_rep = {run["rep"]: float(run["rate"]) for run in denominators}
    ratios = [float(run["rate"]) / by_rep[run["rep"]]
              for run in numerators if by_rep.get(run["rep"])]
    return " / ".join(f"{value:.2f}" for value in ratios) or "—"


def verdict(ratio):
    return "met" if ratio is not None and ratio >= TARGET_RATIO else "missed"


def write_section(args, runs, machine):
    threads = args.threads
    baseline = f"baseline-{threads}"
    creds = runs.get("creds", [])
    clock = float(args.clock_ticks)
    loads = [float(run["load"]) for group in runs.values() for run in group]

    def pg_cpu_us(group):
        return per_op(group, "pg_cpu_ticks", 1e6 / clock)

    lines = [
        BEGIN,
        "## Secrets service (Vault-compatible API)",
        "",
        f"Produced by `{args.command}` (`make bench` runs it on the `build` directory) on "
        f"{args.started}, at revision {args.revision}. Every number in this section comes "
        "from that one run.",
        "",
        "| machine | |",
        "| --- | --- |",
        f"| CPUs (nproc) | {machine.get('nproc', '?')} |",
        f"| CPU model | {machine.get('cpu', '?')} |",
        f"| memory | {machine.get('memory', '?')} |",
        f"| kernel | {machine.get('kernel', '?')} |",
        f"| OpenSSL | {machine.get('openssl', '?')} |",
        f"| PostgreSQL | {machine.get('postgresql', '?')} |",
        f"| file system of the data directories | {machine.get('filesystem', '?')} |",
        f"| fdatasync of 8 KiB there, per second | {machine.get('fdatasync_per_s', '?')} |",
        f"| warden build type | {machine.get('build_type', '?')} |",
        "| load average (1 min): at the start; lowest and highest before a measured run; "
        f"at the end | {machine.get('loadavg_start', '?')}; "
        f"{min(loads, default=0):.2f} to {max(loads, default=0):.2f}; "
        f"{machine.get('loadavg_end', '?')} |",
        "| share of all CPUs used by other processes during the measured runs | "
        f"{load_summary(runs, clock)} |",
        "",
        "The machine is shared with other work. The load averages include this benchmark's "
        "own processes; the share of other processes is the machine's busy time "
        "(/proc/stat) minus the CPU time of the client, warden and PostgreSQL over each run. "
        "Every figure below moves with that load, the fsync-bound ones most.",
        "",
        "Setup: `warden server --dev` (barrier unsealed in memory; lease and KV records in its "
        "SQLite datastore, WAL with synchronous=NORMAL; audit records flushed once a second) "
        "serves the secrets API over TLS on 127.0.0.1, with one event-loop thread and 4 worker "
        "threads that run the PostgreSQL work of credentials and revocations. "
        "PostgreSQL 15 is a fresh cluster on a Unix socket with its defaults, so fsync and "
        "synchronous_commit are on and every commit waits for fdatasync. `bench/bench_secrets` "
        f"runs {threads} threads, each with its own keep-alive TLS connection and the root "
        f"token; runs last {args.seconds} s, and the {args.reps} repetitions are interleaved "
        "(every mode once, then again). Rates, latencies and per-operation costs are medians "
        "over the repetitions. Server CPU is utime + stime of the warden process "
        "(/proc/PID/stat) over the run, divided by the operations.",
        "",
        "### KV version 2",
        "",
        f"{args.keys} keys `secret/data/bench-N`, values of 64 random characters; kv-read writes "
        "every key once before its clock starts.",
        "",
        "| operation | requests/s | per rep | p50 | p99 | server CPU µs/request | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in (("kv-read", "GET /v1/secret/data/bench-N"),
                        ("kv-write", "POST /v1/secret/data/bench-N {\"data\": {…}}")):
        group = runs.get(name, [])
        lines.append(
            f"| {label} | {number(median(group, 'rate'))} | {rates(group)} | "
            f"{number(median(group, 'p50_ms'), 3)} ms | {number(median(group, 'p99_ms'), 3)} ms | "
            f"{number(median(group, 'server_cpu_us_per_op'))} | "
            f"{sum(int(run['errors']) for run in group)} |")
    kv_read = median(runs.get("kv-read", []), "rate")
    lines += [
        "",
        f"For context only: OpenBao has published {OPENBAO_KV_READS:,} KV version 2 reads per "
        "second, measured on its own hardware, which is not this machine; the source was not "
        f"checked again for this page. This run's rate is {number(kv_read)}.",
        "",
        "### Dynamic PostgreSQL credentials",
        "",
        "One cycle is a credential's whole life. Through warden: `GET /v1/database/creds/bench` "
        "(the role's creation statement is "
        f"`{args.statement}`), then `PUT /v1/sys/leases/revoke` with its lease id, which ends the "
        "user's sessions and drops it. The baseline (`bench/bench_pg_baseline`) runs the SQL of "
        "the same life over libpq, with one connection per thread and nothing else: "
        "`BEGIN; CREATE ROLE … WITH LOGIN PASSWORD … VALID UNTIL …; "
        "SELECT pg_advisory_xact_lock(K); GRANT SELECT ON bench_table TO …; COMMIT`, then "
        "`BEGIN; SELECT pg_advisory_xact_lock(K); REVOKE SELECT ON bench_table FROM …; "
        "DROP ROLE …; COMMIT`, each one round trip. PostgreSQL cannot drop a role that still "
        "has a privilege, hence the REVOKE. The advisory lock queues the transactions that change "
        "bench_table's ACL. PostgreSQL does not lock that catalog row, so of two concurrent ones "
        "the later fails with \"tuple concurrently updated\" once the first commits. Running it "
        "again was slower than waiting for the lock.",
        "",
        "PostgreSQL columns: CPU time of the whole cluster (postmaster and every child, "
        "including exited ones), transactions committed or rolled back in the bench "
        "database, and WAL fsyncs (`pg_stat_wal.wal_sync`), each over the run and divided "
        "by the cycles.",
        "",
        "| contender | cycles/s | per rep | p50 cycle | p99 cycle | warden CPU µs/cycle | "
        "PostgreSQL CPU µs/cycle | transactions/cycle | WAL fsyncs/cycle | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    contenders = [("creds", f"warden, {threads} clients"), (baseline, f"baseline, {threads} threads")]
    if threads != 1:
        contenders += [("creds-1", "warden, 1 client"), ("baseline-1", "baseline, 1 thread")]
    for name, label in contenders:
        group = runs.get(name, [])
        warden_cpu = number(median(group, "server_cpu_us_per_op")) if name.startswith("creds") else "—"
        lines.append(
            f"| {label} | {number(median(group, 'rate'), 1)} | {rates(group)} | "
            f"{number(median(group, 'p50_ms'), 2)} ms | {number(median(group, 'p99_ms'), 2)} ms | "
            f"{warden_cpu} | {number(pg_cpu_us(group))} | "
            f"{number(per_op(group, 'pg_xacts'), 1)} | {number(per_op(group, 'pg_wal_syncs'), 2)} | "
            f"{sum(int(run['errors']) for run in group)} |")

    ratio = None
    if median(creds, "rate") and median(runs.get(baseline, []), "rate"):
        ratio = median(creds, "rate") / median(runs[baseline], "rate")
    serial_ratio = None
    if median(runs.get("creds-1", []), "rate") and median(runs.get("baseline-1", []), "rate"):
        serial_ratio = median(runs["creds-1"], "rate") / median(runs["baseline-1"], "rate")
    lines += [
        "",
        f"Through warden, the {threads} clients' cycles split into an issue request "
        f"(p50 {number(median(creds, 'issue_p50_ms'), 2)} ms, p99 "
        f"{number(median(creds, 'issue_p99_ms'), 2)} ms) and a revoke request (p50 "
        f"{number(median(creds, 'revoke_p50_ms'), 2)} ms, p99 "
        f"{number(median(creds, 'revoke_p99_ms'), 2)} ms).",
        "",
        "The ratio divides the median rates; the runs of one repetition follow each other "
        "within a minute, so their ratios show how much the load of the moment moved it.",
        "",
        "| target | ratio | per rep | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| warden ÷ baseline, {threads} clients each, ≥ {TARGET_RATIO} | "
        f"{number(ratio, 3)} | {rep_ratios(creds, runs.get(baseline, []))} | {verdict(ratio)} |",
    ]
    if serial_ratio is not None:
        lines.append(f"| (for comparison) warden ÷ baseline, 1 client each | "
                     f"{number(serial_ratio, 3)} | "
                     f"{rep_ratios(runs.get('creds-1', []), runs.get('baseline-1', []))} | |")
    lines += [
        "",
        f"After the run, {machine.get('leftover_roles', '?')} database users and "
        f"{machine.get('leftover_leases', '?')} leases of the bench role were left; every cycle "
        "revokes what it created, so both should be 0. For context only: vault-benchmark has "
        f"published {VAULT_BENCHMARK_PG_CREDS} PostgreSQL credentials per second for Vault, on "
        "other hardware, and the source was not checked again for this page.",
        "",
    ]
    traced, statement_lines = statement_section(args)
    lines += statement_lines
    lines += analysis_lines(args, runs, traced)
    lines.append(END)
    return "\n".join(lines) + "\n"


def statement_section(args):
    """Return ({name: (cycles, rows)}, lines) for the traced runs."""
    raw = os.path.join(args.work, "raw")
    traced = {}
    lines = [
        "### Where a cycle's time goes in PostgreSQL",
        "",
        "After the measured runs, the script sets `log_min_duration_statement = 0` for the bench "
        "database and runs one client for a few seconds through warden, then one baseline thread. "
        "The tables add up the server-side durations that PostgreSQL logged per statement "
        "(parse, bind and execute together), divided by the cycles of that run. The logging "
        "slows PostgreSQL down a little, so these runs are not among the measured ones.",
        "",
    ]
    for name, title in (("creds", "through warden"), ("baseline", "baseline")):
        cycles = traced_cycles(os.path.join(raw, f"trace-{name}.txt"))
        rows = statement_times(os.path.join(raw, f"statements-{name}.log"), cycles)
        traced[name] = (cycles, rows)
        if not rows:
            lines += [f"No statement timings for the {title} run.", ""]
            continue
        lines += [
            f"{title.capitalize()}, {cycles} cycles:",
            "",
            "| statement | per cycle | mean ms | ms per cycle |",
            "| --- | ---: | ---: | ---: |",
        ]
        for label, calls, mean_ms, cycle_ms in rows:
            lines.append(f"| `{label}` | {calls:.0f} | {mean_ms:.3f} | {cycle_ms:.3f} |")
        lines += [f"| all statements | | | {sum(row[3] for row in rows):.3f} |", ""]
    return traced, lines


def create_role_ms(rows):
    """Return the ms per cycle of the statements that create the user."""
    return sum(row[3] for row in rows if "CREATE ROLE" in row[0])


def analysis_lines(args, runs, traced):
    """Explain the ratio with this run's figures."""
    threads = args.threads
    creds, creds_1 = runs.get("creds", []), runs.get("creds-1", [])
    baseline, baseline_1 = runs.get(f"baseline-{threads}", []), runs.get("baseline-1", [])
    clock = float(args.clock_ticks)
    if not (median(creds, "rate") and median(baseline, "rate")):
        return []

    def scale(many, one):
        if not (median(many, "rate") and median(one, "rate")):
            return None
        return median(many, "rate") / median(one, "rate")

    _, warden_rows = traced.get("creds", (0, []))
    _, baseline_rows = traced.get("baseline", (0, []))
    lines = ["### Why the ratio is what it is", ""]
    if threads != 1:
        baseline_scale = scale(baseline, baseline_1)
        if baseline_scale is not None and baseline_scale >= PARALLEL_GAIN:
            parallel = ("The baseline's connections let PostgreSQL work on several cycles at "
                        "once on both cores.")
        else:
            parallel = ("In this run the baseline gained little from its threads either, so "
                        "the CPUs, shared with other work, limited both.")
        lines += [
            f"With {threads} clients warden completes {number(scale(creds, creds_1), 2)} times the "
            f"cycles of one client, while the baseline's {threads} threads complete "
            f"{number(baseline_scale, 2)} times those of one thread. warden runs the "
            "PostgreSQL work of each request on one of 4 worker threads with their own "
            "connections (src/secrets/offload.c, src/secrets/db_conn_async.c), so the cycles "
            f"of several clients overlap: {1000 / median(creds, 'rate'):.1f} ms of wall time "
            f"per cycle at {threads} clients. {parallel}",
            "",
        ]
    lines += [
        f"A cycle through warden costs PostgreSQL {number(per_op(creds, 'pg_xacts'), 0)} "
        f"transactions, {number(per_op(creds, 'pg_wal_syncs'), 1)} WAL fsyncs and "
        f"{number(per_op(creds, 'pg_cpu_ticks', 1e6 / clock))} µs of CPU, against "
        f"{number(per_op(baseline, 'pg_xacts'), 0)}, {number(per_op(baseline, 'pg_wal_syncs'), 1)} "
        f"and {number(per_op(baseline, 'pg_cpu_ticks', 1e6 / clock))} µs for the baseline; warden "
        f"itself uses {number(median(creds, 'server_cpu_us_per_op'))} µs of CPU per cycle. "
        "The extra transactions are those of the default revocation, which follows Vault's "
        "PostgreSQL plugin. It looks the user up and ends its sessions in one query, and reads "
        "the schemas where it has privileges from pg_shdepend. Then it runs REVOKE in every one "
        "of them, in public and for CONNECT on the database, and DROP ROLE, all in one "
        "transaction, and ends the user's late sessions by oid. Every transaction that "
        "changes privileges takes an advisory lock first, as the baseline does.",
        "",
    ]
    if warden_rows and baseline_rows:
        lines += [
            f"In the traced runs, PostgreSQL's statements took {sum(r[3] for r in warden_rows):.2f} "
            f"ms of a cycle through warden and {sum(r[3] for r in baseline_rows):.2f} ms of a "
            f"baseline cycle. Creating the user took {create_role_ms(warden_rows):.2f} and "
            f"{create_role_ms(baseline_rows):.2f} ms of that. It includes hashing the password "
            "with SCRAM-SHA-256 (PostgreSQL's default password_encryption, 4096 iterations), "
            "which both do on both cores at once when several clients run.",
            "",
        ]
    lines += [
        "Before the revocation read those schemas from pg_catalog alone (commits 2ed1627 and "
        "7cc210b), it asked information_schema.role_column_grants and role_table_grants, 17 to "
        "35 ms per call. One back-to-back pair of runs of this script on this machine (1 "
        "repetition of 5 s each, on 2026-12-05) measured the difference. With 8 clients, warden "
        "completed 48 cycles per second before (0.15 of the baseline) and 117 after (0.31). "
        "With one client, it completed 33 before and 130 after.",
        "",
        "Before the PostgreSQL work moved to worker threads and the revocation to one "
        "transaction, every libpq call waited on the event loop, so 8 clients completed no "
        "more cycles than one. A run of this script at revision 61be863 measured 129.9 cycles "
        "per second with 8 clients (0.326 of the baseline) and 132.6 with one.",
        "",
    ]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("--work", "--output", "--command", "--started", "--revision", "--statement"):
        parser.add_argument(option, required=True)
    for option in ("--threads", "--seconds", "--reps", "--keys", "--clock-ticks"):
        parser.add_argument(option, required=True, type=int)
    args = parser.parse_args()

    runs = parse_results(os.path.join(args.work, "results.txt"))
    machine = read_tsv(os.path.join(args.work, "machine.tsv"))
    section = write_section(args, runs, machine)

    text = "# Benchmarks\n"
    if os.path.exists(args.output):
        with open(args.output) as f:
            text = f.read()
    begin = text.find(BEGIN)
    end = text.find(END)
    if begin >= 0 and end > begin:
        rest = text[end + len(END):].lstrip("\n")
        text = text[:begin] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
