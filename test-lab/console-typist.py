#!/usr/bin/env python3
"""Answers a 9front terminal's login prompts on its serial console.

    console-typist.py SOCK TRANSCRIPT USER SECONDS

SOCK is the QEMU serial console's unix socket (server=on,wait=off),
TRANSCRIPT the file QEMU logs that console to. Factotum asks
`user[glenda]: ` and `password: ` when the terminal boots; each new prompt
in the transcript is answered once: the user with USER, the password with
the environment's LAB_PASSWORD (never an argument: ps shows those). Gives up
after three password prompts (a wrong password makes factotum ask again,
forever) and after SECONDS in all; exits 0 once rc's prompt (`term% ` or
`% `) follows the answers. Started and stopped by test-lab/lab.sh through
its PID file.
"""
import os
import re
import socket
import sys
import time

PROMPT = re.compile(rb"user\[[^]\n]*\]: |password: ")
RC = re.compile(rb"(^|\n)[a-z0-9]*% ")


def type_line(sock, text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    # One character at a time: the 2016 kernel's serial driver drops
    # characters that arrive faster than its console reads them.
    for ch in text + "\r":
        s.send(ch.encode())
        time.sleep(0.02)
    time.sleep(0.3)
    s.close()


def main():
    sock, log, user, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    password = os.environ.get("LAB_PASSWORD", "")
    answered = 0
    passwords = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(log, "rb") as f:
                text = f.read().replace(b"\r", b"")
        except OSError:
            text = b""
        prompts = list(PROMPT.finditer(text))
        for m in prompts[answered:]:
            answered += 1
            if m.group(0).startswith(b"user"):
                print("typist: answering %r with %s" % (m.group(0).decode(), user), flush=True)
                type_line(sock, user)
            else:
                passwords += 1
                if passwords > 3:
                    print("typist: a fourth password prompt: giving up (wrong password?)", flush=True)
                    return 1
                print("typist: answering %r" % m.group(0).decode(), flush=True)
                type_line(sock, password)
        if prompts and RC.search(text, prompts[-1].end()):
            print("typist: rc prompt after %d answers" % answered, flush=True)
            return 0
        time.sleep(1)
    print("typist: no rc prompt within %.0f s" % seconds, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
