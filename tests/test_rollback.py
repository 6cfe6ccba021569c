"""`carpctl rollback`: the files a deploy replaced come back, from the sets kept on the nodes."""

from __future__ import annotations

import yaml
from deploy_support import cli, file_hashes, leftovers, loaded


def deploy(lab, capsys) -> str:
    code, report, _ = cli(lab, capsys, "deploy", "pair1", "--yes", "--confirm-timeout", "3")
    assert code == 0, report
    (run,) = {n["backup"].rsplit("/", 1)[1] for n in report["pairs"][0]["nodes"].values()}
    return run


def test_rollback_puts_back_what_the_last_deploy_replaced_on_both_nodes(lab, capsys):
    original, rules = file_hashes(lab), loaded(lab)
    run = deploy(lab, capsys)
    assert file_hashes(lab) != original

    code, report, _ = cli(lab, capsys, "rollback", "pair1", "--yes")

    assert code == 0 and report["run"] == run
    assert {n: r["state"] for n, r in report["nodes"].items()} == {"fw1": "rolled-back",
                                                                  "fw2": "rolled-back"}
    assert file_hashes(lab) == original and loaded(lab) == rules
    assert leftovers(lab) == []


def test_a_rollback_is_itself_backed_up_and_can_be_undone_with_to(lab, capsys):
    deploy(lab, capsys)
    deployed = file_hashes(lab)
    _, report, _ = cli(lab, capsys, "rollback", "pair1", "--yes")
    rollback_run = report["nodes"]["fw1"]["backup"].rsplit("/", 1)[1]

    code, again, _ = cli(lab, capsys, "rollback", "pair1", "--yes", "--to", rollback_run[-4:])

    assert code == 0 and again["run"] == rollback_run
    assert file_hashes(lab) == deployed


def test_rollback_of_one_node_leaves_the_other_alone(lab, capsys):
    original = file_hashes(lab)
    run = deploy(lab, capsys)
    deployed = file_hashes(lab)

    code, report, _ = cli(lab, capsys, "rollback", "pair1", "--node", "fw2", "--to", run, "--yes")

    assert code == 0 and list(report["nodes"]) == ["fw2"]
    assert file_hashes(lab) == {"fw1": deployed["fw1"], "fw2": original["fw2"]}


def test_a_second_rollback_finds_nothing_to_do(lab, capsys):
    deploy(lab, capsys)
    cli(lab, capsys, "rollback", "pair1", "--yes")
    code, report, _ = cli(lab, capsys, "rollback", "pair1", "--yes")

    assert code == 0
    assert {n["state"] for n in report["nodes"].values()} == {"unchanged"}


def test_rollback_without_any_deploy_or_with_an_unknown_run_is_a_usage_error(lab, capsys):
    code, _, err = cli(lab, capsys, "rollback", "pair1", "--yes")
    assert code == 2 and "nothing to roll back" in err
    deploy(lab, capsys)
    code, _, err = cli(lab, capsys, "rollback", "pair1", "--yes", "--to", "no-such-run")
    assert code == 2 and "--to no-such-run matches none" in err


def test_rollback_removes_a_file_the_deploy_created(lab, capsys):
    template = lab.directory / "templates" / "banner.j2"
    template.write_text("managed by carpctl on {{ node }}\n")
    document = yaml.safe_load(lab.inventory.read_text())
    document["pairs"]["pair1"]["files"].append(
        {"template": "templates/banner.j2", "dest": "/etc/carpctl-banner",
         "validate": "test -s {file}", "apply": "true"})
    lab.inventory.write_text(yaml.safe_dump(document))
    deploy(lab, capsys)
    assert lab.node("pair1", "fw1").fs.read_text("/etc/carpctl-banner") == \
        "managed by carpctl on fw1\n"

    code, _, _ = cli(lab, capsys, "rollback", "pair1", "--yes")

    assert code == 0
    assert not lab.node("pair1", "fw1").fs.exists("/etc/carpctl-banner")
    assert not lab.node("pair1", "fw2").fs.exists("/etc/carpctl-banner")
