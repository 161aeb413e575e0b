#!/bin/sh
# Fails when C sources call a function the project bans: unbounded string
# copies and formatting, unchecked number parsing, weak randomness and
# unsafe temporary names. Secrets are compared with CRYPTO_memcmp, which a
# reviewer checks, since plain memcmp is fine for public data.
#
# usage: scripts/check-banned.sh [SOURCE_ROOT]
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
banned='strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|rand|srand|strtok|tmpnam|tempnam|mktemp|alloca'

matches=$(grep -rnE "(^|[^a-zA-Z0-9_])($banned)[[:space:]]*\(" \
	--include='*.c' --include='*.h' "$root/src" "$root/tests" "$root/bench" 2>/dev/null |
	grep -vE '(sn|vsn)printf' || true)

if [ -n "$matches" ]; then
	echo "banned functions called:" >&2
	echo "$matches" >&2
	exit 1
fi
echo "no banned functions in src, tests or bench"
