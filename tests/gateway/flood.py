#!/usr/bin/env python3
"""Hold up to N unauthenticated TCP connections open against HOST:PORT for
SECONDS, reopening any the server closes: a bounded, local-only flood for
the MaxStartups / PerSourceMaxStartups test.  Prints how many connection
attempts were made and how many the server closed.

usage: flood.py HOST PORT N SECONDS
"""
import selectors
import socket
import sys
import time


def main():
    host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4])
    sel = selectors.DefaultSelector()
    attempts = closed = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        while len(sel.get_map()) < n and time.monotonic() < end:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            attempts += 1
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                closed += 1
                time.sleep(0.001)
                continue
            sel.register(s, selectors.EVENT_READ)
        for key, _ in sel.select(timeout=0.05):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                closed += 1
    print(f"{attempts} attempts, {closed} closed by the server")


if __name__ == "__main__":
    main()
