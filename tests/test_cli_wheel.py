"""A pip-installed carpctl, outside the source tree, has its playbooks, its guide and its licence.

One test (building a wheel takes seconds): the wheel is built from this checkout,
installed into a fresh virtualenv in tmp (its dependencies are borrowed from the
test's own environment, nothing is downloaded), and run from a directory with no
checkout in it, against the lab.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a fresh virtualenv holding only the wheel."""
    work = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(work / "venv")],
                   check=True)
    python = work / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    Path(site.stdout.strip(), "borrowed-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")   # a path line: its editable .pth is not run
    (wheel,) = (work / "dist").glob("carpctl-*.whl")
    subprocess.run([*pip, "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    return work / "venv" / "bin"


@pytest.mark.slow
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
        ["deploy-handoff", "reboot", "syspatch"]

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
