"""The lab's sshd: one listener per node on 127.0.0.1, served by asyncssh.

asyncssh was chosen over paramiko's server mode because one event loop serves a
hundred listeners without a thread per connection, it ships an SFTP server with
a chroot, and it is a different SSH implementation from carpctl's paramiko
client, so an interoperability mistake in the client cannot hide behind the same
library on both ends.

Connections are accepted by our own loop, not asyncssh's listener, so that a
fault can decide per connection: serve it, leave it unanswered (a crashed node
or a pf rule that drops packets: the client times out), or refuse it (sshd not
running: the listening socket is closed and the kernel answers RST).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import asyncssh

from .fs import USERS, NodeFS
from .node import LogEntry, Node
from .proc import DropConnection
from .shell import run as run_shell

if TYPE_CHECKING:
    from asyncssh import SSHKey

STDIN_GRACE = 0.02   # clients that never send EOF get an empty stdin after this
HOLD_UNANSWERED = 300.0
HOME = {"root": "/root"}
GIDS = {"wheel": 0, "operator": 5, "admin": 1000}


class _Server(asyncssh.SSHServer):
    """Per-connection callbacks: public-key auth for the lab's users only."""

    def __init__(self, node: Node, client_key: SSHKey):
        self._node = node
        self._client_key = client_key
        self._conn: asyncssh.SSHServerConnection | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._node.add_closer(self.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        self._node.remove_closer(self.abort)

    def abort(self) -> None:
        """Cut the TCP connection; callable from any thread."""
        if self._conn is not None:
            self._loop.call_soon_threadsafe(self._conn.abort)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False  # like OpenBSD's PermitRootLogin prohibit-password, and simpler

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: SSHKey) -> bool:
        return username in USERS and key.public_data == self._client_key.public_data


class NodeSFTP(asyncssh.SFTPServer):
    """SFTP inside the node's root, with the node's owners, permissions and faults."""

    def __init__(self, chan: asyncssh.SSHServerChannel, node: Node):
        super().__init__(chan, chroot=str(node.fs.root).encode())
        self._fs: NodeFS = node.fs
        self._node = node
        self._chan = chan
        self._user: str = chan.get_extra_info("username")

    def _cut(self, after: bool, op: str, *paths: bytes) -> None:
        """The node's `drop` fault on an SFTP request: the connection goes, no answer."""
        line = " ".join(["sftp", op, *(self._v(p) for p in paths)])
        try:
            self._node.drop_point(line, after=after)
        except DropConnection:
            self._chan.get_connection().abort()
            raise asyncssh.SFTPConnectionLost("connection cut by the lab") from None

    def _v(self, path: bytes) -> str:
        return NodeFS.norm(path.decode("utf-8", "surrogateescape"))

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs):
        self._cut(False, "open", path)
        vpath = self._v(path)
        writing = pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT)
        existed = self._fs.exists(vpath)
        if writing:
            self._fs.check_write(vpath, self._user)
        else:
            self._fs.check_read(vpath, self._user)
        file_obj = super().open(path, pflags, attrs)
        if writing and not existed:
            self._fs.adopt(vpath, self._user)
        return file_obj

    def write(self, file_obj: object, offset: int, data: bytes):
        if self._fs.full and data:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(file_obj, offset, data)

    def remove(self, path: bytes) -> None:
        self._cut(False, "remove", path)
        self._fs.unlink(self._v(path), self._user)
        self._cut(True, "remove", path)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._cut(False, "rename", oldpath, newpath)
        if self._fs.exists(self._v(newpath)):
            raise asyncssh.SFTPFailure("File already exists")
        self._fs.rename(self._v(oldpath), self._v(newpath), self._user)
        self._cut(True, "rename", oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._cut(False, "rename", oldpath, newpath)
        self._fs.rename(self._v(oldpath), self._v(newpath), self._user)
        self._cut(True, "rename", oldpath, newpath)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        mode = attrs.permissions if attrs.permissions is not None else 0o755
        self._fs.mkdir(self._v(path), self._user, mode=mode & 0o7777)

    def rmdir(self, path: bytes) -> None:
        self._fs.rmdir(self._v(path), self._user)

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        vpath = self._v(path)
        if attrs.uid is not None or attrs.gid is not None:  # chown: root only (NodeFS)
            owner = next((name for name, (uid, _, _) in USERS.items() if uid == attrs.uid), None)
            group = next((name for name, gid in GIDS.items() if gid == attrs.gid), None)
            self._fs.chown(vpath, owner, group, self._user)
        if attrs.permissions is not None:
            self._fs.chmod(vpath, attrs.permissions & 0o7777, self._user)
        if attrs.size is not None:
            self._fs.check_write(vpath, self._user)
            super().setstat(path, asyncssh.SFTPAttrs(size=attrs.size))

    def scandir(self, path: bytes):
        self._fs.listdir(self._v(path), self._user)  # EACCES/ENOENT/ENOTDIR as readdir(3)
        return super().scandir(path)

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        # NodeFS has no links: a host symlink could point outside the node's root
        raise asyncssh.SFTPOpUnsupported("links are not emulated by the lab")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("links are not emulated by the lab")

    def _owned(self, path: bytes, attrs):
        owner, group = self._fs.owner(self._v(path))
        if isinstance(attrs, asyncssh.SFTPAttrs):
            result = attrs
        else:
            result = asyncssh.SFTPAttrs.from_local(attrs)
        result.uid = USERS.get(owner, (0,))[0]
        result.gid = GIDS.get(group, 1000)
        return result

    def stat(self, path: bytes):
        return self._owned(path, super().stat(path))

    def lstat(self, path: bytes):
        return self._owned(path, super().lstat(path))


class NodeSSHD:
    """The listener of one node and the sessions it serves."""

    def __init__(self, node: Node, host_key: SSHKey, client_key: SSHKey, executor: Executor):
        self.node = node
        self.port = 0
        self._host_key = host_key
        self._client_key = client_key
        self._executor = executor
        self._sock: socket.socket | None = None
        self._accepting: asyncio.Task | None = None
        self._held: list[socket.socket] = []
        self._options: asyncssh.SSHServerConnectionOptions | None = None

    async def start(self, port: int = 0) -> None:
        self._options = await asyncssh.SSHServerConnectionOptions.construct(
            server_factory=lambda: _Server(self.node, self._client_key),
            server_host_keys=[self._host_key],
            process_factory=self._exec,
            sftp_factory=lambda chan: NodeSFTP(chan, self.node),
            allow_scp=False,
            encoding=None,
            keepalive_interval=15,
            login_timeout=30,
        )
        self._open(port)

    def _open(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop(sock))

    def _close_listener(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            self._accepting = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def refresh(self) -> None:
        """Open or close the listener to match the node (sshd running or not)."""
        verdict = self.node.accepts_ssh()
        if verdict == "refuse" and self._sock is not None:
            self._close_listener()
        elif verdict != "refuse" and self._sock is None:
            self._open(self.port)
        if verdict == "accept" and self._held:
            self._release_held()

    def _release_held(self) -> None:
        for sock in self._held:
            sock.close()
        self._held.clear()

    async def stop(self) -> None:
        self._close_listener()
        self._release_held()
        self.node.drop_connections()

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _ = await loop.sock_accept(listener)
            except (OSError, asyncio.CancelledError):
                return
            verdict = self.node.accepts_ssh()
            if verdict == "accept":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                loop.create_task(self._serve(sock))
            elif verdict == "blackhole":
                self._held.append(sock)
                loop.call_later(HOLD_UNANSWERED, self._drop_held, sock)
            else:
                sock.close()

    def _drop_held(self, sock: socket.socket) -> None:
        if sock in self._held:
            self._held.remove(sock)
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        try:
            await asyncssh.run_server(sock, options=self._options)
        except (OSError, asyncssh.Error):
            pass  # failed auth or a client that went away: sshd just logs these

    async def _exec(self, process: asyncssh.SSHServerProcess) -> None:
        node = self.node
        user = process.get_extra_info("username")
        line = process.command
        if line is None:
            process.stderr.write(b"carpctl lab: interactive shells are not emulated\n")
            process.exit(1)
            return
        stdin = await _read_stdin(process)
        wall, start = time.time(), time.monotonic()
        generation = node.generation
        loop = asyncio.get_running_loop()
        try:
            status, out, err = await loop.run_in_executor(self._executor, self._run, user, line, stdin)
            if not node.alive(generation):  # a crash or reboot ended it: nobody got an answer
                raise DropConnection(line)
        except DropConnection:
            node.record(LogEntry(wall, user, line, None, time.monotonic() - start))
            process.channel.get_connection().abort()
            return
        node.record(LogEntry(wall, user, line, status, time.monotonic() - start))
        try:
            process.stdout.write(out)
            process.stderr.write(err)
            process.exit(status)
        except (OSError, asyncssh.Error):
            pass  # the connection was cut while the command ran (reboot, crash)

    def _run(self, user: str, line: str, stdin: bytes) -> tuple[int, bytes, bytes]:
        home = HOME.get(user, f"/home/{user}")
        env = {"USER": user, "LOGNAME": user, "HOME": home, "SHELL": "/bin/ksh",
               "PATH": "/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin"}
        result = run_shell(self.node, user, line, stdin=stdin, env=env, cwd=home)
        self.node.after_command(line)
        return result


async def _read_stdin(process: asyncssh.SSHServerProcess) -> bytes:
    """Everything the client sends before EOF, or nothing if it sends no EOF at once."""
    try:
        chunk = await asyncio.wait_for(process.stdin.read(65536), STDIN_GRACE)
    except TimeoutError:
        return b""
    chunks = []
    while chunk:
        chunks.append(chunk)
        chunk = await process.stdin.read(65536)
    return b"".join(chunks)
