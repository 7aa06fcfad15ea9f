#!/usr/bin/env python3
"""The anchor's HTTP side for bench/lab.sh and by-hand lab work: a static
file server (Python's http.server, threaded) for a directory, plus the one
POST the discovery image makes (/api/v1/enroll), whose bodies are appended
to a log file with a timestamp. Usage: anchor-httpd.py ADDR PORT DIR LOG"""
import http.server
import sys
import time

addr, port, root, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 65536))
        if self.path != "/api/v1/enroll":
            self.send_error(404)
            return
        with open(log, "a") as f:
            f.write("%.3f %s\n" % (time.time(), body.decode("utf-8", "replace")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "12")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, fmt, *args):
        sys.stderr.write("%.3f %s %s\n" % (time.time(), self.address_string(), fmt % args))


http.server.ThreadingHTTPServer((addr, port), Handler).serve_forever()
