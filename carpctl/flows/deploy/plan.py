"""What a deploy will do, decided before anything is uploaded (pure: no I/O).

Per node and file: changed or not (sha256 of the rendered text against the live
file's); which files `--only` keeps; in which order the nodes are updated
(the BACKUP first, so the node carrying the traffic changes last, after its
peer proved the new files work); and the diffs to show, from redacted texts.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

from carpctl.core.carp import pair_master, vhid_table
from carpctl.errors import RefusedError, UsageError
from carpctl.facts.state import NodeState
from carpctl.inventory import FileSpec, Pair
from carpctl.render.templates import RenderedFile, shown_path


@dataclass(frozen=True)
class FileChange:
    """One rendered file on one node and the live file it would replace."""

    rendered: RenderedFile
    live_hash: str | None      # None: the file does not exist on the node

    @property
    def dest(self) -> str:
        return self.rendered.dest

    @property
    def new_hash(self) -> str:
        return sha256_text(self.rendered.text)

    @property
    def changed(self) -> bool:
        return self.live_hash != self.new_hash


@dataclass(frozen=True)
class NodePlan:
    node: str
    files: tuple[FileChange, ...]

    @property
    def changed(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.changed)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def select_files(pair: Pair, only: tuple[str, ...]) -> tuple[FileSpec, ...]:
    """The pair's files, or those `--only` names: a kind (pf, relayd), a dest or a template."""
    if not only:
        return pair.files
    unknown = [name for name in only if not any(name in _names(s) for s in pair.files)]
    if unknown:
        known = sorted({spec.kind for spec in pair.files} | {spec.dest for spec in pair.files})
        raise UsageError(f"{pair.name}: --only {unknown[0]} matches none of its files "
                         f"(choose from: {', '.join(known)})")
    return tuple(spec for spec in pair.files if _names(spec) & set(only))


def _names(spec: FileSpec) -> set[str]:
    """What --only may call a file."""
    return {spec.kind, spec.dest, spec.template.name, str(spec.template),
            shown_path(spec.template)}


def plan_node(node: str, rendered: list[RenderedFile], state: NodeState) -> NodePlan:
    """Compare each rendered file with the live one (the state read its sha256)."""
    changes = []
    for file in rendered:
        if file.dest not in state.files:
            raise RefusedError(f"{node}: cannot read {file.dest} to compare it "
                               f"({'; '.join(state.problems) or 'no sha256'})",
                               hint="check that the user may run `sha256` (doas rule?)")
        changes.append(FileChange(file, state.files[file.dest]))
    return NodePlan(node, tuple(changes))


def rollout_order(pair: Pair, states: list[NodeState], *, strict: bool = True) -> list[str]:
    """BACKUP first, MASTER last. Without a single MASTER: refused, or (not strict, for
    --check) the inventory's order."""
    master = pair_master(vhid_table(states))
    if master is None:
        if strict:
            seen = ", ".join(f"vhid {vhid}: {' '.join(f'{n} {s}' for n, s in nodes.items())}"
                             for vhid, nodes in vhid_table(states).items()) or "no carp vhids"
            raise RefusedError(f"{pair.name}: no single node is MASTER on every vhid ({seen}), "
                               f"so there is no BACKUP to update first",
                               hint=f"check `carpctl status {pair.name}` and fix CARP first")
        return [n.name for n in pair.nodes]
    return [pair.peer_of(master).name, master]


def unified_diff(node: str, change: FileChange, live_text: str | None) -> str:
    """The change as a unified diff of redacted texts (live first); '' when identical."""
    before = (live_text or "").splitlines(keepends=True)
    after = change.rendered.redacted.splitlines(keepends=True)
    label = f"{node}:{change.dest}"
    return "".join(difflib.unified_diff(
        before, after, fromfile=f"{label} (live)" if live_text is not None else "/dev/null",
        tofile=f"{label} (from {shown_path(change.rendered.spec.template)})"))
