"""A tiny paramiko client for lab tests: the library carpctl uses, none of carpctl's code.

Host keys are checked against the lab's known_hosts (an unknown key is refused),
the client key is the lab's, TCP_NODELAY is set on the socket (as carpctl's
transport does, but before the handshake), and every exec closes stdin at once
(`shutdown_write()`), like `ssh -n`.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import paramiko

TIMEOUT = 5.0


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str


class LabClient:
    """One SSH connection to one lab node."""

    def __init__(self, lab, pair: str = "pair1", node: str = "fw1", *, user: str = "root",
                 timeout: float = TIMEOUT):
        # TCP_NODELAY before the handshake, not after: Nagle would hold back the
        # client's small handshake packets for a delayed ACK (~40 ms each time)
        sock = socket.create_connection(("127.0.0.1", lab.port(pair, node)), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client = paramiko.SSHClient()
        self.client.load_host_keys(str(lab.known_hosts))
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            self.client.connect(
                "127.0.0.1", port=lab.port(pair, node), username=user, sock=sock,
                key_filename=str(lab.client_key), look_for_keys=False, allow_agent=False,
                timeout=timeout, banner_timeout=timeout, auth_timeout=timeout)
        except BaseException:
            self.client.close()
            sock.close()
            raise
        self.timeout = timeout

    @property
    def transport(self) -> paramiko.Transport:
        return self.client.get_transport()

    def exec(self, line: str, *, stdin: bytes | None = None,
             timeout: float | None = None) -> Result:
        """Run `line`; (status, stdout, stderr). status is -1 when the session was cut."""
        channel = self.transport.open_session(timeout=self.timeout)
        channel.settimeout(timeout or self.timeout)
        channel.exec_command(line)
        if stdin:
            channel.sendall(stdin)
        channel.shutdown_write()
        out = channel.makefile("rb").read()
        err = channel.makefile_stderr("rb").read()
        status = channel.recv_exit_status()
        channel.close()
        return Result(status, out.decode(), err.decode())

    def sftp(self) -> paramiko.SFTPClient:
        return self.client.open_sftp()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> LabClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sh(lab, line: str, pair: str = "pair1", node: str = "fw1", *, user: str = "root") -> Result:
    """One command on a fresh connection."""
    with LabClient(lab, pair, node, user=user) as client:
        return client.exec(line)


def wait_until(predicate, timeout: float, step: float = 0.02):
    """Poll until `predicate()` is truthy; its value, or None at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)
