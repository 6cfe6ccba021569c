"""Variants of a running lab's inventory, and polling with a deadline, for the status tests.

A fresh lab's files differ from the example templates, so its own inventory
reports `drift`; the variants here leave `files:` out unless asked, which is
what a "healthy" pair means before a deploy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def lab_inventory(lab, name: str = "inventory.yml", *, files: bool = False,
                  **defaults: Any) -> Path:
    """Write a copy of the lab's inventory with `defaults` overriding (None removes a key)."""
    document = yaml.safe_load(lab.inventory.read_text())
    if not files:
        for pair in document["pairs"].values():
            pair.pop("files", None)
    for key, value in defaults.items():
        if value is None:
            document["defaults"].pop(key, None)
        else:
            document["defaults"][key] = value
    path = lab.directory / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def load(lab, **options: Any):
    from carpctl.inventory import load_inventory

    return load_inventory(lab_inventory(lab, **options))


def poll(predicate: Callable[[], Any], *, timeout: float = 10.0, every: float = 0.05) -> Any:
    """The first truthy value of predicate(), or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {predicate}")
        time.sleep(every)


def generate_key(path: Path, kind: str = "ssh-ed25519") -> Path:
    """A private key file nobody trusts (asyncssh can make ed25519 keys; paramiko cannot)."""
    import asyncssh

    key = asyncssh.generate_private_key(kind)
    key.write_private_key(str(path))
    path.chmod(0o600)
    return path


def public_line(path: Path) -> str:
    """`TYPE BASE64` of a private key file's public half."""
    import asyncssh

    return " ".join(asyncssh.read_private_key(str(path)).export_public_key()
                    .decode().split()[:2])
