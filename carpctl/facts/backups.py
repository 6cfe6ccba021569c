"""Backup sets as they are found on a node: the MANIFEST format, written and read here.

A set is one directory per deploy or rollback run under /var/carpctl/backups (see
carpctl.core.backups for the layout and the commands that make and restore sets). The
MANIFEST records, per file, its kind and the sha256 it had, or `absent` when the run
created it, so a restore can be verified and knows to remove what did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from carpctl.remote.paths import BACKUPS

_FORMAT = "carpctl-backup 1"


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
        return f"{BACKUPS}/{self.run}"

    def copy_of(self, dest: str) -> str:
        """Where the set keeps `dest`: its whole path under files/, so names never clash."""
        return f"{self.path}/files{dest}"

    def manifest(self) -> str:
        lines = [_FORMAT, f"run {self.run}", f"command {self.command}"]
        lines += [f"file\t{e.kind}\t{e.dest}\t{e.sha256 or 'absent'}" for e in self.entries]
        return "\n".join(lines) + "\n"


def parse_sets(text: str) -> list[BackupSet]:
    """The manifests commands.LIST_BACKUP_SETS printed, oldest set first; unknown lines are skipped."""
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
