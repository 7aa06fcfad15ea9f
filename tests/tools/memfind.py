#!/usr/bin/env python3
"""memfind.py PID HEX...: how many of the byte strings (hex) are anywhere in
the readable memory of process PID (its /proc/PID/maps regions read through
/proc/PID/mem; root). Prints one line per string, "HEX N" with N the number
of hits, and exits 0. Regions larger than 512 MiB (a sanitizer's shadow
reservation, mostly never touched) are skipped; a region that cannot be
read is skipped and counted on stderr."""
import sys

def main():
    pid = int(sys.argv[1])
    needles = [bytes.fromhex(h) for h in sys.argv[2:]]
    hits = [0] * len(needles)
    skipped = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "r" not in f[1] or hi - lo > (512 << 20) or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]")):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                skipped += 1
                continue
            for i, n in enumerate(needles):
                hits[i] += data.count(n)
    if skipped:
        print(f"memfind: {skipped} region(s) unreadable", file=sys.stderr)
    for h, n in zip(sys.argv[2:], hits):
        print(h, n)

main()
