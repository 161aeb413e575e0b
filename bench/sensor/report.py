#!/usr/bin/python3
"""Writes the results of bench/sensor.sh into the section between the
sensor-bench markers of the benchmarks page, leaving the rest alone."""
import argparse
import statistics

BEGIN = "<!-- sensor-bench:begin -->"
END = "<!-- sensor-bench:end -->"
# Maximum slowdown of each workload under warden's sensor, in percent.
TARGETS = {"exec": 10.0, "open": 5.0}
# The share of a paced run's target rate below which bench/sensor.sh found
# the machine at its limit (RATE_REACHED there).
RATE_REACHED = 0.95
CONFIGS = (("none", "no tracer"), ("warden", "`warden sensor run`"),
           ("floor", "empty programs (bpftrace)"), ("bpftrace", "bpftrace"))
WORKLOADS = (("exec", "fork + exec"), ("open", "open + close"))


def parse(path):
    """Return the result lines as dicts of their key=value pairs."""
    records = []
    with open(path) as f:
        for line in f:
            fields = dict(token.split("=", 1) for token in line.split())
            records.append(fields)
    return records


def median(values):
    return statistics.median(values) if values else None


def runs_of(records, config, workload):
    return [r for r in records if r["kind"] == "run" and r["config"] == config
            and r["workload"] == workload]


def slowdown(seconds, base):
    return (seconds / base - 1) * 100 if seconds and base else None


def fmt_percent(value):
    return "—" if value is None else f"{value:+.1f} %"


def workload_table(records):
    """The main table and a {(config, workload): median seconds} summary."""
    medians = {}
    for config, _ in CONFIGS:
        for workload, _ in WORKLOADS:
            runs = runs_of(records, config, workload)
            medians[(config, workload)] = median([float(r["seconds"]) for r in runs])
    rows = []
    for config, label in CONFIGS:
        cells = [label]
        for workload, _ in WORKLOADS:
            runs = runs_of(records, config, workload)
            if not runs:
                cells += ["—"] * 3
                continue
            seconds = medians[(config, workload)]
            rate = median([float(r["rate"]) for r in runs])
            cells += [f"{seconds:.2f}", f"{rate:,.0f}",
                      "—" if config == "none" else
                      fmt_percent(slowdown(seconds, medians[("none", workload)]))]
        if config == "none":
            cells += ["—"] * 4
        else:
            for workload, _ in WORKLOADS:
                cpu = median([float(r["tracer_cpu_s"]) for r in runs_of(records, config, workload)])
                cells.append("—" if cpu is None else f"{cpu:.2f}")
            peaks = [int(r["tracer_peak_kib"]) for w, _ in WORKLOADS
                     for r in runs_of(records, config, w)]
            cells.append(f"{max(peaks) / 1024:.1f}" if peaks else "—")
            drops = [" + ".join(r["tracer_drops"] for r in runs_of(records, config, w))
                     for w, _ in WORKLOADS]
            cells.append(" / ".join(drops))
        rows.append("| " + " | ".join(cells) + " |")
    return rows, medians


def per_run_rows(records):
    rows = []
    for workload, label in WORKLOADS:
        for config, config_label in CONFIGS:
            runs = runs_of(records, config, workload)
            if not runs:
                continue
            seconds = " / ".join(f"{float(r['seconds']):.2f}" for r in runs)
            loads = " / ".join(r["load"] for r in runs)
            busy = " / ".join(f"{float(r['machine_busy_s']):.1f}" for r in runs)
            rows.append(f"| {label} | {config_label} | {seconds} | {busy} | {loads} |")
    return rows


def rate_section(records, args):
    steps = [r for r in records if r["kind"] == "rate"]
    if not steps:
        return []
    rows = []
    best = None
    for r in steps:
        drops = int(r["tracer_drops"])
        # The rate reached counts, since a paced run may fall short of its target.
        if drops == 0 and (best is None or float(r["rate"]) > float(best["rate"])):
            best = r
        rows.append(f"| {int(r['target']):,} | {float(r['rate']):,.0f} | "
                    f"{int(r['tracer_events']):,} | {drops:,} | {r['load']} |")
    if best:
        events_rate = int(best["tracer_events"]) / float(best["seconds"])
        short = float(best["rate"]) < RATE_REACHED * int(best["target"])
        summary = (f"The highest rate held without a ring buffer drop was "
                   f"**{float(best['rate']):,.0f} opens a second**"
                   + (f" (a lower bound: the machine fell short of the {int(best['target']):,} "
                      "a second asked for, with no drop)" if short else "")
                   + "; at that step the sensor "
                   f"read {int(best['tracer_events']):,} events in all, which is about "
                   f"{events_rate:,.0f} a second over the {args.rate_seconds} s step (the "
                   "count includes the rest of the machine's events from attach to stop).")
    else:
        summary = "Every rate tried dropped events, the first one included."
    return [
        "### Highest event rate without drops",
        "",
        f"bench_sensor runs open + close at each rate for {args.rate_seconds} s under a "
        "fresh `warden sensor run`, doubling the rate until the sensor's `ringbuf_full` "
        "counter is not zero or the machine falls short of the rate, then bisecting between "
        "the highest rate without drops and the lowest with drops. The file is opened by a "
        "path with `//` in it, which the sensor's path filter always lets through, so each "
        "open is one sensor event that user space reads, normalizes and checks against the "
        "rules.",
        "",
        "| target opens/s | reached opens/s | sensor events | ring buffer drops | load |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        summary,
        "",
    ]


def program_section(records):
    programs = [r for r in records if r["kind"] == "program"]
    if not programs:
        return []
    rows = []
    for r in programs:
        count = int(r["run_cnt"])
        total_ns = int(r["run_time_ns"])
        mean = f"{total_ns / count:,.0f}" if count else "—"
        per_op = total_ns / int(r["ops"])
        rows.append(f"| {r['config']} | {r['workload']} ({int(r['ops']):,}) | `{r['program']}` | "
                    f"{count:,} | {mean} | {total_ns / 1e6:,.1f} | {per_op:,.0f} |")
    return [
        "### Cost of each BPF program",
        "",
        "One shorter run of each workload per tracer with `kernel.bpf_stats_enabled=1`; "
        "run counts and times are the differences of `run_cnt` and `run_time_ns` in "
        "/proc/PID/fdinfo of the tracer's program descriptors across the run, so they "
        "include the other processes on the machine. The statistics add their own clock "
        "reads to every run, so the measured runs above are done without them. warden has "
        "one program on each tracepoint below: the open family reports from its exit "
        "program alone, the other system calls from an entry and exit pair, and "
        "sched_process_fork is a BTF-typed raw tracepoint. bpftrace has one program for "
        "each probe of the script.",
        "",
        "| tracer | workload (operations) | tracepoint | runs | mean ns | total ms | "
        "ns per operation |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ]


def intro_lines(args, records):
    """The paragraphs that say how the run was made."""
    loads = [float(r["load"]) for r in records if r["kind"] == "run"]
    reps = max((int(r["rep"]) for r in records if r["kind"] == "run"), default=0)
    counts = {w: next((r["ops"] for r in records if r["kind"] == "run" and r["workload"] == w),
                      "0") for w, _ in WORKLOADS}
    busy = (", so other work shared the CPUs and the times are noisier than on an idle "
            "machine" if max(loads, default=0) >= 1 else "")
    return [
        BEGIN,
        "## Runtime sensor",
        "",
        f"Produced by `{args.command}` on {args.started}, at revision {args.revision}, on "
        f"{args.nproc} CPUs ({args.cpu}), Linux {args.kernel}; warden build type "
        f"{args.build_type}. Every number in this section comes from that one run. The "
        f"1-minute load average was {min(loads, default=0):.2f} to {max(loads, default=0):.2f} "
        f"at the starts of the measured runs and {args.finished_load} at the end{busy}.",
        "",
        f"Two workloads of `bench_sensor`: fork, exec of /bin/true and wait, "
        f"{int(counts['exec']):,} times; and open (glibc's openat) and close of one file, "
        f"{int(counts['open']):,} times. Each runs with no tracer, under `warden sensor run "
        f"--rules {args.rules}` ({args.rule_counts}) with its alerts appended to a file, and "
        f"under {args.bpftrace_version} running bench/sensor/trace.bt with BPFTRACE_STRLEN="
        f"{args.strlen}. The script attaches to the tracepoints of these workloads' events "
        "(sched_process_exec, sched_process_fork, sched_process_exit, sys_enter_openat, "
        "sys_exit_openat and sys_enter_connect), keeps the openat path pointer in a map from "
        "entry to exit, and prints the pid, comm and file name of every event to a file. "
        "The empty programs are bench/sensor/floor.bt: bpftrace attaches a program that "
        "does nothing to each tracepoint where warden's sensor sees these workloads' events "
        "(sched_process_exec, sched_process_fork, sched_process_exit and sys_exit_openat), "
        "so its slowdown is the least that any tracer of them adds on this kernel before "
        "its programs do any work. "
        f"{reps} repetition(s), interleaved; the table gives the medians. Tracer CPU is its "
        "utime + stime from attach to half a second after the workload ends, peak RSS is "
        "its VmHWM, and the drops are the sensor's `ringbuf_full` counter or the sum of "
        "bpftrace's `Lost N events` lines, per repetition.",
        "",
    ]


def section(args, records):
    rows, medians = workload_table(records)
    lines = intro_lines(args, records)
    lines += [
        "| configuration | exec s | exec/s | exec slowdown | open s | open/s | open slowdown "
        "| tracer CPU s, exec | tracer CPU s, open | tracer peak RSS MiB "
        "| drops, exec / open |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        "",
    ]
    verdicts = []
    for workload, label in WORKLOADS:
        value = slowdown(medians.get(("warden", workload)), medians.get(("none", workload)))
        if value is None:
            continue
        verdict = "met" if value <= TARGETS[workload] else "missed"
        verdicts.append(f"| {label} slowdown under warden at most {TARGETS[workload]:.0f} % | "
                        f"{fmt_percent(value)} | {verdict} |")
        floor = slowdown(medians.get(("floor", workload)), medians.get(("none", workload)))
        if floor is not None:
            verdicts.append(f"| {label} slowdown with empty programs on the sensor's tracepoints "
                            f"(for comparison) | {fmt_percent(floor)} | — |")
    if verdicts:
        lines += ["| target | value | verdict |", "| --- | ---: | --- |", *verdicts, ""]
    lines += [
        "Every run, in order of the repetitions, with the machine's busy CPU seconds "
        "over the workload (all CPUs, all processes) and the load average at its start:",
        "",
        "| workload | configuration | seconds | machine busy CPU s | load |",
        "| --- | --- | --- | --- | --- |",
        *per_run_rows(records),
        "",
    ]
    lines += rate_section(records, args)
    lines += program_section(records)
    lines.append(END)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("--results", "--output", "--command", "--started", "--revision", "--rules",
                   "--rule-counts", "--nproc", "--kernel", "--cpu", "--bpftrace-version",
                   "--strlen", "--rate-seconds", "--finished-load", "--build-type"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    text = section(args, parse(args.results))

    with open(args.output) as f:
        page = f.read()
    if BEGIN in page and END in page:
        before = page[:page.index(BEGIN)]
        after = page[page.index(END) + len(END):]
        page = before + text + after
    else:
        page = page.rstrip("\n") + "\n\n" + text + "\n"
    with open(args.output, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
