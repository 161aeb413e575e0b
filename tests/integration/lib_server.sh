# Starts a warden server for integration shell tests: start_server TD DIR
# [extra args] leaves its pid in SERVER_PID and its admin socket in
# $DIR/admin.sock, and waits up to 10 s for it to answer.
start_server() {
	trust_domain=$1
	dir=$2
	shift 2
	mkdir -p "$dir"
	"$WARDEN" server --trust-domain "$trust_domain" --data-dir "$dir/data" \
		--listen 127.0.0.1:0 --policy-listen 127.0.0.1:0 --secrets-listen 127.0.0.1:0 --admin-socket "$dir/admin.sock" "$@" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	BACKGROUND_PIDS="$BACKGROUND_PIDS $SERVER_PID"
	for _ in $(seq 1 100); do
		if [ -S "$dir/admin.sock" ] &&
			curl -sf --unix-socket "$dir/admin.sock" http://x/v1/health >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "warden server exited:" >&2
			cat "$dir/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "warden server not ready in 10 s" >&2
	cat "$dir/server.log" >&2
	exit 1
}

# admin_post DIR PATH JSON: POSTs to the admin API and prints the body.
admin_post() {
	curl -s --unix-socket "$1/admin.sock" -H 'Content-Type: application/json' \
		-X POST "http://x$2" -d "$3"
}

# json_field FIELD: prints one top-level field of the JSON on stdin.
json_field() {
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# mint_to DIR SPIFFE_ID OUT: mints an SVID and writes svid.pem, svid.key
# and bundle.pem under OUT.
mint_to() {
	mkdir -p "$3"
	admin_post "$1" /v1/svid/mint "{\"spiffe_id\": \"$2\"}" >"$3/mint.json"
	json_field svid <"$3/mint.json" >"$3/svid.pem"
	json_field private_key <"$3/mint.json" >"$3/svid.key"
	json_field bundle <"$3/mint.json" >"$3/bundle.pem"
	chmod 600 "$3/svid.key"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
