#!/usr/bin/env python3
"""A small, strict TFTP client for the integration tests: it does what the
packaged clients cannot be told to do (behave like 9boot, go silent, send
from the wrong port, repeat ACKs, send garbage) and reports what the server
did. Every wait is bounded. Usage: tftp-probe.py COMMAND PORT ARGS...

  get FILE OUT [SRCPORT] [opt=val ...]   lock-step read (options if given)
  nineboot FILE OUT SRCPORT              no options, never ACKs the last block
  nineboot2 FILE1 FILE2 OUT SRCPORT      the same, then FILE2 from that port
  silent FILE [opt=val ...]              sends an RRQ, then never answers
  count SECONDS FILE [opt=val ...]       the same; prints how many packets came
  oack FILE opt=val ...                  prints the server's OACK or ERROR
  wrongtid FILE OUT                      a stranger ACKs mid-transfer
  dupack FILE OUT                        every ACK sent twice; counts DATA
  perblock FILE OUT                      windowsize 8, yet ACKs every block
  clienterror FILE                       ERROR after block 1
  raw HEX                                sends bytes, prints the reply
  many FILE N [PER [FIRST]]              N silent RRQs (timeout=1) at once, PER
                                         from each loopback address (default 50)
                                         starting at 127.0.0.FIRST (default 1)
  flood N                                N garbage datagrams, no waiting
"""
import socket
import struct
import sys

HOST = "127.0.0.1"


def rrq(name, opts=(), mode="octet"):
    p = struct.pack("!H", 1) + name.encode() + b"\0" + mode.encode() + b"\0"
    for o in opts:
        k, v = o.split("=", 1)
        p += k.encode() + b"\0" + v.encode() + b"\0"
    return p


def ack(n):
    return struct.pack("!HH", 4, n)


def sock(srcport=0, timeout=5.0, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src or HOST, srcport))
    s.settimeout(timeout)
    return s


def describe(pkt):
    op = struct.unpack("!H", pkt[:2])[0] if len(pkt) >= 2 else -1
    if op == 5:
        code = struct.unpack("!H", pkt[2:4])[0]
        return "ERROR %d %s" % (code, pkt[4:].split(b"\0")[0].decode(errors="replace"))
    if op == 6:
        f = pkt[2:].split(b"\0")[:-1]
        return "OACK " + " ".join("%s=%s" % (f[i].decode(), f[i + 1].decode())
                                  for i in range(0, len(f) - 1, 2))
    if op == 3:
        return "DATA %d len %d" % (struct.unpack("!H", pkt[2:4])[0], len(pkt) - 4)
    return "op %d" % op


def read_file(s, port, name, opts=(), skip_last_ack=False, dup_acks=False,
              stranger_at=None, window=1):
    """Lock-step read. Returns (data, number of DATA packets seen, notes)."""
    s.sendto(rrq(name, opts), (HOST, port))
    blksize = 512
    data = bytearray()
    expect = 1
    tid = None
    seen = 0
    notes = []
    while True:
        pkt, addr = s.recvfrom(70000)
        if tid is None:
            tid = addr
        if addr != tid:
            notes.append("packet from another TID")
            continue
        op = struct.unpack("!H", pkt[:2])[0]
        if op == 5:
            raise SystemExit(describe(pkt))
        if op == 6:
            for k, v in zip(pkt[2:].split(b"\0")[0::2], pkt[2:].split(b"\0")[1::2]):
                if k.lower() == b"blksize":
                    blksize = int(v)
            s.sendto(ack(0), tid)
            continue
        if op != 3:
            raise SystemExit("unexpected " + describe(pkt))
        seen += 1
        blk = struct.unpack("!H", pkt[2:4])[0]
        if blk != expect:
            continue
        data += pkt[4:]
        last = len(pkt) - 4 < blksize
        if stranger_at == blk:
            o = sock(timeout=3)
            o.sendto(ack(blk), tid)
            try:
                r, _ = o.recvfrom(1000)
                notes.append("stranger got " + describe(r))
            except socket.timeout:
                notes.append("stranger got nothing")
            o.close()
        if last and skip_last_ack:
            return data, seen, notes
        if window > 1 and blk % window and not last:
            expect += 1     # RFC 7440: one ACK per window
            continue
        s.sendto(ack(blk), tid)
        if dup_acks:
            s.sendto(ack(blk), tid)
        expect += 1
        if last:
            # Linger: anything more from the server is a duplicate.
            s.settimeout(0.5)
            try:
                while True:
                    s.recvfrom(70000)
                    seen += 1
            except socket.timeout:
                pass
            return data, seen, notes


def main():
    cmd, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if cmd == "get":
        src = int(args[2]) if len(args) > 2 else 0
        data, _, _ = read_file(sock(src), port, args[0], args[3:])
        open(args[1], "wb").write(data)
    elif cmd == "nineboot":
        data, _, _ = read_file(sock(int(args[2])), port, args[0], skip_last_ack=True)
        open(args[1], "wb").write(data)
    elif cmd == "nineboot2":
        s = sock(int(args[3]))
        read_file(s, port, args[0], skip_last_ack=True)
        data, _, _ = read_file(s, port, args[1])
        open(args[2], "wb").write(data)
    elif cmd == "silent":
        s = sock()
        s.sendto(rrq(args[0], args[1:]), (HOST, port))
        pkt, _ = s.recvfrom(70000)
        print(describe(pkt))
        s.close()
    elif cmd == "count":
        # An RRQ from a spoofed address, in effect: never answered. Prints
        # how many packets the server sent in the given seconds.
        s = sock(timeout=0.2)
        s.sendto(rrq(args[1], args[2:]), (HOST, port))
        import time
        end, n = time.time() + float(args[0]), 0
        while time.time() < end:
            try:
                s.recvfrom(70000)
                n += 1
            except socket.timeout:
                pass
        print("packets %d" % n)
        s.close()
    elif cmd == "oack":
        s = sock()
        s.sendto(rrq(args[0], args[1:]), (HOST, port))
        pkt, addr = s.recvfrom(70000)
        print(describe(pkt))
        if pkt[:2] == b"\0\6":
            s.sendto(struct.pack("!HH", 5, 8) + b"probe done\0", addr)
    elif cmd == "wrongtid":
        data, _, notes = read_file(sock(), port, args[0], stranger_at=3)
        open(args[1], "wb").write(data)
        print("\n".join(notes))
    elif cmd == "dupack":
        data, seen, _ = read_file(sock(), port, args[0], dup_acks=True)
        open(args[1], "wb").write(data)
        print("data packets %d" % seen)
    elif cmd == "perblock":
        data, seen, _ = read_file(sock(), port, args[0], ["windowsize=8"])
        open(args[1], "wb").write(data)
        print("data packets %d" % seen)
    elif cmd == "window":
        data, seen, _ = read_file(sock(), port, args[0], ["windowsize=8"], window=8)
        open(args[1], "wb").write(data)
        print("data packets %d" % seen)
    elif cmd == "clienterror":
        s = sock()
        s.sendto(rrq(args[0]), (HOST, port))
        pkt, addr = s.recvfrom(70000)
        s.sendto(struct.pack("!HH", 5, 0) + b"probe gives up\0", addr)
        print(describe(pkt))
    elif cmd == "raw":
        s = sock(timeout=1.0)
        s.sendto(bytes.fromhex(args[0]), (HOST, port))
        try:
            pkt, _ = s.recvfrom(70000)
            print(describe(pkt))
        except socket.timeout:
            print("nothing")
    elif cmd == "many":
        import resource
        n = int(args[1])
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
        per = int(args[2]) if len(args) > 2 else 50
        first = int(args[3]) if len(args) > 3 else 1
        # Like machines in a rack: a few transfers from each of many
        # addresses (the server caps transfers per address).
        socks = [sock(timeout=10, src="127.0.0.%d" % (first + i // per)) for i in range(n)]
        for s in socks:
            s.sendto(rrq(args[0], ["timeout=1"]), (HOST, port))
        got = busy = 0
        for s in socks:
            try:
                pkt = s.recvfrom(70000)[0]
                if pkt[:2] == b"\0\6":
                    got += 1
                elif pkt[:2] == b"\0\5":
                    busy += 1
            except socket.timeout:
                pass
        print("oacks %d" % got)
        print("errors %d" % busy)
    elif cmd == "flood":
        import os
        s = sock()
        for i in range(int(args[0])):
            s.sendto(os.urandom(1 + i % 40), (HOST, port))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except socket.timeout:
        raise SystemExit("timeout")
