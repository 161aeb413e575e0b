#!/bin/sh
# The binary dispatches subcommands and rejects unknown ones with usage.
set -eu
. "$(dirname "$0")/lib.sh"

out=$("$WARDEN" version)
expect_eq "warden version" "$(echo "$out" | cut -d' ' -f1)" "warden"

expect_eq "warden --version" "$("$WARDEN" --version)" "$out"

status=0
"$WARDEN" no-such-command 2>"$TMP/err" || status=$?
expect_eq "unknown command exit status" "$status" "2"
expect_grep "unknown command message" "unknown command 'no-such-command'" "$TMP/err"

finish
