"""Files beyond pf.conf and relayd.conf: their own apply command, and secrets never shown."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from deploy_support import cli, commands_run

SECRET = "lab-secret"   # the carp pass the lab's image uses


def add_hostname_carp0(lab, monkeypatch) -> None:
    """The example hostname.carp template for carp0, its `pass` from the environment."""
    monkeypatch.setenv("LAB_CARP_PASS", SECRET)
    document = yaml.safe_load(lab.inventory.read_text())
    pair = document["pairs"]["pair1"]
    pair["files"].append({"template": "templates/hostname.carp.j2", "dest": "/etc/hostname.carp0",
                          "mode": 0o640, "apply": "sh /etc/netstart carp0"})
    pair["vars"].update(carp_vhid=1, ext_prefixlen=24, carp_pass={"env": "LAB_CARP_PASS"})
    for name, skew in (("fw1", 0), ("fw2", 100)):
        pair["nodes"][name]["vars"] = {"advskew": skew}
    lab.inventory.write_text(yaml.safe_dump(document))


def test_check_diffs_of_a_file_holding_a_secret_show_it_masked(lab, capsys, monkeypatch):
    add_hostname_carp0(lab, monkeypatch)
    code, report, err = cli(lab, capsys, "deploy", "pair1", "--check")

    assert code == 0
    diffs = "".join(report["pairs"][0]["diffs"])
    assert "+++ fw1:/etc/hostname.carp0" in diffs
    assert "pass ********" in diffs and "-inet 192.168.1.123" in diffs
    assert SECRET not in repr(report) + err


def test_an_other_file_is_installed_with_its_mode_and_applied_with_its_own_command(
        lab, capsys, monkeypatch):
    add_hostname_carp0(lab, monkeypatch)
    code, report, err = cli(lab, capsys, "deploy", "pair1", "--yes", "--confirm-timeout", "3")

    assert code == 0, report
    fs = lab.node("pair1", "fw1").fs
    assert f"advskew 0 pass {SECRET}" in fs.read_text("/etc/hostname.carp0")
    assert oct(fs.stat("/etc/hostname.carp0").mode) == "0o640"
    assert commands_run(lab, "fw2", r"^sh /etc/netstart carp0$")
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}, "re-applied carp0 kept the roles"
    assert SECRET not in repr(report) + err
    journal = list(Path(os.environ["CARPCTL_STATE_DIR"]).glob("history.sqlite*"))
    assert journal and not any(SECRET.encode() in f.read_bytes() for f in journal)


def test_an_unprivileged_user_with_doas_deploys_root_owned_files(lab, capsys):
    document = yaml.safe_load(lab.inventory.read_text())
    document["defaults"].update(user="admin", become="doas")
    lab.inventory.write_text(yaml.safe_dump(document))
    code, _, err = cli(lab, capsys, "deploy", "pair1", "--yes", "--confirm-timeout", "3")

    assert code == 0, err
    fs = lab.node("pair1", "fw2").fs
    st = fs.stat("/etc/pf.conf")
    assert (oct(st.mode), st.owner, st.group) == ("0o600", "root", "wheel")
    assert commands_run(lab, "fw2", r"^doas -n install -m 600 -o root -g wheel /tmp/carpctl-")
    assert all(e.user == "admin" for e in lab.log("pair1", "fw2"))
    assert not [n for n in fs.listdir("/tmp") if n.startswith("carpctl-")]
