"""Backup sets on the node: what a deploy or rollback replaced, kept where it ran.

Layout, one directory per run (run ids sort by time):

    /var/carpctl/backups/RUN/MANIFEST         what the set holds (below)
    /var/carpctl/backups/RUN/files/etc/pf.conf  the replaced file, `cp -p` (mode, owner kept)
    /var/carpctl/backups/RUN/confirm.sh       the commit-confirmed timer (carpctl.core.confirm)

The sets live on the node, not on the laptop: a rollback works from any
machine and without the history file, and the node's own timer can restore
them when carpctl cannot reach it. The MANIFEST format is carpctl.facts.backups.
"""

from __future__ import annotations

import os
import posixpath
import re
import time

from carpctl.facts.backups import BackupSet
from carpctl.remote import commands as C
from carpctl.remote.paths import BACKUPS, MANIFEST

_RUN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}")  # history run ids; the only names pruned


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


def remove_command(*sets: BackupSet | str) -> C.Command:
    return C.remove_tree(*(s if isinstance(s, str) else s.path for s in sets))


def to_prune(sets: list[BackupSet], new: BackupSet, keep: int) -> list[str]:
    """Paths of the sets beyond the newest `keep` (the new one counted), oldest first."""
    names = sorted({s.run for s in sets if _RUN.fullmatch(s.run)} | {new.run})
    return [f"{BACKUPS}/{name}" for name in names[:-keep] if name != new.run]
