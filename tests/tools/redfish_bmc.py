#!/usr/bin/env python3
"""A small Redfish BMC for tests/integration/power_redfish.sh: one
ComputerSystem (DMTF ComputerSystem schema) over HTTPS with Basic auth.

  GET   /redfish/v1/Systems/1        PowerState, Boot{...}, Actions
  POST  .../Actions/ComputerSystem.Reset   {"ResetType": On|ForceOff|PowerCycle|ForceRestart}
  PATCH /redfish/v1/Systems/1        {"Boot": {"BootSourceOverrideTarget": ...,
                                               "BootSourceOverrideEnabled": ...}}

Every request that got past TLS is appended to LOG as one line:
USER METHOD PATH BODY (USER "-" without credentials), then the status.
Errors are Redfish error bodies (error.@Message.ExtendedInfo).

usage: redfish_bmc.py PORT CERT KEY USER PASSWORD LOG
"""
import base64
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, USER, PASSWORD, LOG = sys.argv[1:7]
SYSTEM = "/redfish/v1/Systems/1"
RESET = SYSTEM + "/Actions/ComputerSystem.Reset"
RESET_TYPES = ["On", "ForceOff", "PowerCycle", "ForceRestart"]
TARGETS = ["None", "Pxe", "Hdd", "Cd", "BiosSetup"]
ENABLED = ["Disabled", "Once", "Continuous"]
lock = threading.Lock()
state = {"PowerState": "Off", "Target": "None", "Enabled": "Disabled"}


def system():
    return {
        "@odata.id": SYSTEM,
        "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
        "Id": "1",
        "Name": "gridboot test system",
        "PowerState": state["PowerState"],
        "Boot": {
            "BootSourceOverrideTarget": state["Target"],
            "BootSourceOverrideEnabled": state["Enabled"],
            "BootSourceOverrideTarget@Redfish.AllowableValues": TARGETS,
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": RESET,
                "ResetType@Redfish.AllowableValues": RESET_TYPES,
            }
        },
    }


def error(msgid, text):
    return {"error": {"code": "Base.1.8.GeneralError",
                      "message": "A general error has occurred.",
                      "@Message.ExtendedInfo": [{"MessageId": "Base.1.8." + msgid,
                                                 "Message": text}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def user(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return None, None
        try:
            u, _, p = base64.b64decode(h[6:]).decode().partition(":")
        except Exception:
            return None, None
        return u, p

    def reply(self, code, doc=None):
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(code)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="BMC"')
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return code

    def handle_one(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 65536:
            return self.reply(413, error("GeneralError", "too large")), b""
        raw = self.rfile.read(n) if n else b""
        u, p = self.user()
        if u != USER or p != PASSWORD:
            return self.reply(401, error("InsufficientPrivilege", "bad credentials")), raw
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.reply(400, error("MalformedJSON", "the body is not JSON")), raw
        with lock:
            if method == "GET" and self.path == SYSTEM:
                return self.reply(200, system()), raw
            if method == "POST" and self.path == RESET:
                t = (body or {}).get("ResetType")
                if t not in RESET_TYPES:
                    return self.reply(400, error("ActionParameterValueNotInList",
                                                 "ResetType %r is not allowed" % t)), raw
                state["PowerState"] = "Off" if t == "ForceOff" else "On"
                return self.reply(204), raw
            if method == "PATCH" and self.path == SYSTEM:
                boot = (body or {}).get("Boot")
                if not isinstance(boot, dict):
                    return self.reply(400, error("PropertyMissing", "Boot is missing")), raw
                t = boot.get("BootSourceOverrideTarget", state["Target"])
                e = boot.get("BootSourceOverrideEnabled", state["Enabled"])
                if t not in TARGETS or e not in ENABLED:
                    return self.reply(400, error("PropertyValueNotInList",
                                                 "Boot values not allowed")), raw
                state["Target"], state["Enabled"] = t, e
                return self.reply(200, system()), raw
        return self.reply(404, error("ResourceMissingAtURI", "no " + self.path)), raw

    def run(self, method):
        code, raw = self.handle_one(method)
        u, _ = self.user()
        with open(LOG, "a") as f:
            f.write("%s %s %s %s -> %d\n" % (u or "-", method, self.path,
                                              raw.decode(errors="replace") or "-", code))

    def do_GET(self):
        self.run("GET")

    def do_POST(self):
        self.run("POST")

    def do_PATCH(self):
        self.run("PATCH")


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv = ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
srv.daemon_threads = True
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
