#!/usr/bin/env python3
"""Helpers for bench/auth.sh.

  auth_flood.py flood HOST PORT CONNS SECONDS
      CONNS connections each sending AuthPAK Ticketreqs (authid bootes,
      hostid and uid glenda) and, after each reply, two all-zero Y's, as
      fast as the server answers, for SECONDS; prints "pak_per_s N".
  auth_flood.py metric URL NAME
      prints the value of metric line NAME (labels included) at URL.
  auth_flood.py http URL N
      N sequential GETs, a new connection each; prints "p50_ms X p99_ms Y".
"""
import socket
import sys
import threading
import time
import urllib.request

def treq():
    def f(s, n):
        b = s.encode()
        return b + bytes(n - len(b))
    # type, authid[28], authdom[48], chal[8], hostid[28], uid[28]
    return bytes([19]) + f("bootes", 28) + f("bench", 48) + bytes(8) + f("glenda", 28) + f("glenda", 28)

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def flood(host, port, conns, secs):
    stop = time.time() + secs
    count = [0] * conns
    req, ys = treq(), bytes(112)

    def one(i):
        while time.time() < stop:
            try:
                s = socket.create_connection((host, port), timeout=5)
                while time.time() < stop:
                    s.sendall(req)
                    r = recvn(s, 1 + 112)
                    if r[0] != 4:
                        break
                    s.sendall(ys)
                    count[i] += 1
                s.close()
            except (OSError, EOFError) as e:
                if "-v" in sys.argv: print(i, repr(e), file=sys.stderr)
                time.sleep(0.05)

    t0 = time.time()
    th = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print("pak_per_s %.0f" % (sum(count) / (time.time() - t0)))

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
    flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
else:
    http(sys.argv[2], int(sys.argv[3]))
