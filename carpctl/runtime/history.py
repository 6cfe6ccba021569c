"""The journal of what carpctl did: one row per run, per remote command, per step.

SQLite from the standard library, in the user's state directory (platformdirs),
or in $CARPCTL_STATE_DIR. Every text stored has passed through the run's
redaction, so secrets never reach the file.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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
"""
OUTPUT_LIMIT = 4000  # characters of a command's output kept in the journal


def state_dir() -> Path:
    override = os.environ.get("CARPCTL_STATE_DIR")
    if override:
        return Path(override)
    import platformdirs
    return Path(platformdirs.user_state_dir("carpctl"))


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(2).hex()


@dataclass(frozen=True)
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


class History:
    """One SQLite file, shared by the threads of a run (writes are serialised)."""

    def __init__(self, path: Path | None = None):
        self.path = path or state_dir() / "history.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
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
        return run

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


def _summary(row: tuple) -> RunSummary:
    return RunSummary(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6],
                      row[7], row[8], json.loads(row[9] or "{}"))


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

    def record(self, result) -> None:
        """A transport Recorder: one row per remote command."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        output = self._redact(result.stdout + result.stderr)[:OUTPUT_LIMIT]
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

    def finish(self, exit_code: int, summary: str) -> None:
        self.finished = True
        self.history._write(
            "UPDATE runs SET finished = ?, exit_code = ?, summary = ?, details = ? WHERE id = ?",
            (time.time(), exit_code, self._redact(summary),
             self._redact(json.dumps(self.details)), self.id))
