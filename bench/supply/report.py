#!/usr/bin/python3
"""Writes the results of bench/supply.sh into the section between the
supply-bench markers of the benchmarks page, leaving the rest alone."""
import argparse
import statistics

BEGIN = "<!-- supply-bench:begin -->"
END = "<!-- supply-bench:end -->"
TARGET_SPEEDUP = 10


def parse(path):
    """Return {name: [(seconds, peak_kib, packages, finished), ...]}."""
    runs = {}
    with open(path) as f:
        for line in f:
            name, _, seconds, peak_kib, packages, finished = line.split()
            runs.setdefault(name, []).append(
                (float(seconds), int(peak_kib), int(packages), finished == "1"))
    return runs


def median(values):
    return statistics.median(values) if values else None


def section(args, runs):
    rows = []
    summary = {}
    for name, label in (("dpkg-query", "`dpkg-query -W` (floor)"),
                        ("warden", "`warden sbom -o cyclonedx-json`"),
                        ("cdxgen", f"cdxgen {args.cdxgen_version} (`-t rootfs`)")):
        if name not in runs:
            continue
        seconds = median([r[0] for r in runs[name]])
        peak = median([r[1] for r in runs[name]])
        finished = all(r[3] for r in runs[name])
        packages = sorted({r[2] for r in runs[name] if r[3]})
        summary[name] = (seconds, packages, finished)
        per_rep = " / ".join(f"{r[0]:.2f}" + ("" if r[3] else " (stopped)") for r in runs[name])
        shown = f"{seconds:.2f}" if finished else f"> {seconds:.0f}"
        counted = ", ".join(str(p) for p in packages) if packages else "—"
        rows.append(f"| {label} | {shown} | {per_rep} | {peak / 1024:.1f} | {counted} |")

    lines = [
        BEGIN,
        "## Supply chain: SBOM of a root filesystem",
        "",
        f"Produced by `{args.command}` on {args.started}, at revision {args.revision}, on "
        f"{args.nproc} CPUs; warden build type {args.build_type}. Every number in this section "
        "comes from that one run.",
        "",
        f"Each contender catalogs {args.target}, this machine's root filesystem, in the same "
        "run; wall time and peak resident memory come from GNU time. dpkg-query only reads the "
        "dpkg database, which is the floor for the Debian packages. warden runs every cataloger "
        "of `warden sbom`. cdxgen catalogs a root filesystem through the trivy binary it "
        "bundles. The package column counts the dpkg packages of each output: installed ones "
        "for dpkg-query, components with a `pkg:deb/` purl for the two SBOMs. A cdxgen run "
        f"still going after {args.cdxgen_timeout} s is stopped; its time is then a lower bound "
        "and so is the speedup.",
        "",
        "| contender | wall s (median) | per run | peak RSS MiB | dpkg packages |",
        "| --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ]
    if "warden" in summary and "cdxgen" in summary:
        speedup = summary["cdxgen"][0] / summary["warden"][0]
        bound = "" if summary["cdxgen"][2] else "at least "
        same = summary["warden"][1] == summary.get("dpkg-query", (0, None))[1]
        verdict = "met" if speedup >= TARGET_SPEEDUP and same else "missed"
        lines += [
            "| target | value | verdict |",
            "| --- | ---: | --- |",
            f"| warden at least {TARGET_SPEEDUP}x faster than cdxgen, with dpkg-query's "
            f"package count | {bound}{speedup:.1f}x; "
            f"{', '.join(map(str, summary['warden'][1]))} vs "
            f"{', '.join(map(str, summary.get('dpkg-query', (0, []))[1]))} packages | {verdict} |",
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("--results", "--output", "--command", "--started", "--revision", "--target",
                   "--cdxgen-version", "--nproc", "--build-type", "--cdxgen-timeout"):
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
