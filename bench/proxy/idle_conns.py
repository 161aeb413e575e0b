#!/usr/bin/python3
"""Open many keep-alive HTTP/1.1 connections to a port and hold them idle.

Each connection sends one GET and reads the whole response, so every hop of a
proxy chain behind the port is established, then stays open without traffic.
When done, the client writes a JSON status to --status-file and waits for
SIGTERM; it then counts the connections a peer has closed meanwhile, writes a
second status to --final-file, closes everything and exits.
"""

import argparse
import errno
import json
import os
import selectors
import signal
import socket
import time

# Largest response header block accepted before a connection counts as
# failed, in bytes.
MAX_HEADER_BYTES = 16384


class Connection:
    """One client connection and the response bytes read so far."""

    def __init__(self, sock):
        self.sock = sock
        self.received = b""
        self.body_length = None
        self.header_length = None

    def response_complete(self):
        """Return True once the headers and Content-Length bytes are in."""
        if self.header_length is None:
            end = self.received.find(b"\r\n\r\n")
            if end < 0:
                if len(self.received) > MAX_HEADER_BYTES:
                    raise ValueError("response headers exceed %d bytes" % MAX_HEADER_BYTES)
                return False
            self.header_length = end + 4
            head = self.received[:end].decode("latin-1").split("\r\n")
            status = head[0].split(" ")
            if len(status) < 2 or status[1] != "200":
                raise ValueError("status line %r is not 200" % head[0])
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.body_length = int(value.strip())
            if self.body_length is None:
                raise ValueError("response has no Content-Length")
        return len(self.received) >= self.header_length + self.body_length


def write_json(path, record):
    """Write record to path through a rename, so readers never see half of it."""
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(record, f)
        f.write("\n")
    os.replace(temporary, path)


def open_connections(args):
    """Establish up to args.count connections; return (open sockets, failures)."""
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % args.path).encode()
    selector = selectors.DefaultSelector()
    established = []
    failures = {}
    started = 0
    in_flight = 0
    deadline = time.monotonic() + args.timeout

    def fail(conn, reason):
        nonlocal in_flight
        selector.unregister(conn.sock)
        conn.sock.close()
        in_flight -= 1
        failures[reason] = failures.get(reason, 0) + 1

    while (started < args.count or in_flight > 0) and time.monotonic() < deadline:
        while started < args.count and in_flight < args.concurrency:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            started += 1
            result = sock.connect_ex(("127.0.0.1", args.port))
            if result not in (0, errno.EINPROGRESS):
                sock.close()
                reason = errno.errorcode.get(result, str(result))
                failures[reason] = failures.get(reason, 0) + 1
                continue
            selector.register(sock, selectors.EVENT_WRITE, Connection(sock))
            in_flight += 1

        for key, _ in selector.select(timeout=0.5):
            conn = key.data
            if key.events & selectors.EVENT_WRITE:
                error = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    fail(conn, errno.errorcode.get(error, str(error)))
                    continue
                try:
                    conn.sock.send(request)
                except OSError as e:
                    fail(conn, errno.errorcode.get(e.errno, str(e)))
                    continue
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                chunk = conn.sock.recv(65536)
            except OSError as e:
                fail(conn, errno.errorcode.get(e.errno, str(e)))
                continue
            if not chunk:
                fail(conn, "closed before the response")
                continue
            conn.received += chunk
            try:
                complete = conn.response_complete()
            except ValueError as e:
                fail(conn, str(e))
                continue
            if complete:
                selector.unregister(conn.sock)
                in_flight -= 1
                established.append(conn.sock)

    if in_flight > 0:
        failures["timed out"] = failures.get("timed out", 0) + in_flight
        for key in list(selector.get_map().values()):
            key.fileobj.close()
    selector.close()
    return established, failures


def count_closed(sockets):
    """Count sockets whose peer closed them (readable with EOF or an error)."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    for key, _ in selector.select(timeout=0):
        try:
            if not key.fileobj.recv(1, socket.MSG_PEEK):
                closed += 1
        except OSError:
            closed += 1
    selector.close()
    return closed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--count", type=int, required=True, help="connections to open")
    parser.add_argument("--path", default="/", help="request path (default /)")
    parser.add_argument("--concurrency", type=int, default=128,
                        help="connections being opened at once (default 128)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds allowed for opening all connections (default 120)")
    parser.add_argument("--status-file", required=True,
                        help="JSON written once the connections are open")
    parser.add_argument("--final-file", required=True,
                        help="JSON written after SIGTERM, before closing")
    args = parser.parse_args()

    # SIGTERM stays blocked and is taken with sigwait, so a signal that
    # arrives before the wait is not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    started = time.monotonic()
    sockets, failures = open_connections(args)
    write_json(args.status_file, {
        "requested": args.count,
        "established": len(sockets),
        "failures": failures,
        "seconds": round(time.monotonic() - started, 2),
    })

    signal.sigwait({signal.SIGTERM})
    write_json(args.final_file, {
        "held": len(sockets),
        "closed_by_peer": count_closed(sockets),
        "held_seconds": round(time.monotonic() - started, 2),
    })
    for sock in sockets:
        sock.close()


if __name__ == "__main__":
    main()
