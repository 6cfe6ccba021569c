"""pytest fixtures for tests of an inventory or a tool against emulated pairs.

Registered through the `pytest11` entry point, so a user's own tests get them
without a conftest:

    def test_my_failover(lab):                      # one pair, fw1 MASTER, fw2 BACKUP
        ...carpctl -i {lab.inventory} failover --to peer...

    def test_preempt_off(lab_factory):
        lab = lab_factory([PairSpec(preempt=(True, False))])

Each lab lives in the test's tmp_path and is stopped when the test ends.

The entry point is installed with every carpctl, the lab's SSH server (asyncssh)
only with the `lab` extra. So this module imports nothing of the lab at load
time: a plain `pip install carpctl` must never break its user's own pytest. A test
that asks for a fixture without the extra fails with the line that installs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from carpctl_lab.image import PairSpec
    from carpctl_lab.lab import Lab

LabFactory = Callable[..., "Lab"]


def _lab_class() -> type[Lab]:
    try:
        from carpctl_lab.lab import Lab
    except ImportError as missing:   # asyncssh, the lab extra
        pytest.fail(f"the carpctl lab fixtures need the lab extra ({missing}): "
                    f"pip install 'carpctl[lab]'", pytrace=False)
    return Lab


@pytest.fixture
def lab_factory(tmp_path: Path) -> Iterator[LabFactory]:
    """Start labs on demand: `lab_factory(pairs=1 | [PairSpec...], timing=...)`."""
    lab_class = _lab_class()
    started: list[Lab] = []

    def start(pairs: int | Iterable[PairSpec] = 1, **options) -> Lab:
        lab = lab_class(tmp_path / f"lab{len(started) or ''}", pairs, **options).start()
        started.append(lab)
        return lab

    yield start
    for lab in reversed(started):
        lab.stop()


@pytest.fixture
def lab(lab_factory: LabFactory) -> Lab:
    """One emulated pair (fw1 primary at advskew 0, fw2 at 100, preempt on), over real SSH."""
    return lab_factory()
