"""Backup sets on the node: what a deploy or rollback replaced, kept where it ran.

Layout, one directory per run (run ids sort by time):

    /var/carpctl/backups/RUN/MANIFEST         what the set holds (below)
    /var/carpctl/backups/RUN/files/etc/pf.conf  the replaced file, `cp -p` (mode, owner kept)
    /var/carpctl/backups/RUN/confirm.sh       the commit-confirmed timer (carpctl.core.confirm)

The sets live on the node, not on the laptop: a rollback works from any
machine and without the history file, and the node's own timer can restore
them when carpctl cannot reach it. The MANIFEST records, per file, its kind
and the sha256 it had, or `absent` when the run created it, so a restore
can be verified and knows to remove what did not exist.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from dataclasses import dataclass

from carpctl.remote import commands as C

ROOT = "/var/carpctl/backups"
MANIFEST = "MANIFEST"
_FORMAT = "carpctl-backup 1"
_RUN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}")  # history run ids; the only names pruned


@dataclass(frozen=True)
class Entry:
    """One file of a set: its kind and the sha256 it had (None: it did not exist)."""

    dest: str
    kind: str
    sha256: str | None


@dataclass(frozen=True)
class BackupSet:
    run: str
    command: str          # deploy | rollback: which run made it
    entries: tuple[Entry, ...]

    @property
    def path(self) -> str:
        return f"{ROOT}/{self.run}"

    def copy_of(self, dest: str) -> str:
        """Where the set keeps `dest`: its whole path under files/, so names never clash."""
        return f"{self.path}/files{dest}"

    def manifest(self) -> str:
        lines = [_FORMAT, f"run {self.run}", f"command {self.command}"]
        lines += [f"file\t{e.kind}\t{e.dest}\t{e.sha256 or 'absent'}" for e in self.entries]
        return "\n".join(lines) + "\n"


def new_run_id() -> str:
    """A run id like the history's, for runs without a journal (sorts by time)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(2).hex()


def beside(dest: str, token: str, suffix: str = "") -> str:
    """A temporary name in dest's own directory: rename(2) from there is atomic."""
    directory, name = posixpath.split(dest)
    return f"{directory}/.{name}.carpctl-{token}{suffix}"


# -- commands ------------------------------------------------------------------------------
def create_commands(backup: BackupSet) -> list[C.Command]:
    """Make the set: copies of every file that exists, then the manifest last.

    The manifest is written last so that a set with a manifest is complete.
    """
    present = [e for e in backup.entries if e.sha256 is not None]
    directories = sorted({posixpath.dirname(backup.copy_of(e.dest)) for e in present})
    return [C.make_dirs(backup.path, *directories),
            *(C.copy_preserving(e.dest, backup.copy_of(e.dest)) for e in present),
            C.write_file(f"{backup.path}/{MANIFEST}", backup.manifest())]


def restore_commands(backup: BackupSet, token: str) -> list[C.Command]:
    """Put every file of the set back, each atomically (copy beside, rename); remove the
    files the run created."""
    commands: list[C.Command] = []
    for entry in backup.entries:
        if entry.sha256 is None:
            commands.append(C.remove(entry.dest))
            continue
        temp = beside(entry.dest, token, "-restore")
        commands += [C.copy_preserving(backup.copy_of(entry.dest), temp),
                     C.rename(temp, entry.dest)]
    return commands


def list_command() -> C.Command:
    """Every set's manifest in one round trip (no output when there is none)."""
    return C.Command(("sh", "-c", f"cat {ROOT}/*/{MANIFEST} 2>/dev/null; true"), True)


def remove_command(*sets: BackupSet | str) -> C.Command:
    return C.remove_tree(*(s if isinstance(s, str) else s.path for s in sets))


# -- reading -------------------------------------------------------------------------------
def parse_sets(text: str) -> list[BackupSet]:
    """The manifests `list_command` printed, oldest set first; unknown lines are skipped."""
    sets: list[BackupSet] = []
    run = command = None
    entries: list[Entry] = []

    def close() -> None:
        if run is not None:
            sets.append(BackupSet(run, command or "deploy", tuple(entries)))

    for line in text.splitlines():
        words = line.split("\t") if line.startswith("file\t") else line.split()
        if line == _FORMAT:
            close()
            run, command, entries = None, None, []
        elif words[:1] == ["run"] and len(words) == 2:
            run = words[1]
        elif words[:1] == ["command"] and len(words) == 2:
            command = words[1]
        elif words[:1] == ["file"] and len(words) == 4:
            entries.append(Entry(words[2], words[1], None if words[3] == "absent" else words[3]))
    close()
    return sorted(sets, key=lambda s: s.run)


def to_prune(sets: list[BackupSet], new: BackupSet, keep: int) -> list[str]:
    """Paths of the sets beyond the newest `keep` (the new one counted), oldest first."""
    names = sorted({s.run for s in sets if _RUN.fullmatch(s.run)} | {new.run})
    return [f"{ROOT}/{name}" for name in names[:-keep] if name != new.run]
