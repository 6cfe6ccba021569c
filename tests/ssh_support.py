"""Real OpenSSH-side helpers for the SSH tests: an ssh-agent, key files, a jump host.

The agent is the system's `ssh-agent`, keys are made by the system's
`ssh-keygen`, so a test meets what a user's laptop has. The jump host is a
tiny asyncssh server on 127.0.0.1 that only forwards to 127.0.0.1 (the lab),
recording who logged in and where they went.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import asyncssh

from carpctl.remote.commands import cmd

HOSTNAME = cmd("hostname")   # a harmless command: did the connection work?


class Agent:
    """A private ssh-agent; `add(key)` loads a key into it."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="agent"))   # short: a socket path is limited
        self.socket = self._dir / "sock"
        self._process = subprocess.Popen(["ssh-agent", "-D", "-a", str(self.socket)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("ssh-agent did not start")
            time.sleep(0.02)

    def add(self, key: Path) -> None:
        env = {**os.environ, "SSH_AUTH_SOCK": str(self.socket)}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def locked_copy(key: Path, target: Path, passphrase: str = "correct horse") -> Path:
    """A passphrase-protected copy of a private key (the same key pair), via ssh-keygen -p."""
    shutil.copyfile(key, target)
    target.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", str(target)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return target


def new_key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name,
                    "-f", str(path)], check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return path


def fingerprint(key: Path) -> str:
    shown = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(key)],
                           check=True, capture_output=True, text=True).stdout
    return shown.split()[1]


class _JumpServer(asyncssh.SSHServer):
    def __init__(self, jump: JumpHost):
        self._jump = jump
        self._user = ""

    def begin_auth(self, username: str) -> bool:
        self._user = username
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key) -> bool:
        return key.public_data == self._jump.client_key.public_data

    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        self._jump.forwarded.append((self._user, dest_host, dest_port))
        return dest_host == "127.0.0.1"   # never anywhere but the lab


class JumpHost:
    """A jump host on 127.0.0.1 accepting one client key; `known_hosts_line` for trust."""

    def __init__(self, directory: Path, client_key: Path):
        self.client_key = asyncssh.read_private_key(str(client_key))
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.forwarded: list[tuple[str, str, int]] = []
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncssh.create_server(
            lambda: _JumpServer(self), "127.0.0.1", 0, server_host_keys=[self._host_key]))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    @property
    def known_hosts_line(self) -> str:
        public = self._host_key.export_public_key("openssh").decode().split()
        return f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n"

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
