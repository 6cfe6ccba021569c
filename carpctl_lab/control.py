"""Talking to a running lab from another process: a Unix socket with JSON lines.

`carpctl lab up` serves it beside the inventory (D/control.sock); `carpctl lab
status|fault|log|down` are its clients. Only the fault methods of Lab and a few
read-only views are reachable.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .lab import Lab

FAULTS = {  # name -> Lab method; arguments arrive as keywords
    "crash": "crash", "power-on": "power_on", "reboot": "reboot", "ssh-down": "ssh_down",
    "refuse-ssh": "refuse_new", "link": "link", "preempt": "preempt", "allow": "allow",
    "webhost": "webhost", "slow": "slow", "drop": "drop", "doas": "doas",
    "disk-full": "disk_full", "syspatch": "syspatch_pending", "clear": "clear_faults",
    "relayd-fail": "relayd_fails", "reorder-kernel": "reorder_kernel", "carp-pass": "carp_pass",
    "carp-garbage": "carp_garbage",
}


def socket_path(directory: Path) -> Path:
    return Path(directory) / "control.sock"


class LabNotRunning(Exception):
    pass


def handle(lab: Lab, request: dict[str, Any]) -> Any:
    op = request.get("op")
    if op == "truth":
        return {name: lab.truth(name) for name in lab.pairs}
    if op == "log":
        return [asdict(entry) for entry in lab.log(request["pair"], request["node"])]
    if op == "fault":
        method = FAULTS.get(request["name"])
        if method is None:
            raise ValueError(f"unknown fault {request['name']!r}; known: {', '.join(FAULTS)}")
        return getattr(lab, method)(*request.get("args", []), **request.get("kwargs", {}))
    if op == "ping":
        return {"inventory": str(lab.inventory), "pairs": list(lab.pairs)}
    raise ValueError(f"unknown request {op!r}")


class ControlServer:
    """Serves requests for a lab until closed; one thread, one request per connection."""

    def __init__(self, lab: Lab):
        self.path = socket_path(lab.directory)
        if self.path.exists():
            self.path.unlink()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    request = json.loads(self.rfile.readline())
                    reply = {"ok": True, "result": handle(lab, request)}
                except Exception as exc:  # reported to the client, the lab goes on
                    reply = {"ok": False, "error": str(exc)}
                self.wfile.write(json.dumps(reply).encode() + b"\n")

        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="carpctl-lab-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.path.exists():
            os.unlink(self.path)


def request(directory: Path, payload: dict[str, Any], timeout: float = 10.0) -> Any:
    """Send one request to the lab serving `directory`."""
    path = socket_path(directory)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise LabNotRunning(f"no lab is running in {directory} (start one with "
                            f"`carpctl lab up --dir {directory}`)") from None
    with sock, sock.makefile("rwb") as stream:
        stream.write(json.dumps(payload).encode() + b"\n")
        stream.flush()
        reply = json.loads(stream.readline() or b"{}")
    if not reply.get("ok"):
        raise ValueError(reply.get("error", "the lab gave no answer"))
    return reply["result"]
