#!/usr/bin/env python3
"""Many DHCP clients on one broadcast link, for the shared-store tests
(tests/integration/store_pg.sh, bench/store.sh): N made-up MACs, each
running DISCOVER / OFFER / REQUEST / ACK with the broadcast flag, through
one socket on UDP port 68 bound to the interface. Several servers may
answer: a client takes the first OFFER, names its server in the REQUEST,
and starts again after a NAK or 3 s without an ACK (its server may have
died). Every step is resent after 1 s of silence; the whole run ends
after LIMIT seconds.

  store-dora.py IFACE N OUT [--base B] [--mark K FILE] [--limit S]
                [--reboot FILE] [--pace P]

--base B      the MACs are 02:00:B:00:hi:lo (B a byte, default 1)
--mark K FILE create FILE once K clients have their ACK (a test kills
              something then)
--reboot FILE instead of new leases: every client of an earlier run's
              OUT asks for its address again (INIT-REBOOT: REQUEST with
              the address, no server), as a machine that restarts
--pace P      start P new clients a second (default: all at once)

OUT gets one JSON object: n, completed, seconds, rate (ACKs per second),
p50/p99 of DISCOVER-to-ACK in ms, clients {mac: {ip, server}}, and every
ACK seen as [mac, ip, server] (a later one for the same MAC included), so
the caller can check that no address was acknowledged to two clients.
"""
import json
import select
import socket
import struct
import sys
import time

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK = 1, 2, 3, 4, 5, 6


def packet(mac, xid, msgtype, reqip=None, sid=None):
    p = bytearray(240)
    p[0], p[1], p[2], p[3] = 1, 1, 6, 0
    p[4:8] = struct.pack("!I", xid)
    p[10:12] = struct.pack("!H", 0x8000)      # broadcast: we have no address
    p[28:34] = mac
    p[236:240] = b"\x63\x82\x53\x63"
    o = bytearray([53, 1, msgtype])
    if reqip:
        o += bytes([50, 4]) + socket.inet_aton(reqip)
    if sid:
        o += bytes([54, 4]) + socket.inet_aton(sid)
    o += bytes([55, 3, 1, 3, 51, 255])
    return bytes(p + o)


def parse(b):
    if len(b) < 240 or b[236:240] != b"\x63\x82\x53\x63":
        return None
    xid = struct.unpack("!I", b[4:8])[0]
    yiaddr = socket.inet_ntoa(b[16:20])
    mac = bytes(b[28:34])
    opts, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        n = b[i + 1]
        opts[b[i]] = bytes(b[i + 2:i + 2 + n])
        i += 2 + n
    t = opts.get(53, b"\0")[0]
    sid = socket.inet_ntoa(opts[54]) if len(opts.get(54, b"")) == 4 else None
    return xid, mac, t, yiaddr, sid


def main():
    a = sys.argv[1:]
    iface, n, out = a[0], int(a[1]), a[2]
    base, mark_k, mark_f, limit, reboot, pace = 1, -1, None, 90.0, None, 0
    i = 3
    while i < len(a):
        if a[i] == "--base":
            base = int(a[i + 1]); i += 2
        elif a[i] == "--mark":
            mark_k, mark_f = int(a[i + 1]), a[i + 2]; i += 3
        elif a[i] == "--limit":
            limit = float(a[i + 1]); i += 2
        elif a[i] == "--reboot":
            reboot = json.load(open(a[i + 1])); i += 2
        elif a[i] == "--pace":
            pace = int(a[i + 1]); i += 2
        else:
            sys.exit("unknown argument " + a[i])

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", 68))
    dest = ("255.255.255.255", 67)

    clients = {}
    if reboot:
        for k, v in reboot["clients"].items():
            mac = bytes.fromhex(k.replace(":", ""))
            clients[mac] = {"state": "reboot", "ip": v["ip"], "sid": None, "xid": 0,
                            "sent": 0.0, "since": 0.0, "started": None, "done": None}
    else:
        for j in range(n):
            mac = bytes([2, 0, base, 0, j >> 8, j & 255])
            clients[mac] = {"state": "discover", "ip": None, "sid": None, "xid": 0,
                            "sent": 0.0, "since": 0.0, "started": None, "done": None}
    order = list(clients)
    acks = []
    done = 0
    marked = False
    t0 = time.monotonic()
    xid = 1
    started = 0

    def send(mac, c, now):
        nonlocal xid
        xid += 1
        c["xid"] = xid
        c["sent"] = now
        if c["state"] == "discover":
            s.sendto(packet(mac, xid, DISCOVER), dest)
        elif c["state"] == "request":
            s.sendto(packet(mac, xid, REQUEST, c["ip"], c["sid"]), dest)
        elif c["state"] == "reboot":
            s.sendto(packet(mac, xid, REQUEST, c["ip"]), dest)

    byxid = {}
    while done < len(clients) and time.monotonic() - t0 < limit:
        now = time.monotonic()
        budget = int(pace * (now - t0)) + 1 - started if pace else len(order)
        for mac in order:
            c = clients[mac]
            if c["done"] is not None:
                continue
            if c["started"] is None:
                if budget <= 0:
                    continue
                budget -= 1
                c["started"] = now
                c["since"] = now
                started += 1
            elif now - c["sent"] < 1.0:
                continue
            if c["state"] == "request" and now - c["since"] > 3.0:
                c["state"], c["since"] = "discover", now
            send(mac, c, now)
            byxid[c["xid"]] = mac
        r, _, _ = select.select([s], [], [], 0.01)
        while r:
            try:
                b = s.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            p = parse(b)
            if p is None:
                continue
            x, mac, t, yi, sid = p
            c = clients.get(mac)
            if c is None or byxid.get(x) != mac or c["xid"] != x or c["done"] is not None:
                if t == ACK and c is not None:
                    acks.append([mac.hex(":"), yi, sid])
                continue
            now = time.monotonic()
            if t == OFFER and c["state"] == "discover":
                c["state"], c["ip"], c["sid"], c["since"] = "request", yi, sid, now
                send(mac, c, now)
                byxid[c["xid"]] = mac
            elif t == ACK and c["state"] in ("request", "reboot"):
                acks.append([mac.hex(":"), yi, sid])
                c["ip"], c["sid"], c["done"] = yi, sid, now
                done += 1
            elif t == NAK:
                c["state"], c["since"] = "discover", now
        if not marked and mark_k >= 0 and done >= mark_k:
            open(mark_f, "w").close()
            marked = True

    secs = time.monotonic() - t0
    lat = sorted((c["done"] - c["started"]) * 1000 for c in clients.values()
                 if c["done"] is not None)

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None

    res = {
        "n": len(clients), "completed": done, "seconds": round(secs, 3),
        "rate": round(done / secs, 1) if secs > 0 else 0,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        "clients": {m.hex(":"): {"ip": c["ip"], "server": c["sid"]}
                    for m, c in clients.items() if c["done"] is not None},
        "acks": acks,
    }
    json.dump(res, open(out, "w"))


if __name__ == "__main__":
    main()
