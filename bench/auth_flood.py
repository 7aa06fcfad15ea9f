#!/usr/bin/env python3
"""Helpers for bench/auth.sh.

  auth_flood.py flood HOST PORT CONNS SECONDS [FIRST_SOURCE NSOURCES]
      CONNS threads, each opening connections one after another for
      SECONDS: an AuthPAK Ticketreq for a made-up user (the server makes
      a key up and does the curve work for it, as for a real one), the
      server's Y read, and a hang-up. A lone attacker's flood is cut by
      the per-source and per-user request limits and the failure limiter
      (docs/auth.md); this one is the flood those limits concede: every
      request names another user, and the connections come from NSOURCES
      addresses from FIRST_SOURCE on in turn (enough of them, none goes
      over the per-source rate), without a failure (no bad Y is sent).
      Prints "pak_per_s N refused M" (M: AuthErr or a close instead of a Y).
  auth_flood.py metric URL NAME
      prints the value of metric line NAME (labels included) at URL.
  auth_flood.py http URL N
      N sequential GETs, a new connection each; prints "p50_ms X p99_ms Y".
"""
import ipaddress
import socket
import sys
import threading
import time
import urllib.request

def treq(uid):
    def f(s, n):
        b = s.encode()
        return b + bytes(n - len(b))
    # type, authid[28], authdom[48], chal[8], hostid[28], uid[28]
    return bytes([19]) + f("", 28) + f("bench", 48) + bytes(8) + f("", 28) + f(uid, 28)

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def flood(host, port, conns, secs, first=None, nsrc=1):
    stop = time.time() + secs
    count = [0] * conns
    refused = [0] * conns
    base = int(ipaddress.IPv4Address(first)) if first else None

    def one(i):
        k = 0
        while time.time() < stop:
            k += 1
            src = None
            if base is not None:
                src = (str(ipaddress.IPv4Address(base + (k * conns + i) % nsrc)), 0)
            try:
                s = socket.create_connection((host, port), timeout=5, source_address=src)
                s.sendall(treq("flood%d.%d" % (i, k)))
                r = recvn(s, 1)
                if r[0] == 4:
                    recvn(s, 56)
                    count[i] += 1
                else:
                    refused[i] += 1
                s.close()
            except (OSError, EOFError) as e:
                refused[i] += 1
                if "-v" in sys.argv: print(i, repr(e), file=sys.stderr)
                time.sleep(0.01)    # a server that refuses must not make this a spin

    t0 = time.time()
    th = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print("pak_per_s %.0f refused %d" % (sum(count) / (time.time() - t0), sum(refused)))

def http(url, n):
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    print("p50_ms %.2f p99_ms %.2f" % (lat[len(lat) // 2], lat[min(len(lat) - 1, len(lat) * 99 // 100)]))

def metric(url, name):
    with urllib.request.urlopen(url, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                print(line.split()[1])
                return
    print(0)

if sys.argv[1] == "metric":
    metric(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "flood":
    a = [x for x in sys.argv[2:] if x != "-v"]
    flood(a[0], int(a[1]), int(a[2]), float(a[3]), a[4] if len(a) > 4 else None,
          int(a[5]) if len(a) > 5 else 1)
else:
    http(sys.argv[2], int(sys.argv[3]))
