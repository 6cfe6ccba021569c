"""Loading the candidate: put each new file beside its destination and validate it there.

Files are uploaded (SFTP) into a directory of the run's own, mode 0700, in
/tmp, then `install -m MODE -o OWNER -g GROUP` copies each one beside its
destination (`/etc/.pf.conf.carpctl-RUN`) with its final mode and owner. The
detour serves both kinds of users: a `become: doas` user cannot write /etc,
and for root it means a secret (a carp `pass`) is never readable by others,
not even for the moment between an upload and a chmod.

The copy beside the destination is then checked by the node's own tool
(`pfctl -nf`, `relayd -n -f`, or the inventory's validate command), in the
same round trip. Its errors name the uploaded copy (`FILE:LINE: message`);
they are shown against the template line that produced that line
(carpctl.render.lines).

A rollback stages from a backup set instead: `cp -p` from the set to the same
place beside the destination, then the same validation.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from dataclasses import dataclass

from carpctl.core.backups import beside
from carpctl.errors import FailedError, RemoteError
from carpctl.facts import parse_pf_errors
from carpctl.facts.backups import BackupSet
from carpctl.flows.deploy.plan import FileChange
from carpctl.inventory import FileSpec, Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.batch import Result
from carpctl.remote.connection import NodeConnection
from carpctl.render.lines import origin
from carpctl.runtime.session import Session

STAGING = "/tmp/carpctl-"          # + TOKEN-RANDOM: a run's upload directory
CHECK = "-check"                   # a --check run's token ends so: it holds no lock
CHECK_ALIVE = 3600.0               # a --check younger than this may still be running
_TOKEN = re.compile(r"carpctl-([0-9]{8}-[0-9]{6}-[0-9a-f]{4})((?:-check)?)")


@dataclass(frozen=True, kw_only=True)
class Staged:
    """A file ready to be renamed into place on one node."""

    dest: str
    kind: str
    apply: tuple[str, ...] | None       # the inventory's apply command (kind other)
    temp: str | None                    # the new content, beside dest; None: remove dest
    old_hash: str | None                # what is live now (None: absent)
    new_hash: str | None                # what will be live (None: absent)


@dataclass(frozen=True)
class Candidate:
    node: str
    staged: tuple[Staged, ...]
    live: dict[str, str | None]         # dest -> live text (redacted), when asked for


def validate_command(kind: str, spec: FileSpec | None, path: str) -> C.Command | None:
    """How the node itself checks a file of this kind, given the copy at `path`."""
    if kind == "pf":
        return C.pf_check(path)
    if kind == "relayd":
        return C.relayd_check(path)
    argv = spec.validate_argv(path) if spec is not None else None
    return C.Command(argv, privileged=True) if argv else None


def upload(session: Session, pair: Pair, node: Node, changes: tuple[FileChange, ...],
           token: str, *, read_live: bool = False, keep: bool = True) -> Candidate:
    """Stage and validate `changes` on `node`; keep=False (--check) removes the copies at once.

    Raises FailedError (nothing installed, copies removed) when a file is invalid.
    """
    conn = session.connection(node)
    token = token if keep else token + CHECK
    staging = f"{STAGING}{token}-{os.urandom(4).hex()}"
    temps = [beside(change.dest, token) for change in changes]
    specs = [change.rendered.spec for change in changes]
    reading = [read_live and change.live_hash is not None for change in changes]
    try:
        conn.run(C.make_private_dir(staging), check=True)
        for index, change in enumerate(changes):
            conn.put(change.rendered.text.encode(), f"{staging}/{index}")
        places = [C.install_file(f"{staging}/{i}", temp, spec.mode, spec.owner, spec.group)
                  for i, (spec, temp) in enumerate(zip(specs, temps))]
        checks = [validate_command(spec.kind, spec, temp) for spec, temp in zip(specs, temps)]
        reads = [C.read_file(change.dest) for change, r in zip(changes, reading) if r]
        tidy = [C.remove_tree(staging), *([] if keep else [C.remove(*temps)])]
        results = iter(conn.batch([*places, *filter(None, checks), *reads, *tidy]))
    except BaseException:
        discard(conn, temps, staging)
        raise
    placed = [next(results) for _ in places]
    checked = [next(results) if check is not None else None for check in checks]
    live = {change.dest: session.redact(next(results).stdout) if r else None
            for change, r in zip(changes, reading) if read_live}
    try:
        _check_placed(node, changes, placed)
        for change, temp, check, result in zip(changes, temps, checks, checked):
            if check is not None and result is not None and not result.ok:
                raise FailedError(invalid(pair, node, change, temp, check, result),
                                  hint="nothing was installed on either node")
    except FailedError:
        if keep:
            discard(conn, temps, None)
        raise
    staged = tuple(Staged(dest=change.dest, kind=spec.kind, apply=spec.apply_argv(), temp=temp,
                          old_hash=change.live_hash, new_hash=change.new_hash)
                   for change, spec, temp in zip(changes, specs, temps))
    return Candidate(node.name, staged, live)


def from_backup(session: Session, pair: Pair, node: Node, backup: BackupSet,
                live: dict[str, str | None], token: str) -> Candidate:
    """Stage the files of a backup set that differ from the live ones (`live`: dest ->
    sha256; a dest missing from it was not read and counts as different)."""
    specs = {spec.dest: spec for spec in pair.files}
    staged = tuple(
        Staged(dest=e.dest, kind=e.kind,
               apply=specs[e.dest].apply_argv() if e.dest in specs else None,
               temp=beside(e.dest, token) if e.sha256 else None, old_hash=live.get(e.dest),
               new_hash=e.sha256)
        for e in backup.entries if e.dest not in live or live[e.dest] != e.sha256)
    copies = [(s, s.temp) for s in staged if s.temp is not None]
    if not copies:
        return Candidate(node.name, staged, {})
    conn = session.connection(node)
    temps = [temp for _, temp in copies]
    checks = [validate_command(s.kind, specs.get(s.dest), temp) for s, temp in copies]
    try:
        results = conn.batch([*(C.copy_preserving(backup.copy_of(s.dest), temp)
                                for s, temp in copies), *filter(None, checks)])
    except BaseException:
        discard(conn, temps, None)
        raise
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        discard(conn, temps, None)
        text = (failed.output.strip().splitlines() or [f"exit {failed.status}"])[0]
        for item, temp in copies:
            text = text.replace(temp, item.dest)
        raise FailedError(f"{pair.name}/{node.name}: the backup set {backup.path} cannot be "
                          f"restored: {text}", hint="nothing was changed")
    return Candidate(node.name, staged, {})


def sweep(session: Session, pair: Pair, node: Node, run_id: str) -> list[str]:
    """Remove what dead runs staged on `node` (under the pair's lock, so no other run that
    stages for real is alive); a --check run takes no lock and is spared for an hour.
    Returns the paths removed, and says so."""
    conn = session.connection(node)
    directories = sorted({posixpath.dirname(spec.dest) for spec in pair.files})
    patterns = [C.leftover_patterns(d, ".*.carpctl-") for d in directories]
    found = conn.run(C.list_existing(*patterns, f"{STAGING}*")).stdout.split()
    dead = [path for path in found if _dead(path, run_id)]
    if dead:
        conn.run(C.remove_tree(*dead), check=True)
        session.report.note(f"{pair.name}/{node.name}: removed what runs that are no longer "
                            f"alive left behind: {', '.join(dead)}")
        session.step("sweep", "ok", node=node.name, removed=dead)
    return dead


def _dead(path: str, run_id: str) -> bool:
    match = _TOKEN.search(posixpath.basename(path))
    if match is None or match.group(1) == run_id:
        return False
    if not match.group(2):
        return True
    started = time.mktime(time.strptime(match.group(1)[:15], "%Y%m%d-%H%M%S"))
    return time.time() - started > CHECK_ALIVE


def discard(conn: NodeConnection, temps: list[str], staging: str | None,
            *first: C.Command) -> None:
    """Remove staged copies, after `first` (best effort: the caller is already reporting a
    failure)."""
    commands = [*first, *([C.remove(*temps)] if temps else [])]
    if staging:
        commands.append(C.remove_tree(staging))
    try:
        if commands:
            conn.batch(commands)
    except RemoteError:
        pass


def invalid(pair: Pair, node: Node, change: FileChange, temp: str, check: C.Command,
            result: Result) -> str:
    """The tool's complaints, each against the template line behind the rendered one."""
    problems = []
    for error in parse_pf_errors(result.stderr or result.stdout):
        if error.file == temp and error.line is not None:
            where = origin(pair, node, change.rendered, error.line)
            problems.append(f"{where.location}: {error.message} "
                            f"[rendered line {where.rendered_line}: {where.rendered_text.strip()}]")
        elif error.message:
            problems.append(error.message.replace(temp, change.dest))
    shown = "; ".join(problems[:5]) or f"exit {result.status}"
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    tool = str(check).replace(temp, change.dest)
    return f"{pair.name}/{node.name}: {change.dest} is invalid ({tool}): {shown}{more}"


def _check_placed(node: Node, changes: tuple[FileChange, ...], results: list[Result]) -> None:
    for change, result in zip(changes, results):
        if not result.ok:
            raise FailedError(f"{node.pair}/{node.name}: cannot place {change.dest}: "
                              f"{result.output.strip()[:300]}",
                              hint="nothing was installed on either node")
