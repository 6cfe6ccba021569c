"""The journal of what carpctl did: one row per run, per remote command, per step.

SQLite from the standard library, in the user's state directory (platformdirs),
or in $CARPCTL_STATE_DIR. Every text stored has passed through the run's
redaction, so secrets never reach the file.

Each run records its full command line and every option it ran with, the
inventory it read and the pairs it acted on. A read-only run (`status`,
`check`, `--check`, `inventory`) is journaled compactly: the commands it ran, the
output of failed ones only, since a monitoring check a minute would otherwise
write megabytes a day. Retention (Retention.from_environ) is applied at the
start of every run: read-only runs are kept for days, runs that changed
something for a year, and the newest runs up to a count.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    pairs TEXT NOT NULL,
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    exit_code INTEGER,
    summary TEXT,
    details TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    run_id TEXT NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    node TEXT NOT NULL,
    command TEXT NOT NULL,
    status INTEGER,
    duration REAL,
    started REAL,
    output TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    node TEXT,
    status TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    data TEXT
);
CREATE INDEX IF NOT EXISTS commands_run ON commands(run_id, seq);
CREATE INDEX IF NOT EXISTS steps_run ON steps(run_id, seq);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
"""
# added after the first release: a journal written before gets them on open
COLUMNS = {"argv": "TEXT", "options": "TEXT", "inventory": "TEXT",
           "read_only": "INTEGER NOT NULL DEFAULT 0"}
OUTPUT_LIMIT = 4000  # characters of a command's output kept in the journal
COMPACT_OUTPUT = 300  # ... and of a failed command's output in a read-only run


@dataclass(frozen=True)
class Retention:
    """How long the journal keeps runs; read from the environment (docs/deploy.md):
    CARPCTL_HISTORY_DAYS (runs that changed something, default 365),
    CARPCTL_HISTORY_READ_ONLY_DAYS (status, check, --check, inventory: default 7),
    CARPCTL_HISTORY_RUNS (the newest runs kept whatever their age, at most: 10000)."""

    days: float = 365
    read_only_days: float = 7
    runs: int = 10000

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Retention:
        from carpctl.errors import UsageError

        values: dict[str, Any] = {}
        environ = os.environ if environ is None else environ
        for field_name, var, kind in (("days", "CARPCTL_HISTORY_DAYS", float),
                                      ("read_only_days", "CARPCTL_HISTORY_READ_ONLY_DAYS", float),
                                      ("runs", "CARPCTL_HISTORY_RUNS", int)):
            text = environ.get(var)
            if text is None:
                continue
            try:
                values[field_name] = kind(text)
            except ValueError:
                values[field_name] = -1
            if values[field_name] <= 0:
                raise UsageError(f"${var} is {text!r}: it must be a number above 0")
        return cls(**values)


def state_dir() -> Path:
    override = os.environ.get("CARPCTL_STATE_DIR")
    if override:
        return Path(override)
    import platformdirs
    return Path(platformdirs.user_state_dir("carpctl"))


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(2).hex()


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    id: str
    command: str
    pairs: list[str]
    user: str
    host: str
    started: float
    finished: float | None
    exit_code: int | None
    summary: str | None
    details: dict[str, Any]
    argv: str | None = None             # the command line as typed (the carpctl program)
    options: dict[str, Any] = field(default_factory=dict)   # every option it ran with
    inventory: str | None = None
    read_only: bool = False


class History:
    """One SQLite file, shared by the threads of a run (writes are serialised)."""

    def __init__(self, path: Path | None = None, retention: Retention | None = None):
        self.path = path or state_dir() / "history.sqlite"
        self.retention = retention or Retention.from_environ()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        for name, kind in COLUMNS.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)
            self._db.commit()

    def start_run(self, command: str, pairs: list[str],
                  redact: Callable[[str], str] = lambda s: s) -> Run:
        run = Run(self, _new_run_id(), redact)
        self._write("INSERT INTO runs (id, command, pairs, user, host, started) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (run.id, redact(command), json.dumps(pairs), getpass.getuser(),
                     socket.gethostname(), time.time()))
        self.prune()
        return run

    def prune(self, now: float | None = None) -> int:
        """Apply the retention; the number of runs removed (with their commands and steps)."""
        now = time.time() if now is None else now
        keep = self.retention
        with self._lock:
            newest = [row[0] for row in self._db.execute(
                "SELECT id FROM runs ORDER BY started DESC LIMIT -1 OFFSET ?", (keep.runs,))]
            old = [row[0] for row in self._db.execute(
                "SELECT id FROM runs WHERE (read_only = 1 AND started < ?) "
                "OR (read_only = 0 AND started < ?)",
                (now - keep.read_only_days * 86400, now - keep.days * 86400))]
            doomed = sorted(set(newest) | set(old))
            for table, column in (("commands", "run_id"), ("steps", "run_id"), ("runs", "id")):
                self._db.executemany(f"DELETE FROM {table} WHERE {column} = ?",
                                     [(d,) for d in doomed])
            self._db.commit()
        return len(doomed)

    def runs(self, limit: int = 50, *, command: str | None = None,
             pair: str | None = None) -> list[RunSummary]:
        sql = "SELECT * FROM runs"
        clauses, args = [], []
        if command:
            clauses.append("command LIKE ?")
            args.append(f"{command}%")
        if pair:
            clauses.append("pairs LIKE ?")
            args.append(f'%"{pair}"%')
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY started DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [_summary(row) for row in rows]

    def run(self, run_id: str) -> RunSummary | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ? OR id LIKE ? "
                                   "ORDER BY started DESC LIMIT 1",
                                   (run_id, f"%{run_id}")).fetchone()
        return _summary(row) if row else None

    def commands(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, node, command, status, duration, started, output "
                                    "FROM commands WHERE run_id = ? ORDER BY seq",
                                    (run_id,)).fetchall()
        keys = ("seq", "node", "command", "status", "duration", "started", "output")
        return [dict(zip(keys, row)) for row in rows]

    def steps(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, name, node, status, started, finished, data "
                                    "FROM steps WHERE run_id = ? ORDER BY seq",
                                    (run_id,)).fetchall()
        keys = ("seq", "name", "node", "status", "started", "finished", "data")
        return [dict(zip(keys, row), data=json.loads(row[6] or "{}")) for row in rows]


RESOLVED = ("settled", "undone")   # how a pending change ends (carpctl.runtime.undo)


def unresolved(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pending changes of a run's steps that nothing resolved later: what a run killed
    mid-change may have left on its nodes (each with `node`, `pair`, `left`, `undo`)."""
    open_changes: dict[tuple[str, str | None], dict[str, Any]] = {}
    for step in steps:
        key = (step["name"], step["node"])
        if step["status"] == "pending":
            open_changes[key] = {"what": step["name"], "node": step["node"], **step["data"]}
        elif step["status"] in RESOLVED:
            open_changes.pop(key, None)
    return list(open_changes.values())


def _summary(row: tuple) -> RunSummary:
    return RunSummary(id=row[0], command=row[1], pairs=json.loads(row[2]), user=row[3], host=row[4],
                      started=row[5], finished=row[6], exit_code=row[7], summary=row[8],
                      details=json.loads(row[9] or "{}"), argv=row[10],
                      options=json.loads(row[11] or "{}"), inventory=row[12],
                      read_only=bool(row[13]))


class Run:
    """The journal of one carpctl invocation."""

    def __init__(self, history: History, run_id: str, redact: Callable[[str], str]):
        self.history = history
        self.id = run_id
        self._redact = redact
        self._seq = 0
        self._step_seq = 0
        self._lock = threading.Lock()
        self.details: dict[str, Any] = {}
        self.finished = False
        self.read_only = False

    def describe(self, *, argv: str | None, options: dict[str, Any], inventory: str,
                 pairs: list[str], read_only: bool) -> None:
        """What the run was asked to do, recorded before it does anything."""
        self.read_only = read_only
        self.history._write(
            "UPDATE runs SET argv = ?, options = ?, inventory = ?, pairs = ?, read_only = ? "
            "WHERE id = ?",
            (self._redact(argv) if argv is not None else None,
             self._redact(json.dumps(options, default=str)), inventory, json.dumps(pairs),
             int(read_only), self.id))

    def record(self, result) -> None:
        """A transport Recorder: one row per remote command (a read-only run keeps the
        output of its failed commands only, shortened)."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        limit = OUTPUT_LIMIT if not self.read_only else COMPACT_OUTPUT if result.status else 0
        output = self._redact(result.stdout + result.stderr)[:limit]
        self.history._write(
            "INSERT INTO commands (run_id, seq, node, command, status, duration, started, output) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.id, seq, result.node, self._redact(result.command), result.status,
             result.duration, time.time() - result.duration, output))

    def step(self, name: str, status: str, *, node: str | None = None,
             data: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._step_seq += 1
            seq = self._step_seq
        now = time.time()
        self.history._write(
            "INSERT INTO steps (run_id, seq, name, node, status, started, finished, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.id, seq, name, node, status, now, now, self._redact(json.dumps(data or {}))))

    def save_details(self) -> None:
        """Write `details` now, not only at the end: what a resume needs (the playbook,
        its pairs, their MASTERs) must survive a process that is killed mid-run."""
        self.history._write("UPDATE runs SET details = ? WHERE id = ?",
                            (self._details(), self.id))

    def _details(self) -> str:
        return self._redact(json.dumps(self.details))

    def finish(self, exit_code: int, summary: str) -> None:
        self.finished = True
        self.history._write(
            "UPDATE runs SET finished = ?, exit_code = ?, summary = ?, details = ? WHERE id = ?",
            (time.time(), exit_code, self._redact(summary), self._details(), self.id))
