"""`carpctl inventory check|list|show`."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from typing import Any

from carpctl.cli.options import common
from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError

HELP = "check, list or show the inventory"


def add_arguments(p: ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("check", parents=[common()],
                       help="validate the inventory and render every file")
    actions.add_parser("list", parents=[common()], help="pairs, nodes and how each is reached")
    show = actions.add_parser("show", parents=[common()],
                              help="how one node is reached, and where each setting came from")
    show.add_argument("node", metavar="NODE", help="NODE, or PAIR/NODE")


def run(args: Namespace, out: Output) -> int:
    from carpctl.inventory import load_inventory

    inventory = load_inventory(args.inventory)
    if args.action == "show":
        return show(inventory, args.node, out)
    if args.action == "check":
        from carpctl.render.templates import render_files

        count = 0
        for pair in inventory.pairs.values():
            for node in pair.nodes:
                count += len(render_files(pair, node))
        if out.json_mode:
            out.json({"ok": True, "source": str(inventory.source), "pairs": len(inventory.pairs),
                      "files_rendered": count})
        else:
            out.line(f"{inventory.source}: {len(inventory.pairs)} pair(s) ok, "
                     f"{count} file(s) rendered")
        return EXIT_OK
    rows: list[dict[str, Any]] = []
    for pair in inventory.pairs.values():
        for node in pair.nodes:
            rows.append({"pair": pair.name, "node": node.name, "host": node.host,
                         "port": node.port, "user": node.user, "become": node.become,
                         "proxy_jump": node.proxy_jump, "failover": pair.failover.method,
                         "files": [f.dest for f in pair.files]})
    if out.json_mode:
        out.json(rows)
    else:
        out.table(["pair", "node", "host", "port", "user", "become", "via", "failover", "files"],
                  [[r["pair"], r["node"], r["host"], r["port"], r["user"], r["become"],
                    r["proxy_jump"] or "", r["failover"], " ".join(r["files"])] for r in rows])
    return EXIT_OK


def show(inventory, name: str, out: Output) -> int:
    """How carpctl will reach one node, each value with where it came from (like `ssh -G`)."""
    from carpctl.remote.auth import agent_keys
    from carpctl.remote.known_hosts import HostKeyFiles

    node = find_node(inventory, name)
    keys = HostKeyFiles.of(node.known_hosts, node.hash_known_hosts)
    agent = agent_keys()
    view = {
        "node": f"{node.pair}/{node.name}", "host": node.host, "ssh_alias": node.ssh_alias,
        "port": node.port, "user": node.user,
        "identity_files": [str(p) for p in node.identity_files],
        "agent_keys": agent,
        "jumps": [{"name": j.name, "host": j.host, "port": j.port, "user": j.user,
                   "identity_files": [str(p) for p in j.identity_files]} for j in node.jumps],
        "known_hosts": [str(p) for p in keys.files], "new_keys_go_to": str(keys.record_in),
        "hash_known_hosts": node.hash_known_hosts, "become": node.become,
        "connect_timeout": node.connect_timeout, "origins": dict(node.origins),
    }
    if out.json_mode:
        out.json(view)
        return EXIT_OK
    origin = node.origins.get
    jumps = " -> ".join(f"{j.name} = {j.user}@{j.host}:{j.port}"
                        + (f" (key files {' '.join(map(str, j.identity_files))})"
                           if j.identity_files else "") for j in node.jumps)
    rows = [
        ("host", node.host + (f" (ssh config alias {node.ssh_alias})" if node.ssh_alias else ""),
         origin("host")),
        ("port", node.port, origin("port")),
        ("user", node.user, origin("user")),
        ("key files", " ".join(view["identity_files"])
         or "none named: ~/.ssh/id_* if present", origin("identity_file")),
        ("agent", ", ".join(agent) if agent else "no ssh-agent keys", "$SSH_AUTH_SOCK"),
        ("jump chain", jumps or "none", origin("proxy_jump")),
        ("known_hosts", " ".join(view["known_hosts"]), origin("known_hosts")),
        ("new keys go to", f"{keys.record_in}" + (" (hashed)" if keys.hashed else ""),
         origin("hash_known_hosts")),
        ("become", node.become, origin("become")),
        ("connect timeout", f"{node.connect_timeout:g}s", origin("connect_timeout")),
    ]
    out.table(["setting", "value", "from"], rows, title=view["node"])
    return EXIT_OK


def find_node(inventory, name: str):
    """A node by PAIR/NODE, or by NODE alone when only one pair has a node of that name."""
    if "/" in name:
        pair, _, node = name.partition("/")
        return inventory.pair(pair).node(node)
    found = [n for pair in inventory.pairs.values() for n in pair.nodes if n.name == name]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no node named {name!r} in {inventory.source}")
    pairs = ", ".join(f"{n.pair}/{n.name}" for n in found)
    raise UsageError(f"node name {name!r} is in several pairs ({pairs}): name it as PAIR/NODE")
