#!/usr/bin/python3
"""Run a store unit test binary against a throwaway PostgreSQL cluster.

Starts a cluster with tests/integration/pglib.py, passes its URL to the
test in WD_TEST_STORE_URL, and exits with the test's status. Exits 77 with
the reason printed when no cluster can start here (no PostgreSQL 15
binaries, not root, no postgres user)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "integration"))
import pglib  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print("usage: run_on_postgres.py TEST_BINARY [ARGS...]", file=sys.stderr)
        return 2
    pglib.skip_unless_available()
    with pglib.Postgres() as pg:
        url = (f"postgresql://{pg.admin_user}:{pg.admin_password}@/{pg.database}"
               f"?host={pg.socket_dir}")
        env = dict(os.environ, WD_TEST_STORE_URL=url)
        result = subprocess.run(sys.argv[1:], env=env)
        if result.returncode != 0:
            sys.stderr.write(pg.log()[-4000:])
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
