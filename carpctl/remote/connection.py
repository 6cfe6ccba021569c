"""One reused SSH connection per node: host keys, doas, timeouts, batching, recording.

Connections are set up with Fabric (ProxyJump gateway chains, SFTP; the inventory
has already applied ~/.ssh/config, to the jump hosts too); commands run on plain
paramiko channels so a round trip costs one channel and no helper threads. Host
keys are checked against known_hosts and never accepted silently
(carpctl.remote.known_hosts replaces Fabric's default AutoAddPolicy). Keys are
offered as ssh offers them (carpctl.remote.auth), and never with a prompt.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpctl.errors import RemoteError
from carpctl.remote import auth, known_hosts
from carpctl.remote.batch import Result, batch_script, first_line, named, new_nonce, results
from carpctl.remote.commands import Command

if TYPE_CHECKING:
    from carpctl.inventory import Node

RETRY_DELAYS = (0.2, 0.5, 1.0)   # connection set-up only: refused, reset, unreachable
COMMAND_TIMEOUT = 60.0           # silence on a channel this long means the node is gone
RETRYABLE = ("refused", "unreachable", "ssh")  # what a second attempt may cure

# paramiko logs every failed handshake with a traceback; without a handler of its
# own, Python's last-resort handler would print those on the user's terminal.
# carpctl reports the failure itself, in one line (ConnectError).
logging.getLogger("paramiko").addHandler(logging.NullHandler())


Recorder = Callable[[Result], None]


class ConnectError(RemoteError):
    """The node could not be reached; `reason` says why in one word."""


class ConnectionLost(RemoteError):
    """The connection dropped. `sent`: while a command ran, so its outcome is unknown;
    otherwise it had dropped before the command was sent (which then did not run)."""

    def __init__(self, node: str, command: str, *, sent: bool = True):
        what = "while running" if sent else "before running"
        super().__init__(node, f"connection lost {what}: {command}", reason="lost")
        self.command = command
        self.sent = sent


@functools.cache
def _fabric_config():
    """One Fabric config for every connection: building one costs milliseconds, and the
    inventory already resolved what Fabric would read from ssh config."""
    from fabric import Config

    return Config(lazy=True, overrides={"load_ssh_configs": False})


@dataclass(frozen=True, kw_only=True)
class Hop:
    """One SSH connection of a node's chain: a jump host, or (last) the node itself."""

    where: str          # how messages name it: `HOST:PORT`, or `jump host NAME (HOST:PORT)`
    host: str
    port: int
    user: str
    identity_files: tuple[Path, ...]
    keys: known_hosts.HostKeyFiles
    jump: bool = True


def hops(node: Node) -> list[Hop]:
    """The node's jump hosts (each with its own ssh config settings), then the node."""
    chain = [Hop(where=f"jump host {j.name} ({j.host}:{j.port})", host=j.host, port=j.port,
                 user=j.user, identity_files=j.identity_files,
                 keys=known_hosts.HostKeyFiles.of(node.known_hosts, j.hash_known_hosts))
             for j in node.jumps]
    return [*chain, Hop(where=f"{node.host}:{node.port}", host=node.host, port=node.port,
                        user=node.user, identity_files=node.identity_files,
                        keys=known_hosts.HostKeyFiles.of(node.known_hosts, node.hash_known_hosts),
                        jump=False)]


def _handshake_failure(exc: Exception, node: Node, where: str) -> ConnectError:
    """Why an SSH handshake failed, from paramiko's exception and its cause.

    paramiko words a banner that never came and a connection closed before the
    banner the same way; the exception it caught tells them apart. A handshake
    still unfinished when connect's own timeout ends shows up later as
    "No existing session".
    """
    cause = exc.__context__
    text = str(exc)
    if isinstance(cause, (ConnectionError, EOFError)):
        return ConnectError(node.name, f"{where} closed the connection before the SSH banner "
                            f"(sshd refusing connections?)", reason="refused")
    if "banner" in text.lower() or "no existing session" in text.lower():
        return ConnectError(node.name, f"timed out waiting for the SSH handshake with {where} "
                            f"after {node.connect_timeout:g}s", reason="timeout")
    return ConnectError(node.name, f"SSH to {where} failed: {text}", reason="ssh")


class NodeConnection:
    """A node's SSH connection, opened on first use and reused until close()."""

    def __init__(self, node: Node, *, accept_new_host_keys: bool = False,
                 recorder: Recorder | None = None, redact: Callable[[str], str] = lambda s: s,
                 command_timeout: float = COMMAND_TIMEOUT):
        self.node = node
        self._accept_new = accept_new_host_keys
        self._recorder = recorder
        self._redact = redact
        self._timeout = command_timeout
        self._conn: Any = None          # the fabric Connection of the node (untyped)
        self._lock = threading.RLock()   # one command at a time on this connection
        self._chain: list[tuple[Hop, Any]] = []   # the hops of the attempt under way
        self.connects = 0      # successful connection set-ups (1 for a whole healthy run)
        self.round_trips = 0   # execs and file transfers after connecting

    # -- connecting -------------------------------------------------------------------------
    def _fabric_connection(self):
        """Fabric connections to the jump hosts (if any), then the node, chained.

        The first hop's TCP socket is opened here, with TCP_NODELAY: without it,
        Nagle and delayed ACKs add ~40 ms to each step of the handshake and to
        every round trip after it. `self._chain` keeps each hop with its
        connection, so a failure can be pinned on the hop that failed.
        """
        from fabric import Connection

        timeout = self.node.connect_timeout
        conn = None
        self._chain = []
        for hop in hops(self.node):
            kwargs = auth.connect_kwargs(hop.identity_files, timeout)
            if conn is None:
                kwargs["sock"] = _dial(hop.host, hop.port, timeout)
            try:
                conn = Connection(hop.host, user=hop.user, port=hop.port, config=_fabric_config(),
                                  connect_kwargs=kwargs, gateway=conn)
                known_hosts.verify_with(conn.client, hop.keys, hop.host, hop.port,
                                        accept_new=self._accept_new)
            except BaseException:
                if "sock" in kwargs:
                    kwargs["sock"].close()
                raise
            self._chain.append((hop, conn))
        return conn

    def open(self) -> None:
        """Connect (once), retrying only set-up failures that a retry can cure.

        A node or jump host at a documentation address (the shipped example's)
        is refused before anything is dialled."""
        self.node.refuse_documentation_addresses()
        with self._lock:
            if self._conn is not None and self._conn.is_connected:
                return
            for delay in (*RETRY_DELAYS, None):
                conn = None
                self._chain = []
                try:
                    conn = self._fabric_connection()
                    conn.open()
                except Exception as exc:
                    if conn is not None:
                        _close_chain(conn)
                    failure = self._connect_failure(exc, self._failed_hop())
                    if failure is None:
                        raise
                    if delay is None or failure.reason not in RETRYABLE:
                        raise failure from None
                    time.sleep(delay)
                    continue
                conn.client.get_transport().set_keepalive(15)
                self._conn = conn
                self.connects += 1
                return

    def _failed_hop(self) -> Hop:
        """The first hop of the chain without a finished SSH session (the node when the
        chain was never built: its first socket could not be opened)."""
        for hop, conn in self._chain:
            transport = conn.client.get_transport()
            if transport is None or not transport.is_authenticated():
                return hop
        return self._chain[-1][0] if self._chain else hops(self.node)[0]

    def _connect_failure(self, exc: Exception, hop: Hop) -> ConnectError | None:
        """The one-line reason a connection attempt failed; None for a bug (re-raised)."""
        import paramiko

        node = self.node
        where = hop.where
        if isinstance(exc, known_hosts.UnknownHostKey):
            whose = f" ({where})" if hop.jump else ""
            return ConnectError(node.name, f"{exc}{whose}; verify it and add it to known_hosts, "
                                f"or rerun with --accept-new-host-keys", reason="hostkey-unknown")
        if isinstance(exc, paramiko.BadHostKeyException):
            return ConnectError(
                node.name, f"host key for {where} CHANGED: it is now "
                f"{exc.key.get_name()} {known_hosts.fingerprint(exc.key)}, known_hosts has "
                f"{exc.expected_key.get_name()} {known_hosts.fingerprint(exc.expected_key)}; "
                f"refusing to connect (if the {'host' if hop.jump else 'node'} was reinstalled, "
                f"remove the old key with "
                f"ssh-keygen -R '{known_hosts.host_key_name(hop.host, hop.port)}')",
                reason="hostkey-changed")
        if isinstance(exc, paramiko.AuthenticationException) or \
                "no authentication methods available" in str(exc).lower():
            return ConnectError(node.name, f"authentication as {hop.user} to {where} failed; "
                                f"tried {auth.keys_tried(hop.identity_files)}",
                                reason="authentication")
        if isinstance(exc, paramiko.ChannelException) and len(self._chain) > 1:
            return ConnectError(node.name, f"{self._chain[-2][0].where} could not connect to "
                                f"{where}: {exc.text}", reason="unreachable")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return ConnectError(node.name, f"timed out connecting to {where} after "
                                f"{node.connect_timeout:g}s", reason="timeout")
        if isinstance(exc, ConnectionRefusedError):
            return ConnectError(node.name, f"connection to {where} refused", reason="refused")
        if isinstance(exc, paramiko.SSHException):
            return _handshake_failure(exc, node, where)
        if isinstance(exc, OSError) and exc.filename is not None:
            return ConnectError(node.name, f"cannot read {exc.filename}: {exc.strerror}",
                                reason="local-file")
        if isinstance(exc, OSError):
            return ConnectError(node.name, f"cannot reach {where}: {exc.strerror or exc}",
                                reason="unreachable")
        return None

    def fabric_connection(self):
        """The open fabric Connection under this one (carpctl.fabric hands it to users)."""
        self.open()
        return self._conn

    def adopt(self, connection) -> None:
        """Run over a fabric Connection the caller opened (and keeps owning: close() of a
        session closes it too, like its own)."""
        with self._lock:
            self.close()
            self._conn = connection

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    _close_chain(self._conn)
                finally:
                    self._conn = None

    def __enter__(self) -> NodeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running commands -------------------------------------------------------------------
    def _exec(self, line: str, what: str | None = None) -> tuple[int, bytes, bytes]:
        """One round trip on a fresh channel; stdin is closed at once (like ssh -n).

        `what` names the command in errors when `line` is a batch's long script.
        """
        import paramiko

        if self._conn is not None and not self._conn.is_connected:
            # it dropped by itself since the last command: say so once instead of quietly
            # dialling again (a crashed node would cost a connect timeout per call)
            self.close()
            raise ConnectionLost(self.node.name, self._shown(what or line), sent=False)
        self.open()
        transport = self._conn.client.get_transport()
        try:
            channel = transport.open_session(timeout=self.node.connect_timeout)
            channel.settimeout(self._timeout)
            channel.exec_command(line)
            channel.shutdown_write()
            stdout = channel.makefile("rb").read()
            stderr = channel.makefile_stderr("rb").read()
            status = channel.recv_exit_status()
            channel.close()
        except (TimeoutError, paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise ConnectionLost(self.node.name, self._shown(what or line)) from exc
        if status == -1:  # channel closed without an exit status: the session was cut
            self.close()
            raise ConnectionLost(self.node.name, self._shown(what or line))
        self.round_trips += 1
        return status, stdout, stderr

    def _shown(self, line: str) -> str:
        return first_line(self._redact(line))

    def _cut(self, lines: Sequence[str], lost: ConnectionLost, start: float) -> None:
        """Journal commands whose connection dropped under them: their outcome is unknown."""
        if lost.sent:
            for line in lines:
                self._record(Result(node=self.node.name, command=self._redact(line), status=-1,
                                    stdout="", stderr="connection lost: outcome unknown\n",
                                    duration=time.monotonic() - start))

    def run(self, command: Command, *, check: bool = False) -> Result:
        line = command.line(self.node.become)
        with self._lock:
            start = time.monotonic()
            try:
                status, out, err = self._exec(line)
            except ConnectionLost as lost:
                self._cut([line], lost, start)
                raise
        result = Result(node=self.node.name, command=self._redact(line), status=status,
                        stdout=out.decode("utf-8", "replace"),
                        stderr=err.decode("utf-8", "replace"), duration=time.monotonic() - start)
        self._record(result)
        if check and not result.ok:
            raise RemoteError(self.node.name, f"`{command}` failed (exit {status}): "
                              f"{(result.stderr or result.stdout).strip()[:300]}")
        return result

    def batch(self, commands: Sequence[Command]) -> list[Result]:
        """Run several commands in one round trip; each keeps its own output and status."""
        if len(commands) == 1:
            return [self.run(commands[0])]
        nonce = new_nonce()
        become = self.node.become
        script = batch_script(commands, become, nonce)
        with self._lock:
            start = time.monotonic()
            try:
                _, out, err = self._exec(script, named(commands))
            except ConnectionLost as lost:
                self._cut([c.line(become) for c in commands], lost, start)
                raise
        done = results(self.node.name, commands, become, nonce, out.decode("utf-8", "replace"),
                       err.decode("utf-8", "replace"), time.monotonic() - start, self._redact)
        for result in done:
            self._record(result)
        return done

    def _record(self, result: Result) -> None:
        if self._recorder is not None:
            self._recorder(result)

    # -- files ----------------------------------------------------------------------------------
    def put(self, data: bytes, path: str, *, mode: int | None = None) -> None:
        """Write a file over SFTP (the caller chooses a temporary path)."""
        import io

        import paramiko

        self.open()
        try:
            sftp = self._conn.sftp()
            sftp.putfo(io.BytesIO(data), path, confirm=True)
            if mode is not None:
                sftp.chmod(path, mode)
        except (TimeoutError, EOFError, paramiko.SSHException) as exc:   # the session was cut
            self.close()
            raise ConnectionLost(self.node.name, f"upload to {path}") from exc
        except OSError as exc:
            raise RemoteError(self.node.name, f"cannot write {path}: "
                              f"{exc.strerror or exc}") from None
        self.round_trips += 1

    def get(self, path: str) -> bytes | None:
        """A file's content over SFTP, or None if it does not exist."""
        import io

        self.open()
        buffer = io.BytesIO()
        try:
            self._conn.sftp().getfo(path, buffer)
        except FileNotFoundError:
            return None
        except (TimeoutError, EOFError) as exc:
            self.close()
            raise ConnectionLost(self.node.name, f"download of {path}") from exc
        except OSError as exc:
            raise RemoteError(self.node.name, f"cannot read {path}: {exc.strerror or exc}") from None
        self.round_trips += 1
        return buffer.getvalue()


def _dial(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _close_chain(conn) -> None:
    """Close a connection and its jump hosts; Fabric closes neither a gateway nor a
    transport whose handshake failed (its close() looks only at finished ones)."""
    while conn is not None and not isinstance(conn, str):
        conn.close()
        conn.client.close()
        conn = conn.gateway
