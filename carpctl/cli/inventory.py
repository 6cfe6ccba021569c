"""`carpctl inventory check|list`."""

from __future__ import annotations

from argparse import Namespace

from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK


def run(args: Namespace, out: Output) -> int:
    from carpctl.inventory import load_inventory

    inventory = load_inventory(args.inventory)
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
    rows = []
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
