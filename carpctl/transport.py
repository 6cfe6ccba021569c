"""One reused SSH connection per node: host keys, doas, timeouts, batching, recording.

Connections are set up with Fabric (ssh config, ProxyJump gateways, SFTP); commands
run on plain paramiko channels so a round trip costs one channel and no helper
threads. Host keys are checked against known_hosts and never accepted silently:
Fabric's default AutoAddPolicy is replaced.
"""

from __future__ import annotations

import errno
import secrets as random_tokens
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .commands import Command
from .errors import RemoteError
from .validate import parse_proxy_jump

if TYPE_CHECKING:
    from .inventory import Node

RETRY_DELAYS = (0.2, 0.5, 1.0)   # connection set-up only: refused, reset, banner not seen
COMMAND_TIMEOUT = 60.0           # silence on a channel this long means the node is gone


@dataclass(frozen=True)
class Result:
    """What one remote command did. `command` is the redacted line that ran."""

    node: str
    command: str
    status: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Recorder = Callable[[Result], None]


class ConnectError(RemoteError):
    """The node could not be reached; `reason` says why in one word."""


class ConnectionLost(RemoteError):
    """The connection dropped while a command ran: its outcome is unknown."""

    def __init__(self, node: str, command: str):
        super().__init__(node, f"connection lost while running: {command}", reason="lost")
        self.command = command


def _fingerprint(key) -> str:
    import base64
    import hashlib
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _host_key_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _known_hosts_files(node: Node) -> list[Path]:
    user_file = Path.home() / ".ssh" / "known_hosts"
    files = [Path(p).expanduser() for p in node.known_hosts]
    if user_file not in files:
        files.append(user_file)
    return files


def _host_key_policy(node: Node, accept_new: bool):
    """Reject unknown keys, or record them in the node's first known_hosts file."""
    import paramiko

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            if not accept_new:
                raise ConnectError(
                    node.name, f"unknown host key {key.get_name()} {_fingerprint(key)} for "
                    f"{hostname}; verify it and add it to known_hosts, or rerun with "
                    f"--accept-new-host-keys", reason="hostkey-unknown")
            target = _known_hosts_files(node)[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
            client.get_host_keys().add(hostname, key.get_name(), key)
    return Policy()


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
        self._conn = None
        self._lock = threading.Lock()
        self.round_trips = 0

    # -- connecting -------------------------------------------------------------------------
    def _fabric_connection(self):
        from fabric import Config, Connection

        node = self.node
        config = Config(lazy=True, overrides={"load_ssh_configs": False})
        timeout = node.connect_timeout
        connect_kwargs = {"timeout": timeout, "banner_timeout": timeout,
                          "auth_timeout": timeout, "look_for_keys": node.identity_file is None,
                          "allow_agent": node.identity_file is None}
        if node.identity_file is not None:
            connect_kwargs["key_filename"] = [str(Path(node.identity_file).expanduser())]
        gateway = None
        for hop in parse_proxy_jump(node.proxy_jump) if node.proxy_jump else ():
            gateway = Connection(hop.host, user=hop.user or node.user, port=hop.port or 22,
                                 config=config, connect_kwargs=dict(connect_kwargs),
                                 gateway=gateway)
            self._verify_host_keys(gateway.client)
        conn = Connection(node.host, user=node.user, port=node.port, config=config,
                          connect_kwargs=connect_kwargs, gateway=gateway)
        self._verify_host_keys(conn.client)
        return conn

    def _verify_host_keys(self, client) -> None:
        for path in _known_hosts_files(self.node):
            if path.is_file():
                client.load_system_host_keys(str(path))
        client.set_missing_host_key_policy(_host_key_policy(self.node, self._accept_new))

    def open(self) -> None:
        """Connect (once), retrying only set-up failures that a retry can cure."""
        import paramiko

        if self._conn is not None and self._conn.is_connected:
            return
        node = self.node
        where = f"{node.host}:{node.port}"
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            conn = self._fabric_connection()
            try:
                conn.open()
                transport = conn.client.get_transport()
                transport.set_keepalive(15)
                if isinstance(transport.sock, socket.socket):  # not through a jump host
                    # without it, Nagle and delayed ACKs add ~40 ms to every round trip
                    transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conn = conn
                return
            except ConnectError:
                raise
            except paramiko.BadHostKeyException as exc:
                raise ConnectError(
                    node.name, f"host key for {where} CHANGED: it is now "
                    f"{exc.key.get_name()} {_fingerprint(exc.key)}, known_hosts has "
                    f"{_fingerprint(exc.expected_key)}; refusing to connect (if the node was "
                    f"reinstalled, remove the old key with ssh-keygen -R "
                    f"'{_host_key_name(node.host, node.port)}')", reason="hostkey-changed") from None
            except paramiko.AuthenticationException as exc:
                raise ConnectError(node.name, f"authentication as {node.user} to {where} "
                                   f"failed: {exc}", reason="auth") from None
            except (socket.timeout, TimeoutError):
                raise ConnectError(node.name, f"timed out connecting to {where} after "
                                   f"{node.connect_timeout:g}s", reason="timeout") from None
            except paramiko.ssh_exception.NoValidConnectionsError as exc:
                reason, message = "refused", f"connection to {where} refused"
                if not all(e.errno == errno.ECONNREFUSED for e in exc.errors.values()):
                    reason, message = "unreachable", f"cannot reach {where}: {exc}"
                failure = ConnectError(node.name, message, reason=reason)
            except paramiko.SSHException as exc:
                text = str(exc)
                if "banner" in text.lower():
                    raise ConnectError(node.name, f"timed out waiting for sshd on {where} after "
                                       f"{node.connect_timeout:g}s", reason="timeout") from None
                failure = ConnectError(node.name, f"SSH to {where} failed: {text}",
                                       reason="ssh")
            except OSError as exc:
                failure = ConnectError(node.name, f"cannot reach {where}: {exc.strerror or exc}",
                                       reason="unreachable")
            conn.close()
            if delay is None:
                raise failure
            time.sleep(delay)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> NodeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running commands -------------------------------------------------------------------
    def _exec(self, line: str) -> tuple[int, bytes, bytes]:
        """One round trip on a fresh channel; stdin is closed at once (like ssh -n)."""
        import paramiko

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
        except (paramiko.SSHException, EOFError, OSError, socket.timeout) as exc:
            self.close()
            raise ConnectionLost(self.node.name, self._redact(line)) from exc
        if status == -1:  # channel closed without an exit status: the session was cut
            self.close()
            raise ConnectionLost(self.node.name, self._redact(line))
        self.round_trips += 1
        return status, stdout, stderr

    def run(self, command: Command, *, check: bool = False) -> Result:
        line = command.line(self.node.become)
        with self._lock:
            start = time.monotonic()
            status, out, err = self._exec(line)
        result = Result(self.node.name, self._redact(line), status,
                        out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                        time.monotonic() - start)
        self._record(result)
        if check and not result.ok:
            raise RemoteError(self.node.name, f"`{command}` failed (exit {status}): "
                              f"{(result.stderr or result.stdout).strip()[:300]}")
        return result

    def batch(self, commands: Sequence[Command]) -> list[Result]:
        """Run several commands in one round trip; each keeps its own output and status."""
        if len(commands) == 1:
            return [self.run(commands[0])]
        nonce = random_tokens.token_hex(8)
        become = self.node.become
        parts = []
        for i, command in enumerate(commands):
            parts.append(f"echo '@@{nonce} {i}'; echo '@@{nonce} {i}' >&2; {command.line(become)}; "
                         f"printf '\\n@@{nonce} {i} = %d\\n' $?; printf '\\n@@{nonce} {i} =\\n' >&2")
        script = "; ".join(parts)
        with self._lock:
            start = time.monotonic()
            status, out, err = self._exec(script)
        elapsed = time.monotonic() - start
        outs = _split(out.decode("utf-8", "replace"), nonce, len(commands))
        errs = _split(err.decode("utf-8", "replace"), nonce, len(commands))
        results = []
        for i, command in enumerate(commands):
            body, code = outs[i]
            results.append(Result(self.node.name, self._redact(command.line(become)),
                                  code, body, errs[i][0], elapsed / len(commands)))
        for result in results:
            self._record(result)
        return results

    def _record(self, result: Result) -> None:
        if self._recorder is not None:
            self._recorder(result)

    # -- files ----------------------------------------------------------------------------------
    def put(self, data: bytes, path: str, *, mode: int | None = None) -> None:
        """Write a file over SFTP (the caller chooses a temporary path)."""
        import io

        self.open()
        try:
            sftp = self._conn.sftp()
            sftp.putfo(io.BytesIO(data), path, confirm=True)
            if mode is not None:
                sftp.chmod(path, mode)
        except (EOFError, socket.timeout) as exc:
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
        except (EOFError, socket.timeout) as exc:
            self.close()
            raise ConnectionLost(self.node.name, f"download of {path}") from exc
        except OSError as exc:
            raise RemoteError(self.node.name, f"cannot read {path}: {exc.strerror or exc}") from None
        self.round_trips += 1
        return buffer.getvalue()


def _split(text: str, nonce: str, count: int) -> list[tuple[str, int]]:
    """Cut a batch's stream back into per-command (text, status); -1 if a piece is missing."""
    pieces: list[tuple[str, int]] = [("", -1)] * count
    marker = f"@@{nonce} "
    current: int | None = None
    buffer: list[str] = []
    for line in text.splitlines(keepends=True):
        words = line[len(marker):].split() if line.startswith(marker) else []
        if len(words) == 1 and words[0].isdigit():
            current, buffer = int(words[0]), []
        elif current is not None and len(words) >= 2 and words[1] == "=":
            body = "".join(buffer)
            status = int(words[2]) if len(words) > 2 else 0
            pieces[current] = (body[:-1] if body.endswith("\n") else body, status)
            current = None
        elif current is not None:
            buffer.append(line)
    return pieces


def probe(node: Node, *, accept_new_host_keys: bool = False) -> Result:
    """Open a NEW connection and run one command: proof that the node is still reachable."""
    from .commands import HOSTNAME

    with NodeConnection(node, accept_new_host_keys=accept_new_host_keys) as conn:
        return conn.run(HOSTNAME)


def open_all(nodes: Iterable[Node], **kwargs) -> dict[str, NodeConnection]:
    return {node.name: NodeConnection(node, **kwargs) for node in nodes}
