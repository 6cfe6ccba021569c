"""The command line's promises: fast --help, exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lab_inventories import lab_inventory

from carpctl.cli import main

EXAMPLE = Path(__file__).parents[1] / "inventory" / "example.yml"
HEAVY = ("fabric", "paramiko", "invoke", "rich", "jinja2", "asyncssh", "cryptography")


def errors(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_help_imports_no_heavy_library():
    shown = subprocess.run([sys.executable, "-X", "importtime", "-m", "carpctl", "--help"],
                           capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in shown.stderr.splitlines() if line.startswith("import time:")}
    assert "carpctl" in imported and "argparse" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
    assert "status" in shown.stdout and "exit codes:" in shown.stdout


@pytest.mark.parametrize("argv", [["lab", "status"], ["demo"]])
def test_the_lab_commands_without_the_lab_extra_say_how_to_install_it(argv):
    blocked = ("import sys; sys.modules['asyncssh'] = None; from carpctl.cli import main; "
               f"sys.exit(main({argv!r}))")
    shown = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert shown.returncode == 2
    assert shown.stderr.splitlines() == [
        "carpctl: error: the lab is not installed: it comes with the `lab` extra "
        "(pip install 'carpctl[lab]')"]


def test_an_inventory_mistake_exits_2_with_one_line_naming_the_file_and_path(capsys, tmp_path):
    document = yaml.safe_load(EXAMPLE.read_text())
    document["pairs"]["pair1"]["nodes"]["fw2"]["port"] = 70000
    document["pairs"]["pair1"].pop("files")
    inventory = tmp_path / "site.yml"
    inventory.write_text(yaml.safe_dump(document))
    assert main(["status", "-i", str(inventory)]) == 2
    (line,) = errors(capsys)
    assert line.startswith(f"carpctl: error: {inventory}: pairs.pair1.nodes.fw2.port: 70000 ")


def test_a_missing_inventory_exits_2_and_says_where_it_looked(capsys, tmp_path):
    assert main(["status", "-i", str(tmp_path / "nowhere")]) == 2
    (line,) = errors(capsys)
    nowhere = tmp_path / "nowhere"
    assert line == f"carpctl: error: inventory {nowhere} does not exist (given with -i)"


@pytest.mark.parametrize("where, value", [
    (("nodes", "fw1", "host"), "127.0.0.1;reboot"),
    (("files", 0, "dest"), "/etc/pf.conf$(reboot)"),
])
def test_a_value_with_shell_syntax_is_rejected_before_any_connection(capsys, lab, where, value):
    document = yaml.safe_load(lab_inventory(lab, files=True).read_text())
    target = document["pairs"]["pair1"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    lab.inventory.write_text(yaml.safe_dump(document))
    assert main(["status", "-i", str(lab.inventory)]) == 2
    (line,) = errors(capsys)
    assert ".".join(map(str, where)).replace(".0.", "[0].") in line
    assert lab.log("pair1", "fw1") == [] and lab.log("pair1", "fw2") == []


@pytest.mark.parametrize("argv", [["status", "--parallel", "0"], ["status", "--watch", "-1"],
                                  ["status", "--no-such-option"], ["frobnicate"]])
def test_bad_usage_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert errors(capsys)[-1].startswith("carpctl")


def test_a_bug_is_reported_in_one_line_without_a_traceback(capsys, mocker, lab):
    mocker.patch("carpctl.flows.status.status", side_effect=RuntimeError("boom"))
    assert main(["status", "-i", str(lab.inventory)]) == 1
    (line,) = errors(capsys)
    assert "internal error (RuntimeError: boom)" in line and "CARPCTL_DEBUG=1" in line
