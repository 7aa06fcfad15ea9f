#!/usr/bin/env python3
"""Types on a QEMU serial console: the one typist of the lab and the manual
tests (test-lab/lab.sh, tests/manual/real-9front.sh).

    console-typist.py type SOCK [PAUSE [FIRST]]
    console-typist.py answer SOCK TRANSCRIPT USER SECONDS

SOCK is the serial console's unix socket (QEMU's -chardev socket,
server=on,wait=off). Every line is typed one character at a time and ended
with a carriage return: the 2016 kernel's serial driver drops characters
that arrive faster than its console reads them.

type: stdin's lines, FIRST seconds (default 0) after connecting and PAUSE
seconds (default 1) after each line, so that a command's output comes
before the next one is typed. A password goes through stdin, never an
argument (ps shows those).

answer: factotum asks `user[glenda]: ` and `password: ` when a terminal
boots; each new prompt in TRANSCRIPT (the file QEMU logs the console to)
is answered once: the user with USER, the password with the environment's
LAB_PASSWORD. Gives up after three password prompts (a wrong password makes
factotum ask again, forever) and after SECONDS in all; exits 0 once rc's
prompt (`term% ` or `% `) follows the answers. Started and stopped by
test-lab/lab.sh through its PID file.
"""
import os
import re
import socket
import sys
import time

PROMPT = re.compile(rb"user\[[^]\n]*\]: |password: ")
RC = re.compile(rb"(^|\n)[a-z0-9]*% ")


def type_lines(sock, lines, pause, first=0.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    time.sleep(first)
    for line in lines:
        for ch in line + "\r":
            s.send(ch.encode())
            time.sleep(0.02)
        time.sleep(pause)
    s.close()


def type_stdin(args):
    if not 1 <= len(args) <= 3:
        return usage()
    pause = float(args[1]) if len(args) > 1 else 1.0
    first = float(args[2]) if len(args) > 2 else 0.0
    type_lines(args[0], (line.rstrip("\n") for line in sys.stdin), pause, first)
    return 0


def answer(args):
    if len(args) != 4:
        return usage()
    sock, log, user, seconds = args[0], args[1], args[2], float(args[3])
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
                type_lines(sock, [user], 0.3)
            else:
                passwords += 1
                if passwords > 3:
                    print("typist: a fourth password prompt: giving up (wrong password?)", flush=True)
                    return 1
                print("typist: answering %r" % m.group(0).decode(), flush=True)
                type_lines(sock, [password], 0.3)
        if prompts and RC.search(text, prompts[-1].end()):
            print("typist: rc prompt after %d answers" % answered, flush=True)
            return 0
        time.sleep(1)
    print("typist: no rc prompt within %.0f s" % seconds, flush=True)
    return 1


def usage():
    print("usage: console-typist.py type SOCK [PAUSE [FIRST]]\n"
          "       console-typist.py answer SOCK TRANSCRIPT USER SECONDS", file=sys.stderr)
    return 2


def main():
    modes = {"type": type_stdin, "answer": answer}
    if len(sys.argv) < 2 or sys.argv[1] not in modes:
        return usage()
    return modes[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
