#!/bin/sh
# Installs the Debian packages that building, testing or the demo needs,
# asking apt-get only for the ones that are missing.
#
# usage: scripts/install-deps.sh [build|test|demo|fuzz|bench]...
set -eu

build_packages="gcc make meson ninja-build pkg-config libssl-dev libevent-dev
libjansson-dev libyaml-dev libsqlite3-dev libgmp-dev libpcre2-dev tzdata
libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev openssl
libpq-dev libsodium-dev libarchive-dev clang bpftool libbpf-dev"
test_packages="libcmocka-dev curl python3 python3-cryptography python3-jwt
python3-grpcio python3-grpc-tools clang libclang-rt-14-dev sqlite3
nginx-light wrk postgresql python3-hvac python3-jsonschema python3-yaml rpm golang-go"
demo_packages="openssl curl nginx-light python3 python3-jwt python3-cryptography
postgresql postgresql-client"
bench_packages="openssl procps curl nginx-light wrk haproxy stunnel4 python3
iproute2 postgresql libpq-dev time bpftrace python3-cryptography"
fuzz_packages="clang libclang-rt-14-dev"

wanted=""
[ $# -eq 0 ] && set -- build
for set_name in "$@"; do
	case "$set_name" in
	build) wanted="$wanted $build_packages" ;;
	test) wanted="$wanted $build_packages $test_packages" ;;
	demo) wanted="$wanted $build_packages $demo_packages" ;;
	fuzz) wanted="$wanted $build_packages $fuzz_packages" ;;
	bench) wanted="$wanted $build_packages $bench_packages" ;;
	*)
		echo "install-deps: unknown package set '$set_name' (expected build, test, demo, fuzz or bench)" >&2
		exit 2
		;;
	esac
done

missing=""
for package in $wanted; do
	case " $missing " in *" $package "*) continue ;; esac
	status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $package"
done

if [ -z "$missing" ]; then
	exit 0
fi

command="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root: apt-get update && $command" >&2
	exit 1
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
