"""`deploy PAIR... --parallel N`: pairs at once, one pair's failure does not stop the others."""

from __future__ import annotations

import pytest
import yaml
from deploy_support import cli

from carpctl_lab.lab import Lab


@pytest.fixture
def ten(tmp_path):
    """Ten lab pairs; pair5's inventory gives pfctl an address it rejects."""
    with Lab(tmp_path / "lab", pairs=10) as lab:
        document = yaml.safe_load(lab.inventory.read_text())
        document["pairs"]["pair5"]["vars"]["ext_addr"] = "192.168.1.999"
        lab.inventory.write_text(yaml.safe_dump(document))
        yield lab


def test_ten_pairs_deploy_in_parallel_and_one_broken_pair_fails_alone(ten, capsys):
    names = [f"pair{i}" for i in range(1, 11)]
    code, report, err = cli(ten, capsys, "deploy", *names, "--parallel", "10", "--yes",
                            "--confirm-timeout", "3")

    assert code == 1 and report is not None, err
    results = {p["pair"]: p for p in report["pairs"]}
    assert results["pair5"]["exit_code"] == 1
    template = (ten.directory / "templates" / "pf.conf.j2").read_text().splitlines()
    line = template.index("pass in proto tcp to $ext_addr port http") + 1
    assert f"pf.conf.j2:{line}: could not parse host specification" in \
        results["pair5"]["summary"]
    assert all(results[n]["exit_code"] == 0 for n in names if n != "pair5")
    assert all(set(ten.node(n, "fw1").fs.read_text("/etc/pf.conf").splitlines()) >=
               {'ext_addr = "192.168.1.123"\t# the CARP address relayd listens on'}
               for n in names if n != "pair5")
    assert "ext_addr" not in ten.node("pair5", "fw1").fs.read_text("/etc/pf.conf")


def test_fail_fast_skips_the_pairs_not_started_yet(ten, capsys):
    code, report, _ = cli(ten, capsys, "deploy", "pair5", "pair1", "pair2", "--fail-fast",
                          "--yes", "--confirm-timeout", "3")

    assert code == 1
    results = {p["pair"]: p for p in report["pairs"]}
    assert results["pair5"]["exit_code"] == 1
    assert results["pair1"]["exit_code"] == 3 and "skipped" in results["pair1"]["summary"]
    assert "ext_addr" not in ten.node("pair1", "fw1").fs.read_text("/etc/pf.conf")
