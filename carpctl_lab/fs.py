"""A node's private filesystem: virtual absolute paths kept under a host directory.

The host process runs as one user, so OpenBSD owners and groups live in a table
beside the files; modes are the real mode bits of the host files. Permission
checks follow the classic owner/group/other rule (root passes everything), which
is what makes the doas path and "non-root cannot write /etc" testable. Errors are
plain OSError with an errno, so commands print them the way BSD tools do.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat as stat_mod
import threading
from dataclasses import dataclass
from pathlib import Path

# OpenBSD-like accounts known on every lab node: name -> (uid, primary group, groups)
USERS: dict[str, tuple[int, str, frozenset[str]]] = {
    "root": (0, "wheel", frozenset({"wheel", "operator"})),
    "admin": (1000, "admin", frozenset({"admin", "wheel"})),
    "operator": (2, "operator", frozenset({"operator"})),
}


@dataclass(frozen=True)
class Stat:
    """What `ls -l`/`stat` need to know about one path."""

    path: str
    kind: str  # "file" | "dir"
    mode: int  # permission bits only (0o7777)
    owner: str
    group: str
    size: int
    mtime: float


def _oserror(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


class NodeFS:
    """One node's files. Thread-safe; every method takes virtual paths."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._owners: dict[str, tuple[str, str]] = {}
        self._lock = threading.RLock()
        self.full = False  # disk-full fault: every write fails with ENOSPC

    # -- paths -------------------------------------------------------------
    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        """Absolute, normalised virtual path ('..' cannot climb above '/')."""
        joined = posixpath.join(cwd, path)
        parts: list[str] = []
        for part in joined.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def host(self, path: str) -> Path:
        """The host path behind a virtual path; never outside the node root."""
        vpath = self.norm(path)
        return self.root / vpath.lstrip("/") if vpath != "/" else self.root

    # -- ownership and permissions ----------------------------------------
    def owner(self, path: str) -> tuple[str, str]:
        return self._owners.get(self.norm(path), ("root", "wheel"))

    def _allowed(self, path: str, user: str, bit: int) -> bool:
        """bit is 4 (read), 2 (write) or 1 (execute/search)."""
        if user == "root":
            return True
        host = self.host(path)
        try:
            mode = host.stat().st_mode & 0o777
        except FileNotFoundError:
            return False
        owner, group = self.owner(path)
        groups = USERS.get(user, (0, user, frozenset({user})))[2]
        if owner == user:
            return bool(mode & (bit << 6))
        if group in groups:
            return bool(mode & (bit << 3))
        return bool(mode & bit)

    def _require(self, path: str, user: str, bit: int) -> None:
        if not self._allowed(path, user, bit):
            raise _oserror(errno.EACCES, path)

    def _require_parent_writable(self, path: str, user: str) -> None:
        parent = posixpath.dirname(self.norm(path))
        if not self.host(parent).is_dir():
            raise _oserror(errno.ENOENT, path)
        self._require(parent, user, 2)

    def check_read(self, path: str, user: str) -> None:
        """Raise EACCES/ENOENT unless `user` may read `path` (for SFTP opens)."""
        if not self.exists(path):
            raise _oserror(errno.ENOENT, path)
        self._require(path, user, 4)

    def check_write(self, path: str, user: str) -> None:
        """Raise unless `user` may write `path`, or create it in its directory."""
        if self.exists(path):
            self._require(path, user, 2)
        else:
            self._require_parent_writable(path, user)

    def adopt(self, path: str, user: str) -> None:
        """Record `user` as the owner of a file created behind NodeFS's back (SFTP)."""
        self._owners[self.norm(path)] = (user, USERS.get(user, (0, user, frozenset()))[1])

    # -- queries ------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return self.host(path).exists()

    def isdir(self, path: str) -> bool:
        return self.host(path).is_dir()

    def isfile(self, path: str) -> bool:
        return self.host(path).is_file()

    def stat(self, path: str) -> Stat:
        vpath = self.norm(path)
        try:
            st = self.host(vpath).stat()
        except FileNotFoundError:
            raise _oserror(errno.ENOENT, path) from None
        owner, group = self.owner(vpath)
        kind = "dir" if stat_mod.S_ISDIR(st.st_mode) else "file"
        return Stat(vpath, kind, st.st_mode & 0o7777, owner, group, st.st_size, st.st_mtime)

    def listdir(self, path: str, user: str = "root") -> list[str]:
        host = self.host(path)
        if not host.exists():
            raise _oserror(errno.ENOENT, path)
        if not host.is_dir():
            raise _oserror(errno.ENOTDIR, path)
        self._require(path, user, 4)
        return sorted(os.listdir(host))

    # -- reading and writing -------------------------------------------------
    def read_bytes(self, path: str, user: str = "root") -> bytes:
        host = self.host(path)
        if host.is_dir():
            raise _oserror(errno.EISDIR, path)
        if not host.exists():
            raise _oserror(errno.ENOENT, path)
        self._require(path, user, 4)
        return host.read_bytes()

    def read_text(self, path: str, user: str = "root") -> str:
        return self.read_bytes(path, user).decode("utf-8", "replace")

    def write_bytes(self, path: str, data: bytes, user: str = "root", *,
                    append: bool = False, mode: int = 0o644) -> None:
        """Write a file as `user`; a new file gets `mode` and `user` as owner."""
        vpath = self.norm(path)
        host = self.host(vpath)
        with self._lock:
            if host.is_dir():
                raise _oserror(errno.EISDIR, path)
            if host.exists():
                self._require(vpath, user, 2)
            else:
                self._require_parent_writable(vpath, user)
            if self.full and data:
                raise _oserror(errno.ENOSPC, path)
            new = not host.exists()
            with open(host, "ab" if append else "wb") as f:
                f.write(data)
            if new:
                os.chmod(host, mode)
                self._owners[vpath] = (user, USERS.get(user, (0, user, frozenset()))[1])

    def write_text(self, path: str, text: str, user: str = "root", **kw) -> None:
        self.write_bytes(path, text.encode(), user, **kw)

    def mkdir(self, path: str, user: str = "root", *, parents: bool = False,
              mode: int = 0o755) -> None:
        vpath = self.norm(path)
        with self._lock:
            if self.host(vpath).exists():
                if parents and self.isdir(vpath):
                    return
                raise _oserror(errno.EEXIST, path)
            parent = posixpath.dirname(vpath)
            if not self.host(parent).exists():
                if not parents:
                    raise _oserror(errno.ENOENT, path)
                self.mkdir(parent, user, parents=True, mode=mode)
            self._require(parent, user, 2)
            if self.full:
                raise _oserror(errno.ENOSPC, path)
            self.host(vpath).mkdir()
            os.chmod(self.host(vpath), mode)
            self._owners[vpath] = (user, USERS.get(user, (0, user, frozenset()))[1])

    def unlink(self, path: str, user: str = "root") -> None:
        vpath = self.norm(path)
        host = self.host(vpath)
        with self._lock:
            if not host.exists():
                raise _oserror(errno.ENOENT, path)
            if host.is_dir():
                raise _oserror(errno.EISDIR, path)
            self._require(posixpath.dirname(vpath), user, 2)
            host.unlink()
            self._owners.pop(vpath, None)

    def rmdir(self, path: str, user: str = "root") -> None:
        vpath = self.norm(path)
        host = self.host(vpath)
        with self._lock:
            if not host.is_dir():
                raise _oserror(errno.ENOTDIR if host.exists() else errno.ENOENT, path)
            if os.listdir(host):
                raise _oserror(errno.ENOTEMPTY, path)
            self._require(posixpath.dirname(vpath), user, 2)
            host.rmdir()
            self._owners.pop(vpath, None)

    def rename(self, src: str, dst: str, user: str = "root") -> None:
        """Atomic like rename(2): the destination is replaced in one step."""
        vsrc, vdst = self.norm(src), self.norm(dst)
        with self._lock:
            if not self.host(vsrc).exists():
                raise _oserror(errno.ENOENT, src)
            self._require(posixpath.dirname(vsrc), user, 2)
            self._require_parent_writable(vdst, user)
            os.replace(self.host(vsrc), self.host(vdst))
            moved = {p: o for p, o in self._owners.items()
                     if p == vsrc or p.startswith(vsrc + "/")}
            for p, o in moved.items():
                del self._owners[p]
                self._owners[vdst + p[len(vsrc):]] = o

    def chmod(self, path: str, mode: int, user: str = "root") -> None:
        vpath = self.norm(path)
        if not self.host(vpath).exists():
            raise _oserror(errno.ENOENT, path)
        if user != "root" and self.owner(vpath)[0] != user:
            raise _oserror(errno.EPERM, path)
        os.chmod(self.host(vpath), mode)

    def chown(self, path: str, owner: str | None, group: str | None,
              user: str = "root") -> None:
        vpath = self.norm(path)
        if not self.host(vpath).exists():
            raise _oserror(errno.ENOENT, path)
        if user != "root":
            raise _oserror(errno.EPERM, path)
        old_owner, old_group = self.owner(vpath)
        self._owners[vpath] = (owner or old_owner, group or old_group)

    # -- setting up a node ----------------------------------------------------
    def install(self, path: str, text: str, *, mode: int = 0o644,
                owner: str = "root", group: str = "wheel") -> None:
        """Place a file as the system would have it (used when building a node)."""
        vpath = self.norm(path)
        host = self.host(vpath)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(text)
        os.chmod(host, mode)
        self._owners[vpath] = (owner, group)
