"""Fixtures shared by every test: an isolated home, a session on the lab.

`lab` and `lab_factory` come from carpctl_lab's pytest plugin (the `lab` extra)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    """No test reads or writes the developer's ~/.ssh, history or inventory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CARPCTL_STATE_DIR", str(home / "state"))
    monkeypatch.delenv("CARPCTL_INVENTORY", raising=False)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


@pytest.fixture
def inventory(lab):
    from carpctl.inventory import load_inventory

    return load_inventory(lab.inventory)


@pytest.fixture
def session(inventory):
    """A carpctl Session on the lab, journaling into the test's own history."""
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session

    with Session(inventory, history=History()) as running:
        yield running
