#!/usr/bin/env python3
"""Raw 9P2000 frames for tests that need bytes no well-behaved client sends
(tests/integration/p9_basic.sh): malformed frames, and a session that
holds a blocked read open while something else happens.

usage:
  p9frames.py write KIND FILE      write one malformed input to FILE
  p9frames.py events HOST PORT [flush]
                                   attach "grid", open events, read (it
                                   blocks, tag 10), print each reply as it
                                   comes for 6 s; with flush, Tflush the
                                   read (tag 11) once Ropen is back
"""
import select
import socket
import struct
import sys
import time


def frame(typ, tag, body=b""):
    return struct.pack("<IBH", 7 + len(body), typ, tag) + body


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def tversion(msize=8216, version="9P2000"):
    return frame(100, 0xFFFF, struct.pack("<I", msize) + s(version))


def tattach(fid, aname, tag=1):
    return frame(104, tag, struct.pack("<II", fid, 0xFFFFFFFF) + s("glenda") + s(aname))


def twalk(fid, newfid, names, tag=2):
    body = struct.pack("<IIH", fid, newfid, len(names)) + b"".join(s(n) for n in names)
    return frame(110, tag, body)


def topen(fid, mode=0, tag=3):
    return frame(112, tag, struct.pack("<IB", fid, mode))


def tread(fid, off, count, tag):
    return frame(116, tag, struct.pack("<IQI", fid, off, count))


def tflush(oldtag, tag):
    return frame(108, tag, struct.pack("<H", oldtag))


MALFORMED = {
    # a frame whose size field says 1 MiB more than any msize
    "oversized": tversion() + struct.pack("<IBH", 1 << 24, 116, 9),
    # unknown message type 250
    "unknowntype": tversion() + frame(250, 5, b"abc"),
    # 17 names in one walk
    "walk17": tversion() + tattach(0, "") + twalk(0, 1, ["a"] * 17, tag=7),
    # a string whose length runs past the end of the frame
    "badstring": tversion() + frame(104, 6, struct.pack("<II", 0, 0xFFFFFFFF) + b"\xff\x00ab"),
    # an unknown version: the reply must say "unknown"
    "badversion": tversion(version="9P1999"),
    # a duplicate fid in attach, a fid used after clunk
    "fids": tversion() + tattach(0, "", tag=1) + tattach(0, "", tag=2)
    + frame(120, 3, struct.pack("<I", 0)) + frame(124, 4, struct.pack("<I", 0)),
    # frame size 3: below the header; the server must close
    "tiny": struct.pack("<I", 3),
}


def replies(sock, timeout):
    """Yields (type, tag, body) for each reply within timeout seconds."""
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([sock], [], [], max(0, end - time.time()))
        if sock in r:
            data = sock.recv(65536)
            if not data:
                print("closed", flush=True)
                return
            buf += data
            while len(buf) >= 4:
                size = struct.unpack("<I", buf[:4])[0]
                if len(buf) < size:
                    break
                typ, tag = struct.unpack("<BH", buf[4:7])
                yield typ, tag, buf[7:size]
                buf = buf[size:]


def events(host, port, flush):
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(tversion() + tattach(0, "grid") + twalk(0, 1, ["events"]) + topen(1)
                 + tread(1, 0, 4096, tag=10))
    for typ, tag, body in replies(sock, 6):
        if typ == 113 and flush:
            # The read was sent before this Ropen came: it is blocked now.
            sock.sendall(tflush(10, 11))
        if typ == 117:
            n = struct.unpack("<I", body[:4])[0]
            print("Rread tag %d: %s" % (tag, body[4:4 + n].decode(errors="replace").strip()),
                  flush=True)
        elif typ == 107:
            print("Rerror tag %d: %s" % (tag, body[2:].decode()), flush=True)
        else:
            print("R%d tag %d" % (typ, tag), flush=True)


def main():
    if sys.argv[1] == "write":
        with open(sys.argv[3], "wb") as f:
            f.write(MALFORMED[sys.argv[2]])
    elif sys.argv[1] == "events":
        events(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "flush")


if __name__ == "__main__":
    main()
