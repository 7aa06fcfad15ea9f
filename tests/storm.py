#!/usr/bin/env python3
"""A boot storm against one gridbootd (tests/integration/boot_storm.sh,
bench/storm.sh), or against dnsmasq + nginx (bench/storm.sh's comparison):
N simulated PXE clients, each a thread running the whole chain a BIOS PXE
machine runs:

  DHCP   DISCOVER / OFFER / REQUEST / ACK, relayed: the client is its own
         relay (giaddr = 127.2.X.Y, from port 67), so each has its own
         socket and the server's network is 127.0.0.0/8
  TFTP   the loader named in the ACK (its file field, or option 67 as
         dnsmasq sends it; lock-step, blksize 1468), from the leased address
  HTTP   GET /files/KERNEL from the leased address
  enroll POST /api/v1/enroll {"mac", "n"} from the leased address
         (retried after a 429: enroll is rate-limited; STORM_ENROLL=0
         leaves it out, as for a machine the inventory knows)

Every step retries on silence (bounded: the daemon may be killed and
restarted meanwhile; the storm gives up after ten minutes). When DONE_MARK
clients have their ACK it creates MARK_FILE, so the caller can SIGKILL
gridbootd mid-storm. At the end it prints one JSON line: completed,
failed, chains per second, chain time percentiles, its own CPU seconds
(is the client the bottleneck?), and every client's MAC, every address
it was ACKed, and whether its enroll was answered 200. Usage:
  storm.py N HTTP_PORT TFTP_PORT DHCP_PORT LOADER LOADER_SIZE KERNEL KERNEL_SIZE
           [MARK_AT MARK_FILE] [MAC_BYTE]
"""
import json
import os
import socket
import struct
import sys
import threading
import time
import http.client

SERVER = "127.0.0.1"
STEP_TRIES = 40          # per step; 0.5-2 s each: a restart costs a few


def dhcp_packet(mac, xid, giaddr, msgtype, reqip=None, sid=None):
    p = bytearray(240)
    p[0], p[1], p[2], p[3] = 1, 1, 6, 1
    p[4:8] = struct.pack("!I", xid)
    p[24:28] = socket.inet_aton(giaddr)
    p[28:34] = mac
    p[236:240] = b"\x63\x82\x53\x63"
    o = bytearray([53, 1, msgtype, 93, 2, 0, 0])
    vc = b"PXEClient:Arch:00000:UNDI:002001"
    o += bytes([60, len(vc)]) + vc
    if reqip:
        o += bytes([50, 4]) + socket.inet_aton(reqip)
    if sid:
        o += bytes([54, 4]) + socket.inet_aton(sid)
    o += bytes([55, 4, 1, 3, 66, 67, 255])
    return bytes(p + o)


def dhcp_parse(pkt):
    if len(pkt) < 244 or pkt[236:240] != b"\x63\x82\x53\x63":
        return None
    r = {"xid": struct.unpack("!I", pkt[4:8])[0], "yiaddr": socket.inet_ntoa(pkt[16:20]),
         "file": pkt[108:236].split(b"\0")[0].decode(errors="replace")}
    i = 240
    while i < len(pkt) and pkt[i] != 255:
        if pkt[i] == 0:
            i += 1
            continue
        code, ln = pkt[i], pkt[i + 1]
        v = pkt[i + 2:i + 2 + ln]
        if code == 53:
            r["type"] = v[0]
        elif code == 54:
            r["sid"] = socket.inet_ntoa(v)
        elif code == 67:                # dnsmasq names the loader here when asked
            r["file"] = v.split(b"\0")[0].decode(errors="replace")
        i += 2 + ln
    return r


class Client:
    def __init__(self, n, args):
        self.n = n
        self.a = args
        self.mac = bytes([0x02, args["macbyte"], 0, 0, n >> 8, n & 255])
        self.macs = ":".join("%02x" % b for b in self.mac)
        self.giaddr = "127.2.%d.%d" % (n >> 8, n & 255)
        self.ips = []            # every address an ACK gave it
        self.enrolled = False
        self.error = None
        self.t0 = self.t1 = None

    def dhcp(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.giaddr, 67))
        s.settimeout(1.0)
        try:
            for t in range(STEP_TRIES):
                xid = (self.n << 12) | t
                s.sendto(dhcp_packet(self.mac, xid, self.giaddr, 1), (SERVER, self.a["dhcp"]))
                offer = self.wait(s, xid, 2)
                if offer is None:
                    continue
                s.sendto(dhcp_packet(self.mac, xid, self.giaddr, 3, offer["yiaddr"],
                                     offer.get("sid")), (SERVER, self.a["dhcp"]))
                ack = self.wait(s, xid, 5)
                if ack is None or ack["yiaddr"] != offer["yiaddr"]:
                    continue            # silence or NAK: start over
                self.ips.append(ack["yiaddr"])
                return ack
            raise RuntimeError("dhcp: no lease")
        finally:
            s.close()

    @staticmethod
    def wait(s, xid, want):
        end = time.time() + 1.0
        while time.time() < end:
            try:
                pkt, _ = s.recvfrom(2048)
            except socket.timeout:
                return None
            r = dhcp_parse(pkt)
            if r and r["xid"] == xid:
                return r if r.get("type") == want else None
        return None

    def tftp(self, ip, name):
        for t in range(STEP_TRIES):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, 0))
            s.settimeout(1.0)
            try:
                s.sendto(b"\0\1" + name.encode() + b"\0octet\0blksize\0" + b"1468\0",
                         (SERVER, self.a["tftp"]))
                data, block, peer, last = bytearray(), 0, None, False
                while True:
                    pkt, frm = s.recvfrom(2000)
                    if peer is None:
                        peer = frm
                    if frm != peer or len(pkt) < 4:
                        continue
                    op = struct.unpack("!H", pkt[:2])[0]
                    if op == 6:                     # OACK
                        s.sendto(b"\0\4\0\0", peer)
                        continue
                    if op != 3:
                        break                       # ERROR: ask again
                    b = struct.unpack("!H", pkt[2:4])[0]
                    if b == block + 1:
                        data += pkt[4:]
                        block = b
                        last = len(pkt) - 4 < 1468
                    s.sendto(b"\0\4" + struct.pack("!H", b), peer)
                    if b == block and last:
                        if len(data) == self.a["loader_size"]:
                            return
                        break
            except (socket.timeout, ConnectionRefusedError):
                pass
            finally:
                s.close()
        raise RuntimeError("tftp: %s not fetched" % name)

    def http(self, ip, method, path, body=None):
        # A 429 is the server's rate limit working (enroll: 20 a second),
        # not a failure: it has a budget of its own, two minutes of waits,
        # so that a rack of 400 that enrolls at that rate all gets through.
        tries, limited = 0, 0
        while tries < STEP_TRIES and limited < 240:
            try:
                c = http.client.HTTPConnection(SERVER, self.a["http"], timeout=5,
                                               source_address=(ip, 0))
                c.request(method, path, body=body)
                r = c.getresponse()
                data = r.read()
                c.close()
                if r.status == 429:
                    limited += 1
                    time.sleep(0.5)
                    continue
                return r.status, data
            except (OSError, http.client.HTTPException):
                tries += 1
                time.sleep(0.5)
        raise RuntimeError("http: %s %s failed" % (method, path))

    def run(self):
        self.t0 = time.time()
        try:
            ack = self.dhcp()
            with LOCK:
                STATE["acked"] += 1
                if STATE["acked"] == self.a["mark_at"] and self.a["mark_file"]:
                    open(self.a["mark_file"], "w").close()
            ip = ack["yiaddr"]
            self.tftp(ip, ack["file"])
            st, data = self.http(ip, "GET", "/files/" + self.a["kernel"])
            if st != 200 or len(data) != self.a["kernel_size"]:
                raise RuntimeError("http: kernel %d, %d bytes" % (st, len(data)))
            if os.environ.get("STORM_ENROLL", "1") == "0":
                self.t1 = time.time()       # a known machine's chain: no enroll
                return
            body = json.dumps({"mac": self.macs, "n": self.n})
            st, data = self.http(ip, "POST", "/api/v1/enroll", body)
            if st != 200:
                raise RuntimeError("enroll: %d %s" % (st, data[:80]))
            self.enrolled = True
            self.t1 = time.time()
        except Exception as e:          # reported, never raised
            self.error = str(e)


LOCK = threading.Lock()
STATE = {"acked": 0}


def main():
    v = sys.argv[1:]
    a = {"n": int(v[0]), "http": int(v[1]), "tftp": int(v[2]), "dhcp": int(v[3]),
         "loader": v[4], "loader_size": int(v[5]), "kernel": v[6], "kernel_size": int(v[7]),
         "mark_at": int(v[8]) if len(v) > 8 else -1, "mark_file": v[9] if len(v) > 9 else "",
         "macbyte": int(v[10], 0) if len(v) > 10 else 0x77}
    clients = [Client(i, a) for i in range(a["n"])]
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:               # ten minutes in all, however many are stuck
        t.join(max(0.0, start + 600 - time.time()))
    wall = time.time() - start
    done = sorted((c.t1 - c.t0) * 1000 for c in clients if c.t1)
    pct = lambda p: round(done[min(len(done) - 1, int(len(done) * p))], 1) if done else None
    print(json.dumps({
        "clients": a["n"], "completed": len(done),
        "failed": [(c.macs, c.error) for c in clients if c.error][:20],
        "seconds": round(wall, 2), "chains_per_s": round(len(done) / wall, 1),
        "cpu_s": round(sum(os.times()[:2]), 2),     # the clients' own, user + system
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0),
        "macs": {c.macs: {"ips": c.ips, "enrolled": c.enrolled} for c in clients},
    }))


if __name__ == "__main__":
    main()
