#!/bin/sh
# `warden audit verify` accepts a chain written by an independent Python
# implementation of the format in src/audit/audit.h, and names the first
# bad record of each tampered copy.
set -eu
. "$(dirname "$0")/lib.sh"

PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON not found"

# Writes a 3-record chain to $1, its head anchor to $1.head and the last
# hash to stdout. Python's default separators and \u escapes differ from
# warden's own output, which must not matter because the hash covers
# decoded values.
write_chain() {
	"$PYTHON" - "$1" <<'PY'
import hashlib, json, sys

def field(text):
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data

def record_hash(rec):
    message = field("warden.audit.v1") + rec["seq"].to_bytes(8, "big")
    for name in ("time", "actor", "action", "object", "outcome"):
        message += field(rec[name])
    if "detail" in rec:
        message += b"\x01" + field(rec["detail"])
    else:
        message += b"\x00"
    message += bytes.fromhex(rec["prev"])
    return hashlib.sha256(message).hexdigest()

events = [
    ("uid:0", "entry.create", "spiffe://example.org/web", "success", None),
    ("spiffe://example.org/agent", "svid.issue", "spiffe://example.org/web", "success",
     "serial=01 \u00e9t\u00e9\nsecond line \"quoted\""),
    ("uid:1000", "secret.read", "kv/prod/db", "denied", ""),
]
path = sys.argv[1]
prev = "0" * 64
with open(path, "w", encoding="utf-8") as log:
    for seq, (actor, action, obj, outcome, detail) in enumerate(events, start=1):
        rec = {"seq": seq, "time": "2025-01-02T03:04:05.%03dZ" % seq, "actor": actor,
               "action": action, "object": obj, "outcome": outcome}
        if detail is not None:
            rec["detail"] = detail
        rec["prev"] = prev
        rec["hash"] = record_hash(rec)
        log.write(json.dumps(rec) + "\n")
        prev = rec["hash"]
with open(path + ".head", "w", encoding="utf-8") as head:
    head.write(json.dumps({"seq": len(events), "hash": prev}) + "\n")
print(prev)
PY
}

# Runs `warden audit verify` on $1 and stores the exit status in $status.
verify() {
	status=0
	"$WARDEN" audit verify "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
}

log="$TMP/audit.log"
head=$(write_chain "$log")

verify "$log"
expect_eq "intact chain exit status" "$status" "0"
expect_eq "intact chain output" "$(cat "$TMP/out")" "audit chain intact: 3 records, head $head"

verify --json "$log"
expect_eq "intact chain --json exit status" "$status" "0"
expect_eq "intact chain --json output" "$(cat "$TMP/out")" \
	"{\"intact\":true,\"records\":3,\"head\":\"$head\"}"

# An edited field value in record 2.
sed '2s/svid\.issue/svid.revoke/' "$log" >"$TMP/edited.log"
cp "$log.head" "$TMP/edited.log.head"
verify "$TMP/edited.log"
expect_eq "edited record exit status" "$status" "1"
expect_grep "edited record message" \
	"^audit chain broken at record 2 (line 2): stored hash does not match" "$TMP/err"

# Record 2 dropped.
sed '2d' "$log" >"$TMP/dropped.log"
verify "$TMP/dropped.log"
expect_eq "dropped record exit status" "$status" "1"
expect_grep "dropped record message" \
	"^audit chain broken at record 3 (line 2): expected seq 2 after seq 1, found seq 3" \
	"$TMP/err"

# Records 2 and 3 swapped.
{ sed -n 1p "$log"; sed -n 3p "$log"; sed -n 2p "$log"; } >"$TMP/swapped.log"
verify --json "$TMP/swapped.log"
expect_eq "swapped records exit status" "$status" "1"
expect_grep "swapped records --json output" \
	'"intact":false,"records":2,"first_bad":3,"line":2,"reason":"expected seq 2' "$TMP/out"

# The last record cut off while its anchor remains.
head -n 2 "$log" >"$TMP/cut.log"
cp "$log.head" "$TMP/cut.log.head"
verify "$TMP/cut.log"
expect_eq "cut tail exit status" "$status" "1"
expect_grep "cut tail message" \
	"^audit chain broken at record 3 (line 3): the log ends at seq 2 but the head anchor records seq 3" \
	"$TMP/err"

# The last line cut in the middle, without its newline.
{ head -n 2 "$log"; sed -n 3p "$log" | head -c 50; } >"$TMP/truncated.log"
verify "$TMP/truncated.log"
expect_eq "truncated line exit status" "$status" "1"
expect_grep "truncated line message" \
	"^audit chain broken at record 3 (line 3): the last line is truncated" "$TMP/err"

verify "$TMP/no-such.log"
expect_eq "missing log exit status" "$status" "1"
expect_grep "missing log message" "audit log $TMP/no-such.log not found" "$TMP/err"

verify
expect_eq "missing PATH exit status" "$status" "2"
expect_grep "missing PATH message" "missing PATH" "$TMP/err"

verify --no-such-option "$log"
expect_eq "unknown option exit status" "$status" "2"

finish
