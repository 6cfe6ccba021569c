"""relayd's backend hosts by name, as monitoring reports them.

relayd lists a host once per table it belongs to (each with its own ID), but
an operator knows a backend by its address: a host counts as up only when
every table that holds it sees it up.
"""

from __future__ import annotations

from carpctl.facts import RelaydSummary


def hosts_by_name(relayd: RelaydSummary) -> dict[str, bool]:
    up: dict[str, bool] = {}
    for host in relayd.hosts():
        up[host.name] = up.get(host.name, True) and host.status == "up"
    return up
