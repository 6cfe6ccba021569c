"""Host key verification: which keys are known for a node, and what to do with a new one.

The files read are the inventory's `known_hosts` (a team may share one) and the
user's ~/.ssh/known_hosts. A key nobody knows is refused unless the user opted
into accept-new; it is then recorded in ~/.ssh/known_hosts, like OpenSSH does,
never in a file the inventory names. A key that differs from a known one is
refused by paramiko itself (BadHostKeyException) before any policy is asked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carpctl.inventory import Node

_lock = threading.Lock()
_parsed: dict[Path, tuple[bytes, object]] = {}


class UnknownHostKey(Exception):
    """The node offered a key no known_hosts file lists (and accept-new is off)."""

    def __init__(self, hostname: str, key):
        super().__init__(f"unknown host key {key.get_name()} {fingerprint(key)} for {hostname}")
        self.hostname = hostname
        self.key = key


def fingerprint(key) -> str:
    """As `ssh-keygen -l` shows it: SHA256:base64 without padding."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_key_name(host: str, port: int) -> str:
    """The name known_hosts lists a host under (`[host]:port` off port 22)."""
    return host if port == 22 else f"[{host}]:{port}"


def user_file() -> Path:
    return Path.home() / ".ssh" / "known_hosts"


def files_for(node: Node) -> list[Path]:
    files = [Path(p).expanduser() for p in node.known_hosts]
    if user_file() not in files:
        files.append(user_file())
    return files


def parsed(path: Path):
    """A known_hosts file as paramiko HostKeys, parsed once per content of the file.

    paramiko's own loader is quadratic in the number of lines: with a hundred
    nodes, reloading it for each connection cost more than the connections.
    A missing file is an empty one. Marker lines (@cert-authority, @revoked)
    are not understood and skipped, as paramiko does. OSError if unreadable.
    """
    import paramiko

    try:
        content = path.read_bytes()
    except FileNotFoundError:
        content = b""
    with _lock:
        cached = _parsed.get(path)
        if cached is not None and cached[0] == content:
            return cached[1]
    keys = paramiko.HostKeys()
    for line in content.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "@")):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
        except paramiko.SSHException:
            continue
        for name in entry.hostnames if entry is not None else ():
            keys.add(name, entry.key.get_name(), entry.key)
    with _lock:
        _parsed[path] = (content, keys)
    return keys


def verify_with(client, node: Node, host: str, port: int, *, accept_new: bool) -> None:
    """Arm a paramiko client: the known keys of this host only, and the strict policy."""
    name = host_key_name(host, port)
    known = client.get_host_keys()
    for path in files_for(node):
        for key_type, key in (parsed(path).lookup(name) or {}).items():
            known.add(name, key_type, key)
    client.set_missing_host_key_policy(_policy(accept_new))


def _policy(accept_new: bool):
    import paramiko

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            if not accept_new:
                raise UnknownHostKey(hostname, key)
            record(hostname, key)
            client.get_host_keys().add(hostname, key.get_name(), key)

    return Policy()


def record(hostname: str, key) -> None:
    """Append a newly accepted key to ~/.ssh/known_hosts (created 0700/0600 if missing)."""
    target = user_file()
    with _lock:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(target, "a", opener=_open_private) as f:
            f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
