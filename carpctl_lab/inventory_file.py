"""The inventory, templates and key paths a running lab writes for carpctl."""

from __future__ import annotations

import shutil
from importlib import resources
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from .lab import Lab


def pair_vars(spec) -> dict:
    """Template variables that describe the emulated pair as the image built it."""
    return {
        "ext_if": spec.carp[0].carpdev,
        "int_if": spec.carp[1].carpdev if len(spec.carp) > 1 else spec.carp[0].carpdev,
        "sync_if": spec.syncdev,
        "ext_addr": spec.carp[0].address,
        "webhosts": list(spec.webhosts),
    }


def write_inventory(lab: Lab) -> None:
    """D/inventory.yml (+ D/templates) ready for `carpctl -i D/inventory.yml ...`."""
    templates = lab.directory / "templates"
    source = resources.files("carpctl") / "examples" / "templates"
    templates.mkdir(exist_ok=True)
    for item in source.iterdir():
        if item.name.endswith(".j2"):
            with resources.as_file(item) as path:
                shutil.copyfile(path, templates / item.name)
    pairs = {}
    for name, pair in lab.pairs.items():
        pairs[name] = {
            "nodes": {node.name: {"host": "127.0.0.1", "port": lab.port(name, node.name)}
                      for node in pair.nodes},
            "failover": {"method": "advskew", "timeout": 30},
            "files": [
                {"template": "templates/pf.conf.j2", "dest": "/etc/pf.conf"},
                {"template": "templates/relayd.conf.j2", "dest": "/etc/relayd.conf"},
            ],
            "vars": pair_vars(pair.spec),
        }
    document = {
        "defaults": {
            "user": "root",
            "identity_file": str(lab.client_key),
            "known_hosts": str(lab.known_hosts),
        },
        "pairs": pairs,
    }
    header = ("# Written by `carpctl lab up`: the emulated pairs on 127.0.0.1.\n"
              "# Rewritten at every start (ports change); edit a copy instead.\n")
    lab.inventory.write_text(header + yaml.safe_dump(document, sort_keys=False))
