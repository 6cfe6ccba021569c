"""`carpctl lab up --advskew/--preempt/--advbase`: the pair's shape from the command line."""

from __future__ import annotations

import pytest

from carpctl_lab.cli import shape_options
from carpctl_lab.lab import Lab, default_specs


def test_shape_options_become_pair_spec_fields():
    assert shape_options("10,10", "on,off", 2) == {
        "advskew": (10, 10), "preempt": (True, False), "advbase": 2}
    assert shape_options(None, None, None) == {}


@pytest.mark.parametrize("args", [("255,0", None, None), ("1", None, None),
                                  (None, "on", None), (None, None, 0)])
def test_shape_options_out_of_range_are_refused(args):
    with pytest.raises(ValueError):
        shape_options(*args)


def test_a_lab_built_with_a_shape_boots_with_it(tmp_path):
    with Lab(tmp_path / "lab", default_specs(1, advskew=(10, 10), preempt=(True, False))) as lab:
        nodes = lab.truth("pair1")["nodes"]
        assert nodes["fw2"]["preempt"] is False
        assert {c["advskew"] for n in nodes.values() for c in n["carp"].values()} == {10}
