#!/usr/bin/python3
"""Write the proxy benchmark's section of docs/benchmarks.md.

Reads the tab-separated files bench/proxy.sh leaves in its work directory
(results.tsv, checks.tsv, memory.tsv, machine.tsv) and replaces the text
between the proxy-bench markers of the output page, or appends the section
when the page has none.
"""

import argparse
import json
import os
import statistics

BEGIN = "<!-- proxy-bench:begin -->"
END = "<!-- proxy-bench:end -->"

DESCRIPTIONS = {
    "direct": "wrk to nginx, no proxy and no TLS",
    "haproxy": "HAProxy, `mode tcp` on both sides",
    "haproxy-http": "HAProxy, `mode http` on both sides with `http-reuse always`, "
                    "so the outbound pools its mTLS connections",
    "stunnel": "stunnel client to stunnel server (thread per connection)",
    "warden-tcp": "`warden proxy` on both sides, layer 4",
    "warden-http": "`warden proxy --http` on both sides, layer 7 without a Rego "
                   "policy; the outbound opens one mTLS connection per client "
                   "connection, with no pool shared between them",
}

MODE_TITLES = {
    "keepalive": "Keep-alive: wrk -t{threads} -c{connections}",
    "close": "New connection per request: wrk -t{threads} -c{connections} "
             "with `Connection: close`",
    "c1": "One keep-alive connection, no load: wrk -t1 -c1",
}

CHECK_LABELS = {
    "entry": "GET through the outbound",
    "good-client": "inbound, client SVID spiffe://example.org/client",
    "no-client-cert": "inbound, no client certificate",
    "rogue-ca": "inbound, right SPIFFE ID from a rogue CA",
    "wrong-id": "inbound, real CA, SPIFFE ID spiffe://example.org/intruder",
    "negotiated": "protocol, cipher suite, key exchange",
}


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def reference_of(name, names):
    """Return the HAProxy contender a row is compared with: the same layer."""
    if name in ("warden-http", "haproxy-http") and "haproxy-http" in names:
        return "haproxy-http"
    if name == "direct" or "haproxy" not in names:
        return None
    return "haproxy"


def summarize(rows, clock_ticks):
    """Aggregate results.tsv rows per (contender, mode) over the reps."""
    groups = {}
    for rep, name, mode, requests, seconds, p50, p99, errors, non2xx, in_ticks, out_ticks in rows:
        g = groups.setdefault((name, mode), {
            "rates": [], "p50": [], "p99": [], "requests": 0,
            "errors": 0, "non2xx": 0, "in_ticks": 0, "out_ticks": 0})
        g["rates"].append(int(requests) / float(seconds))
        g["p50"].append(float(p50))
        g["p99"].append(float(p99))
        g["requests"] += int(requests)
        g["errors"] += int(errors)
        g["non2xx"] += int(non2xx)
        g["in_ticks"] += int(in_ticks)
        g["out_ticks"] += int(out_ticks)
    # Medians, because another process on the machine can spoil one
    # repetition and a mean would carry that into every ratio.
    for g in groups.values():
        g["rate"] = statistics.median(g["rates"])
        g["p50_median"] = statistics.median(g["p50"])
        g["p99_median"] = statistics.median(g["p99"])
        per_request = 1e6 / clock_ticks / max(g["requests"], 1)
        g["in_us"] = g["in_ticks"] * per_request
        g["out_us"] = g["out_ticks"] * per_request
    return groups


def milliseconds(value):
    return "%.3f ms" % value if value < 1 else "%.2f ms" % value


def mode_table(mode, names, groups, args):
    threads, connections = args.wrk.split(",")
    lines = [
        "### " + MODE_TITLES[mode].format(threads=threads, connections=connections),
        "",
        "| contender | req/s | req/s per rep | ÷ HAProxy | p50 | p99 | p99 per rep (ms) "
        "| p99 ÷ HAProxy | proxy CPU µs/req (in + out) | socket errors | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        g = groups.get((name, mode))
        if g is None:
            continue
        reference = groups.get((reference_of(name, names), mode))
        rate_ratio = p99_ratio = "—"
        if reference is not None:
            rate_ratio = "%.2f" % (g["rate"] / reference["rate"])
            p99_ratio = "%.2f" % (g["p99_median"] / reference["p99_median"])
        cpu = "—"
        if name != "direct":
            cpu = "%.0f (%.0f + %.0f)" % (g["in_us"] + g["out_us"], g["in_us"], g["out_us"])
        per_rep = " / ".join("{:,.0f}".format(r) for r in g["rates"])
        p99_per_rep = " / ".join("%.3g" % p for p in g["p99"])
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |" % (
            name, "{:,.0f}".format(g["rate"]), per_rep, rate_ratio,
            milliseconds(g["p50_median"]), milliseconds(g["p99_median"]), p99_per_rep,
            p99_ratio, cpu, g["errors"], g["non2xx"]))
    return lines + [""]


def target_rows(names, groups):
    """Return the table rows of the project's targets for warden's chains,
    compared with HAProxy at the same layer and warden-http also with
    HAProxy in TCP mode."""
    rows = []
    pairs = [("warden-tcp", "haproxy"), ("warden-http", "haproxy-http"),
             ("warden-http", "haproxy")]
    for name, reference in pairs:
        if name not in names or reference not in names:
            continue
        keep = groups.get((name, "keepalive"))
        keep_ref = groups.get((reference, "keepalive"))
        if keep and keep_ref:
            ratio = keep["rate"] / keep_ref["rate"]
            rows.append("| keep-alive req/s ≥ %s | %s | %.2f | %s |" % (
                reference, name, ratio, "met" if ratio >= 1 else "missed"))
            ratio = keep["p99_median"] / keep_ref["p99_median"]
            rows.append("| keep-alive p99 ≤ %s | %s | %.2f | %s |" % (
                reference, name, ratio, "met" if ratio <= 1 else "missed"))
        close = groups.get((name, "close"))
        close_ref = groups.get((reference, "close"))
        if close and close_ref:
            ratio = close["rate"] / close_ref["rate"]
            rows.append("| new-connection req/s ≥ 0.9 × %s | %s | %.2f | %s |" % (
                reference, name, ratio, "met" if ratio >= 0.9 else "missed"))
    return rows


def memory_table(rows):
    lines = [
        "| contender | connections held / requested | time to open | closed by a peer while held "
        "| mTLS connections open | nginx connections open "
        "| inbound RSS idle → held | outbound RSS idle → held | both, held | KiB per connection "
        "(both) | threads in / out |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (name, requested, status, final, in_idle, out_idle, in_held, out_held,
         in_threads, out_threads, mtls_open, backend_open) in rows:
        status = json.loads(status)
        final = json.loads(final)
        held = status["established"]
        growth = int(in_held) + int(out_held) - int(in_idle) - int(out_idle)
        per_connection = "%.1f" % (growth / held) if held else "—"
        lines.append("| %s | %s / %s | %.1f s | %d | %s | %s | %.1f → %.1f MiB "
                     "| %.1f → %.1f MiB | %.1f MiB | %s | %s / %s |" % (
                         name, "{:,}".format(held), "{:,}".format(int(requested)),
                         status["seconds"], final["closed_by_peer"],
                         "{:,}".format(int(mtls_open)), "{:,}".format(int(backend_open)),
                         int(in_idle) / 1024, int(in_held) / 1024,
                         int(out_idle) / 1024, int(out_held) / 1024,
                         (int(in_held) + int(out_held)) / 1024, per_connection,
                         in_threads, out_threads))
    failures = [(r[0], json.loads(r[2])["failures"]) for r in rows if json.loads(r[2])["failures"]]
    for name, reasons in failures:
        text = ", ".join("%s: %d" % (reason, count) for reason, count in sorted(reasons.items()))
        lines.append("")
        lines.append("%s: connections that failed to open: %s." % (name, text))
    return lines


def checks_table(rows):
    lines = [
        "| contender | check | expected | observed | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, check, expected, observed, verdict in rows:
        observed = observed.replace("|", "\\|")
        lines.append("| %s | %s | %s | %s | %s |" % (
            name, CHECK_LABELS.get(check, check), expected, observed, verdict))
    return lines


def build_section(args):
    work = args.work
    machine = dict(read_tsv(os.path.join(work, "machine.tsv")))
    groups = summarize(read_tsv(os.path.join(work, "results.tsv")), int(args.clock_ticks))
    names = args.contenders.split()
    modes = args.modes.split()
    threads, connections = args.wrk.split(",")

    lines = [
        BEGIN,
        "## mTLS sidecar proxy",
        "",
        "Produced by `%s` (`make bench` runs it on the `build` directory) on %s, at "
        "revision %s. Every number in this section comes from that one run." % (
            args.command, args.started, args.revision),
    ]
    if args.note:
        lines += ["", args.note]
    lines += [
        "",
        "| machine | |",
        "| --- | --- |",
        "| CPUs (nproc) | %s |" % machine["nproc"],
        "| CPU model | %s |" % machine["cpu"],
        "| memory | %s |" % machine["memory"],
        "| kernel | %s |" % machine["kernel"],
        "| OpenSSL | %s |" % machine["openssl"],
        "| HAProxy | %s |" % machine["haproxy"],
        "| stunnel | %s |" % machine["stunnel"],
        "| nginx | %s |" % machine["nginx"],
        "| wrk | %s |" % machine["wrk"],
        "| warden build type | %s |" % machine["build_type"],
        "| load average (1 min) at the start and the end of the load runs | %s, %s |" % (
            machine["loadavg"], machine["loadavg_end"]),
        "",
        "The chain: wrk sends HTTP/1.1 to the outbound sidecar's plain listener; the "
        "outbound opens mutual TLS 1.3 to the inbound sidecar, which forwards plain "
        "HTTP to nginx (1 worker, `access_log off`) serving a %s-byte file. "
        "Everything runs on 127.0.0.1 of this machine, so wrk, both proxies and "
        "nginx share its CPUs, and in the loaded modes the request rate mostly "
        "measures the CPU cost of the whole chain." % args.payload,
        "",
        "- Certificates: a throwaway EC P-256 CA with X.509-SVIDs (URI SAN, CA:FALSE, "
        "critical digitalSignature key usage, serverAuth and clientAuth). The inbound "
        "is spiffe://example.org/server with the DNS name inbound.example.org, the "
        "outbound spiffe://example.org/client.",
        "- Every proxy process gets %s thread(s): HAProxy `nbthread`, warden "
        "`--workers`. stunnel starts a thread per connection and has no such "
        "setting." % args.threads,
        "- A new outbound connection makes a full handshake: HAProxy runs with "
        "`no-ssl-reuse`, stunnel with `sessionResume = no` and warden with "
        "`--no-resume`.",
        "- wrk runs closed-loop: %s s of keep-alive warm-up, then %s s per mode, %s "
        "repetitions interleaved (every contender once, then again). req/s, p50 "
        "and p99 are medians over the repetitions of wrk's figures." % (
            args.warmup, args.seconds, args.reps),
        "- Proxy CPU µs/req: utime + stime of the inbound and the outbound process "
        "(from /proc/PID/stat, read before and after each run) divided by the "
        "requests wrk completed; the ticks are 1/%s s." % args.clock_ticks,
        "- ÷ HAProxy compares with HAProxy at the same layer: `warden-http` and "
        "`haproxy-http` with `haproxy-http`, the others with `haproxy`.",
        "",
        "Contenders:",
        "",
    ]
    for name in names:
        lines.append("- `%s`: %s." % (name, DESCRIPTIONS[name]))
    lines += [
        "",
        "SPIFFE ID checks: warden's inbound allows the client ID with `--allow` and "
        "its outbound requires the server ID with `--expect`. HAProxy 2.6 has no "
        "fetch for a URI SAN. Its inbound therefore rejects a session unless the "
        "client certificate's DER contains the GeneralName of "
        "spiffe://example.org/client (`ssl_c_der,hex -m sub`), a byte match that "
        "suits only a CA one controls. Its outbound checks the server's DNS name "
        "(`verifyhost`). stunnel 5.68 can "
        "check DNS names, IP addresses and email addresses but no URI SAN, so its "
        "inbound accepts any certificate from the CA, and its outbound checks the "
        "DNS name (`checkHost`).",
        "",
    ]
    for mode in modes:
        lines += mode_table(mode, names, groups, args)

    targets = target_rows(names, groups)
    if targets:
        lines += [
            "### Targets",
            "",
            "| target | contender | ratio | verdict |",
            "| --- | --- | ---: | --- |",
        ] + targets + [""]

    memory_rows = read_tsv(os.path.join(work, "memory.tsv"))
    if memory_rows:
        lines += [
            "### Idle connections",
            "",
            "`bench/proxy/idle_conns.py` opens the connections to the outbound, %s "
            "at a time, sends one keep-alive GET on each and reads the response, "
            "so every hop of the chain has been set up for it. RSS is VmRSS from "
            "/proc/PID/status, sampled before the client starts and 2 s after the "
            "last connection opened. KiB per connection is the growth of both "
            "proxies together divided by the connections held. The mTLS and nginx "
            "columns count the established connections to the inbound's and "
            "nginx's ports at the same moment (`ss`): a proxy that closes or pools "
            "idle upstream connections keeps fewer open than the client holds." % args.idle_concurrency,
            "",
        ]
        if args.idle_note:
            lines += [args.idle_note, ""]
        lines += memory_table(memory_rows) + [""]
        notes = read_tsv(os.path.join(work, "idle-notes.tsv"))
        if notes:
            lines += ["Messages the proxies logged about limits or rejected connections "
                      "during this test (count, process, message):", ""]
            for name, label, count, message in notes:
                lines.append("- %s × `%s`: `%s`" % (count, label, message.replace("`", "'")))
            lines.append("")

    with open(os.path.join(work, "incidents.txt")) as f:
        incidents = [line.strip() for line in f if line.strip()]
    if incidents:
        lines += ["Processes that crashed when stopped:", ""]
        lines += ["- " + incident for incident in incidents] + [""]

    check_rows = read_tsv(os.path.join(work, "checks.tsv"))
    lines += [
        "### Security checks",
        "",
        "curl sends one GET through the outbound, then straight to each inbound "
        "with the client certificate of each case. A refusal is any outcome but "
        "HTTP 200; the observed column shows the status or curl's error.",
        "",
    ] + checks_table(check_rows) + [END]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option in ("work", "output", "command", "started", "revision", "threads",
                   "seconds", "warmup", "reps", "wrk", "payload", "clock-ticks", "idle-concurrency",
                   "contenders", "modes"):
        parser.add_argument("--" + option, required=True)
    parser.add_argument("--note", default="")
    parser.add_argument("--idle-note", default="")
    args = parser.parse_args()

    section = build_section(args)
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
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
