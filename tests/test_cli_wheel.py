"""A pip-installed carpctl, outside the source tree: its playbooks, its guide, its licence,
and a user's own pytest that keeps working without the lab extra.

The wheel is built from this checkout and installed with pytest, and nothing else, into a
fresh virtualenv in tmp by pip itself (dependencies resolved from the package index, as a
user's `pip install carpctl pytest` does; the test venv's site-packages are never seen
there). So asyncssh, the `lab` extra, is missing there, as it is for most users.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

ONE_LINE_TEST = "def test_mine():\n    assert 1 + 1 == 2\n"
LAB_TEST = "def test_mine(lab):\n    pass\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a fresh virtualenv holding the wheel and pytest, nothing more."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(ROOT)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    (wheel,) = (work / "dist").glob("carpctl-*.whl")
    python = work / "venv" / "bin" / "python"
    made = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), "pytest"],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return work / "venv" / "bin"


def test_the_wheel_installs_without_the_lab_extra(installed):
    found = subprocess.run([str(installed / "python"), "-c", "import asyncssh"],
                           capture_output=True, text=True)
    assert found.returncode != 0 and "asyncssh" in found.stderr


def test_a_users_own_pytest_runs_beside_carpctl_without_the_lab_extra(installed, tmp_path):
    (tmp_path / "test_mine.py").write_text(ONE_LINE_TEST)
    shown = subprocess.run([str(installed / "pytest"), "-q", "-p", "no:cacheprovider"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "1 passed" in shown.stdout and "Error while loading" not in shown.stderr


def test_the_lab_fixture_without_the_extra_says_how_to_install_it(installed, tmp_path):
    (tmp_path / "test_mine.py").write_text(LAB_TEST)
    shown = subprocess.run([str(installed / "pytest"), "-q", "-p", "no:cacheprovider"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 1
    assert "pip install 'carpctl[lab]'" in shown.stdout
    assert "Traceback" not in shown.stdout


def test_an_installed_wheel_finds_its_playbooks_by_name_prints_its_guide_and_carries_its_licence(
        installed, lab, tmp_path):
    def carpctl(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(installed / "carpctl"), *argv], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    where = subprocess.run([str(installed / "python"), "-c", "import carpctl; print(carpctl.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where                                   # not the checkout

    listed = carpctl("run", "--list")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == \
        ["deploy-handoff", "reboot", "syspatch", "upgrade"]

    planned = carpctl("-i", str(lab.inventory), "run", "syspatch", "pair1", "--check")
    assert planned.returncode == 0, planned.stderr
    assert "6. fw1: syspatch" in planned.stdout and "nothing was changed" in planned.stdout
    by_path = carpctl("-i", str(lab.inventory), "run", str(ROOT / "playbooks" / "reboot.yml"),
                      "--check")
    assert by_path.returncode == 0 and "fw2: reboot" in by_path.stdout, by_path.stderr
    unknown = carpctl("-i", str(lab.inventory), "run", "sysptach", "--check")
    assert unknown.returncode == 2 and "carpctl run --list" in unknown.stderr

    page = carpctl("docs", "failover")
    assert page.returncode == 0 and page.stdout.startswith("# carpctl failover")
    assert "playbooks" in carpctl("docs").stdout
    assert "carpctl docs TOPIC" in carpctl("--help").stdout

    (wheel,) = (installed.parent.parent / "dist").glob("carpctl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    licence = next(n for n in names if n.endswith("/LICENSE"))
    text = zipfile.ZipFile(wheel).read(licence).decode()
    assert "ISC License" in text and "the carpctl authors" in text
