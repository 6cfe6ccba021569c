"""Host key verification: which keys are known for a host, and what to do with a new one.

The files read are the inventory's `known_hosts` (a team may share one) and the
user's ~/.ssh/known_hosts. A key nobody knows is refused unless the user opted
into accept-new; it is then recorded like OpenSSH records it (hashed when ssh
config says HashKnownHosts yes), in the inventory's first known_hosts file when
it names one, else in ~/.ssh/known_hosts. A key that differs from a known one
is refused by paramiko itself (BadHostKeyException) before any policy is asked.

What the user must see (a skipped line, a key added) goes to the ``carpctl``
logger at WARNING: the CLI prints it on stderr, a library caller's logging
configuration decides.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("carpctl")
_lock = threading.Lock()
_parsed: dict[Path, tuple[bytes, KnownKeys]] = {}

#: paramiko key names -> the TYPE OpenSSH's sshkey_type() prints ("ECDSA", not the curve).
_OPENSSH_TYPES = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ssh-dss": "DSA"}


class UnknownHostKey(Exception):
    """The host offered a key no known_hosts file lists (and accept-new is off)."""

    def __init__(self, hostname: str, key):
        super().__init__(f"unknown host key {key.get_name()} {fingerprint(key)} for {hostname}")
        self.hostname = hostname
        self.key = key


def fingerprint(key) -> str:
    """As `ssh-keygen -l` shows it: SHA256:base64 without padding."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def openssh_type(key) -> str:
    name = key.get_name()
    return "ECDSA" if name.startswith("ecdsa-") else _OPENSSH_TYPES.get(name, name)


def host_key_name(host: str, port: int) -> str:
    """The name known_hosts lists a host under (`[host]:port` off port 22)."""
    return host if port == 22 else f"[{host}]:{port}"


def user_file() -> Path:
    return Path.home() / ".ssh" / "known_hosts"


@dataclass(frozen=True)
class HostKeyFiles:
    """Where one host's keys are looked up, and where a newly accepted one is written."""

    files: tuple[Path, ...]
    record_in: Path
    hashed: bool = False

    @classmethod
    def of(cls, inventory_files: Sequence[Path], hashed: bool = False) -> HostKeyFiles:
        files = [Path(p).expanduser() for p in inventory_files]
        record_in = files[0] if files else user_file()
        if user_file() not in files:
            files.append(user_file())
        return cls(tuple(files), record_in, hashed)


class KnownKeys:
    """One known_hosts file, indexed once: a lookup answers as paramiko's HostKeys.lookup.

    paramiko's HostKeys is quadratic to build (each add scans every entry) and scans
    every entry per lookup. Here a plain name is a dict lookup; a hashed name
    (`|1|salt|hmac`, HashKnownHosts yes) has its own salt, so those are checked one by
    one, as OpenSSH does.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str, Any]] = []       # (name as listed, key)
        self._index: dict[tuple[str, str], int] = {}    # (name, key type) -> its entry
        self._plain: dict[str, list[int]] = {}          # plain name -> its entries
        self._hashed: list[int] = []                    # entries of hashed names

    def add(self, name: str, key) -> None:
        """One entry per (name, key type): a later line replaces the key, in place."""
        at = self._index.get((name, key.get_name()))
        if at is not None:
            self._entries[at] = (name, key)
            return
        at = self._index[(name, key.get_name())] = len(self._entries)
        self._entries.append((name, key))
        if name.startswith("|1|"):
            self._hashed.append(at)
        else:
            self._plain.setdefault(name, []).append(at)

    def lookup(self, host: str) -> dict[str, Any]:
        """Key type -> key for `host` (as known_hosts names it): the types in the order the
        file lists them first, each with the key of the first entry that matches."""
        import paramiko
        from paramiko.util import constant_time_bytes_eq

        matches = list(self._plain.get(host, ()))
        for at in self._hashed:
            name = self._entries[at][0]
            if name == host or not host.startswith("|1|") and constant_time_bytes_eq(
                    paramiko.HostKeys.hash_host(host, name), name):
                matches.append(at)
        keys: dict[str, Any] = {}
        for at in sorted(matches):
            key = self._entries[at][1]
            keys.setdefault(key.get_name(), key)
        return keys


def parsed(path: Path) -> KnownKeys:
    """A known_hosts file's keys, parsed once per content of the file, in linear time.

    paramiko's own loader raises on the first malformed line, which would stop
    every command. Here a malformed line is skipped with a warning naming
    file:line; keys of a type paramiko does not know and marker lines
    (@cert-authority, @revoked) are skipped silently, as paramiko does. A missing
    file is an empty one (the inventory loader refuses a missing file it names).
    OSError if unreadable.
    """
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        content = b""
    with _lock:
        cached = _parsed.get(path)
        if cached is not None and cached[0] == content:
            return cached[1]
    keys = KnownKeys()
    for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
        entry = _entry(line.strip(), f"{path}:{number}")
        for name in entry.hostnames if entry is not None else ():
            keys.add(name, entry.key)
    with _lock:
        _parsed[path] = (content, keys)
    return keys


def _entry(line: str, where: str):
    """One line's HostKeyEntry, or None (a comment, a marker, a key type paramiko lacks,
    or a malformed line, which is reported)."""
    import paramiko
    from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

    if not line or line.startswith(("#", "@")):
        return None
    if len(line.split()) < 3:
        log.warning("carpctl: warning: %s: skipped, not `HOST TYPE KEY`", where)
        return None
    try:
        entry = HostKeyEntry.from_line(line)
    except (InvalidHostKey, paramiko.SSHException, ValueError) as exc:
        reason = exc.exc if isinstance(exc, InvalidHostKey) else exc
        log.warning("carpctl: warning: %s: skipped, the key is not valid (%s)", where, reason)
        return None
    if entry is None:
        return None
    bad = next((n for n in entry.hostnames if n.startswith("|1|") and not _hashed_ok(n)), None)
    if bad is not None:
        log.warning("carpctl: warning: %s: skipped, the hashed host name is not "
                    "`|1|SALT|HASH` in base64", where)
        return None
    return entry


def _hashed_ok(name: str) -> bool:
    """A hashed name paramiko can check a host against (else every lookup would raise)."""
    parts = name.split("|")
    if len(parts) != 4:
        return False
    try:
        base64.b64decode(parts[2], validate=True)
        base64.b64decode(parts[3], validate=True)
    except ValueError:
        return False
    return True


def verify_with(client, keys: HostKeyFiles, host: str, port: int, *, accept_new: bool) -> None:
    """Arm a paramiko client: the known keys of this host only, and the strict policy."""
    name = host_key_name(host, port)
    known = client.get_host_keys()
    for path in keys.files:
        for key_type, key in parsed(path).lookup(name).items():
            known.add(name, key_type, key)
    client.set_missing_host_key_policy(_policy(keys, accept_new))


def _policy(keys: HostKeyFiles, accept_new: bool):
    import paramiko

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            if not accept_new:
                raise UnknownHostKey(hostname, key)
            record(keys, hostname, key)
            client.get_host_keys().add(hostname, key.get_name(), key)

    return Policy()


def record(keys: HostKeyFiles, hostname: str, key) -> None:
    """Append a newly accepted key (the file, and ~/.ssh, created private if missing),
    and say so in OpenSSH's words."""
    import paramiko

    name = paramiko.HostKeys.hash_host(hostname) if keys.hashed else hostname
    with _lock:
        keys.record_in.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(keys.record_in, "a", opener=_open_private) as f:
            f.write(f"{name} {key.get_name()} {key.get_base64()}\n")
    log.warning("Warning: Permanently added '%s' (%s) to the list of known hosts.",
                hostname, openssh_type(key))


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
