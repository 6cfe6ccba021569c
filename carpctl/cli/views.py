"""Turning flow results into the shapes users see: table rows and JSON documents."""

from __future__ import annotations

from typing import Any

from carpctl.facts.state import NodeState


def relayd_cell(state: NodeState) -> str:
    relayd = state.relayd
    if relayd is None:
        return "?"
    if not relayd.running:
        return "stopped" if state.relayd_enabled else "off"
    hosts = relayd.hosts()
    up = sum(1 for h in hosts if h.status == "up")
    return f"{up}/{len(hosts)} up"


def pf_cell(state: NodeState) -> str:
    if state.pf is None:
        return "?"
    return f"on {state.pf.states}" if state.pf.enabled else "OFF"


def pfsync_cell(state: NodeState) -> str:
    sync = state.pfsync
    if sync is None:
        return "?"
    if not sync.present:
        return "none"
    return (sync.syncdev or "-") if sync.up else f"DOWN {sync.syncdev or '-'}"


def _flag(value: bool | None) -> str:
    return {True: "1", False: "0", None: "?"}[value]


def _skew(advbase: int | None, advskew: int | None) -> str:
    """advskew; advbase too when it is not the usual 1 (it decides who preempts whom)."""
    skew = "?" if advskew is None else str(advskew)
    return skew if advbase in (1, None) else f"{skew} base {advbase}"


def node_rows(state: NodeState) -> list[list[str]]:
    """One row per carp interface, so that the table fits 80 columns; the node's own cells
    (demote, pf, relayd...) on its first row only."""
    if not state.reachable:
        return [[state.node, "-", "-", "NO SSH", "-", "-", "-", "-", "-", "-", ""]]
    node = ["?" if state.demote is None else str(state.demote), _flag(state.preempt),
            pfsync_cell(state), pf_cell(state), relayd_cell(state),
            "yes" if state.maintenance else ("parked" if state.parked else "")]
    carp = [[c.name, str(c.vhid), c.state, _skew(c.advbase, c.advskew)]
            for c in state.carp if c.vhid is not None] or [["-", "-", "-", "-"]]
    return [[state.node if i == 0 else "", *cells, *(node if i == 0 else [""] * len(node))]
            for i, cells in enumerate(carp)]


STATUS_COLUMNS = ["node", "carp", "vhid", "state", "skew", "demote", "preempt", "pfsync", "pf",
                  "relayd", "maint"]


def node_json(state: NodeState) -> dict[str, Any]:
    doc: dict[str, Any] = {"node": state.node, "reachable": state.reachable}
    if not state.reachable:
        doc.update(error=state.error, reason=state.reason)
        return doc
    relayd = state.relayd
    hosts = relayd.hosts() if relayd else ()
    doc.update(
        carp=[{"name": c.name, "state": c.state, "vhid": c.vhid, "advbase": c.advbase,
               "advskew": c.advskew, "carpdev": c.carpdev} for c in state.carp],
        demote=state.demote,
        preempt=state.preempt,
        pfsync=None if state.pfsync is None else {
            "present": state.pfsync.present, "up": state.pfsync.up,
            "syncdev": state.pfsync.syncdev},
        pf=None if state.pf is None else {"enabled": state.pf.enabled, "states": state.pf.states},
        relayd={"enabled": state.relayd_enabled, "running": bool(relayd and relayd.running),
                "hosts_up": sum(1 for h in hosts if h.status == "up"), "hosts_total": len(hosts)},
        maintenance=state.maintenance,
        parked=state.parked.line() if state.parked else None,
        release=state.release,
        kern_version=state.kern_version.line if state.kern_version else None,
        files=state.files,
        problems=list(state.problems),
    )
    return doc


def pair_status_json(status) -> dict[str, Any]:
    verdict = status.verdict
    return {
        "pair": status.pair,
        "verdict": verdict.verdict,
        "healthy": verdict.healthy,
        "master": verdict.master,
        "vhids": {str(v): nodes for v, nodes in verdict.vhids.items()},
        "findings": [{"code": f.code, "message": f.message, "node": f.node}
                     for f in verdict.findings],
        "warnings": [{"code": f.code, "message": f.message, "node": f.node}
                     for f in verdict.warnings],
        "nodes": [node_json(s) for s in status.nodes],
    }


def status_json(results) -> dict[str, Any]:
    """The document `carpctl status --json` prints (shape documented in docs/status.md)."""
    return {"healthy": all(r.verdict.healthy for r in results),
            "pairs": [pair_status_json(r) for r in results]}
