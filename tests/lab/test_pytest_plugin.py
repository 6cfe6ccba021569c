"""A user's own tests get the lab through the installed pytest plugin, with no conftest."""

from __future__ import annotations

import subprocess
import sys

USER_TESTS = '''
from carpctl_lab.image import PairSpec

def test_one_pair(lab):
    assert lab.inventory.exists()
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}

def test_a_pair_of_my_shape(lab_factory):
    lab = lab_factory([PairSpec(name="edge", advskew=(100, 0))])
    assert lab.truth("edge")["nodes"]["fw2"]["carp"]["carp0"]["advskew"] == 0
'''


def test_the_lab_fixtures_reach_a_users_own_tests(tmp_path):
    (tmp_path / "test_mine.py").write_text(USER_TESTS)
    shown = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "test_mine.py"], cwd=tmp_path, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "2 passed" in shown.stdout
