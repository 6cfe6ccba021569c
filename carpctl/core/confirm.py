"""The commit-confirmed timer: a node puts its old files back unless carpctl confirms.

Like Junos `commit confirmed`: before new pf rules are loaded, a detached shell
script is started on the node (`nohup sh SCRIPT &`, so it survives the SSH
session). It sleeps for the confirm timeout, then, if the marker file
`confirm.armed` is still there, restores the backup set it sits in and
reloads what it restored. carpctl cancels it by removing the marker over a
NEW SSH connection: the removal itself is the proof that a new connection
still gets in. If the rules locked carpctl out, nobody removes the marker and
the node brings itself back.

The marker is claimed with one rename (`mv confirm.armed confirm.fired`), and
cancelled with one `rm` without -f: exactly one of the two succeeds, so carpctl
always knows whether the timer fired (its `rm` fails) or not.
"""

from __future__ import annotations

from carpctl.facts.backups import BackupSet
from carpctl.remote import commands as C


def script_path(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.sh"


def marker(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.armed"


def fired_marker(backup: BackupSet) -> str:
    return f"{backup.path}/confirm.fired"


def script(backup: BackupSet, timeout: float, restore: list[C.Command]) -> str:
    """The timer's text; `restore` puts the set back and reloads it (run as root)."""
    return C.timer_script(f"run {backup.run}", marker(backup), fired_marker(backup), timeout,
                          restore)


def arm_commands(backup: BackupSet, timeout: float, restore: list[C.Command]) -> list[C.Command]:
    """Write the script, create the marker, start the script detached."""
    return [C.write_file(script_path(backup), script(backup, timeout, restore)),
            C.touch(marker(backup)),
            C.run_detached(script_path(backup))]


def cancel_command(backup: BackupSet) -> C.Command:
    """Fails (the marker is gone) when the timer fired first."""
    return C.cmd("rm", marker(backup), privileged=True)
