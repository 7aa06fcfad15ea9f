#!/usr/bin/env python3
"""A raw DHCPv6 client for the tests: sends what dhclient cannot (option 61,
broken datagrams, deep relay nests) and prints what came back.

  dhcp6_probe.py SERVER malformed     send each kind of broken datagram once
  dhcp6_probe.py SERVER pxe           rapid-commit Solicit, arch 7, PXEClient
  dhcp6_probe.py SERVER relay LINK N  a Solicit inside N Relay-Forw layers
  dhcp6_probe.py SERVER ipxe          Solicit with user class iPXE
  dhcp6_probe.py SERVER seeds DIR     write seed datagrams for the fuzzer
"""
import os
import socket
import struct
import sys


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


DUID = b"\x00\x03\x00\x01\x52\x54\x00\xee\x00\x61"


def ia_na(iaid, inner=b""):
    return opt(3, struct.pack("!III", iaid, 0, 0) + inner)


def solicit(extra=b"", rapid=False, duid=DUID, nia=1):
    m = b"\x01\x12\x34\x56" + opt(1, duid) + opt(8, b"\x00\x00")
    for i in range(nia):
        m += ia_na(i + 1)
    if rapid:
        m += opt(14, b"")
    return m + extra


def pxe_extra(arch=7, vendor=b"PXEClient:Arch:00007:UNDI:003016"):
    return (opt(61, struct.pack("!H", arch)) +
            opt(16, struct.pack("!IH", 343, len(vendor)) + vendor) +
            opt(6, struct.pack("!HH", 59, 23)))


def relay(inner, link, hops, ifid=None):
    m = bytes([12, hops]) + socket.inet_pton(socket.AF_INET6, link) + b"\xfe\x80" + b"\x00" * 13 + b"\x01"
    if ifid is not None:
        m += opt(18, ifid)
    return m + opt(9, inner)


def nest(inner, link, n):
    for i in range(n):
        inner = relay(inner, link, i, ifid=b"if%d" % i)
    return inner


def malformed():
    bad = []
    bad.append(("short", b"\x01\x00"))
    bad.append(("option", b"\x01\x00\x00\x01" + struct.pack("!HH", 1, 1000) + DUID))
    bad.append(("hops", nest(solicit(), "fd9a::1", 40)))
    bad.append(("too_many_ia", solicit(nia=200)))
    bad.append(("no_relay_msg", bytes([12, 0]) + b"\x00" * 32 + opt(18, b"x")))
    bad.append(("duid", b"\x01\x00\x00\x01" + opt(1, b"\x00")))
    bad.append(("type", b"\x02\x00\x00\x01" + opt(1, DUID)))
    bad.append(("ia", b"\x01\x00\x00\x01" + opt(1, DUID) + opt(3, b"\x00\x00\x00\x01")))
    bad.append(("ia", b"\x01\x00\x00\x01" + opt(1, DUID) +
                ia_na(1, struct.pack("!HH", 5, 200) + b"\x00" * 24)))
    return bad


def exchange(sock, server, msg, wait=2.0):
    sock.sendto(msg, (server, 547))
    sock.settimeout(wait)
    try:
        data, _ = sock.recvfrom(4096)
        return data
    except socket.timeout:
        return None


def options(data):
    out = []
    i = 0
    while i + 4 <= len(data):
        code, n = struct.unpack("!HH", data[i:i + 4])
        out.append((code, data[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def describe(data):
    """The client message inside any Relay-Repl layers, as text."""
    layers = []
    while data and data[0] == 13:
        ifid = None
        inner = None
        for code, val in options(data[34:]):
            if code == 18:
                ifid = val
            if code == 9:
                inner = val
        layers.append(ifid)
        data = inner
    if not data:
        return "nothing"
    words = ["type %d" % data[0], "relays %d" % len(layers)]
    if layers:
        words.append("outer-ifid %s" % (layers[0] or b"").decode(errors="replace"))
    for code, val in options(data[4:]):
        if code == 3:
            for c2, v2 in options(val[12:]):
                if c2 == 5:
                    words.append("addr " + socket.inet_ntop(socket.AF_INET6, v2[:16]))
                if c2 == 13:
                    words.append("ia-status %d" % struct.unpack("!H", v2[:2])[0])
        elif code == 59:
            words.append("url " + val.decode(errors="replace"))
        elif code == 14:
            words.append("rapid")
        elif code == 16:
            words.append("vendor " + val[6:].decode(errors="replace"))
    return " ".join(words)


def main():
    server, what = sys.argv[1], sys.argv[2]
    if what == "seeds":
        d = sys.argv[3]
        os.makedirs(d, exist_ok=True)
        seeds = {"pxe-solicit": solicit(pxe_extra(), rapid=True),
                 "ipxe-solicit": solicit(opt(15, struct.pack("!H", 4) + b"iPXE")),
                 "relayed-3": nest(solicit(pxe_extra(16, b"HTTPClient")), "fd9a::1", 3),
                 "request": b"\x03\x00\x00\x01" + opt(1, DUID) + opt(2, b"\x00\x04" + b"\x11" * 16) +
                            ia_na(1, opt(5, socket.inet_pton(socket.AF_INET6, "fd9a::100") + b"\x00" * 8)),
                 "info-request": b"\x0b\x00\x00\x01" + opt(1, DUID) + opt(6, b"\x00\x17\x00\x3b")}
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        return 0
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    if what == "malformed":
        for name, data in malformed():
            sock.sendto(data, (server, 547))
            print("sent %s (%d bytes)" % (name, len(data)))
        return 0
    if what == "pxe":
        msg = solicit(pxe_extra(), rapid=True)
    elif what == "ipxe":
        msg = solicit(opt(15, struct.pack("!H", 4) + b"iPXE") + opt(6, struct.pack("!H", 59)),
                      duid=b"\x00\x04" + b"\x42" * 16)
    elif what == "relay":
        msg = nest(solicit(pxe_extra(16, b"HTTPClient")), sys.argv[3], int(sys.argv[4]))
    else:
        print("unknown command", what)
        return 2
    reply = exchange(sock, server, msg)
    print("reply " + (describe(reply) if reply else "none"))
    return 0 if reply else 1


if __name__ == "__main__":
    sys.exit(main())
