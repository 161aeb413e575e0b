"""Counts the results in a meson testlog.json, prints the output of each
failure and the reason of each skip, and writes passed/failed/skipped counts
to stdout for tests/run.sh to add up."""
import json
import sys

log_path, label = sys.argv[1], sys.argv[2]
counts = {"passed": 0, "failed": 0, "skipped": 0}

try:
    lines = open(log_path).read().splitlines()
except OSError as error:
    print(f"cannot read {log_path}: {error}", file=sys.stderr)
    print("failed 1")
    sys.exit(0)

for line in lines:
    record = json.loads(line)
    result = record["result"]
    name = f"{label}: {record['name']}"
    output = (record.get("stdout") or "") + (record.get("stderr") or "")
    if result in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif result == "SKIP":
        counts["skipped"] += 1
        reasons = [l for l in output.splitlines() if "SKIP" in l or "skip" in l]
        reason = reasons[-1].strip() if reasons else "no reason printed"
        print(f"skipped {name}: {reason}", file=sys.stderr)
    else:
        counts["failed"] += 1
        print(f"FAILED {name} ({result})", file=sys.stderr)
        print(output[-4000:], file=sys.stderr)

for kind, count in counts.items():
    print(kind, count)
