"""`carpctl history`: every run journaled with its exit code and the commands it ran,
secrets masked."""

from __future__ import annotations

import json

import yaml
from lab_inventories import lab_inventory

from carpctl.cli import main


def history_json(capsys, *args: str):
    assert main(["history", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_history_lists_each_run_with_its_exit_code_even_a_failed_one(capsys, lab):
    inventory = str(lab_inventory(lab))
    assert main(["status", "-i", inventory]) == 0
    assert main(["status", "-i", inventory, "nosuch"]) == 2
    capsys.readouterr()
    newest, oldest = history_json(capsys)
    assert (oldest["command"], oldest["exit_code"], oldest["summary"]) == \
        ("status", 0, "pair1 healthy")
    assert (newest["command"], newest["exit_code"]) == ("status nosuch", 2)
    assert "no pair named 'nosuch'" in newest["summary"]


def test_history_of_one_run_shows_the_commands_each_node_ran(capsys, lab):
    assert main(["status", "-i", str(lab_inventory(lab))]) == 0
    capsys.readouterr()
    (run,) = history_json(capsys)
    assert main(["history", run["id"]]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"run {run['id']}: status\n")
    rows = [line.split(maxsplit=4) for line in shown.splitlines() if line[:1].isdigit()]
    for node in ("fw1", "fw2"):  # columns: seq, node, exit, ms, command
        assert [node, "0", "ifconfig carp </dev/null"] in [[r[1], r[2], r[4]] for r in rows]
    commands = history_json(capsys, run["id"][-4:])["commands"]  # a run id's tail is enough
    assert [c["command"] for c in commands if c["node"] == "fw1"][:2] == \
        ["ifconfig carp </dev/null", "ifconfig -g carp </dev/null"]


def test_history_of_an_unknown_run_exits_2(capsys):
    assert main(["history", "20000101-000000-dead"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("carpctl: error: no run '20000101-000000-dead' in ")


def test_secrets_are_masked_in_the_journal(lab, monkeypatch):
    from carpctl.inventory import load_inventory
    from carpctl.remote.commands import cmd
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session

    secret = "hunter2-carp-pass"
    monkeypatch.setenv("CARP_PASS", secret)
    document = yaml.safe_load(lab_inventory(lab).read_text())
    document["pairs"]["pair1"]["vars"]["carp_pass"] = {"env": "CARP_PASS"}
    lab.inventory.write_text(yaml.safe_dump(document))
    inventory = load_inventory(lab.inventory)
    history = History()
    with Session(inventory, history=history) as session:
        session.begin(f"demo {secret}", ["pair1"])
        session.connection(inventory.pair("pair1").nodes[0]).run(cmd("echo", secret))
        session.finish(0, f"said {secret}")
    (row,) = history.commands(session.run.id)
    assert (row["command"], row["output"]) == ("echo ******** </dev/null", "********\n")
    assert history.run(session.run.id).summary == "said ********"
    stored = b"".join(p.read_bytes() for p in history.path.parent.iterdir())
    assert secret.encode() not in stored


def test_the_run_list_shows_where_a_deploy_left_its_backup_sets(capsys, lab):
    assert main(["-i", str(lab.inventory), "deploy", "pair1", "--yes"]) == 0
    capsys.readouterr()
    assert main(["history"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "deploy pair1" in line)
    assert "pair1: fw1 fw2" in row


def test_a_command_cut_by_a_dropped_connection_is_journaled_as_unknown(capsys, lab):
    from carpctl.inventory import load_inventory
    from carpctl.remote import commands as C
    from carpctl.remote.connection import ConnectionLost
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session

    lab.drop("pair1", "fw1", r"^touch /tmp/x", count=1)
    history = History()
    with Session(load_inventory(lab.inventory), history=history) as session:
        session.begin("test", ["pair1"])
        conn = session.connection(session.inventory.pair().node("fw1"))
        try:
            conn.run(C.cmd("touch", "/tmp/x"))
        except ConnectionLost:
            pass
        run_id = session.run.id
    (cut,) = [c for c in history.commands(run_id) if "touch" in c["command"]]
    assert cut["status"] == -1 and "outcome unknown" in cut["output"]


# -- what a run records, how compactly, for how long (issue 11 §5) ----------------------------
def test_a_run_records_every_option_the_inventory_and_the_pair_it_implied(capsys, lab):
    inventory = str(lab.inventory)
    assert main(["deploy", "pair1", "--check", "--diff", "--confirm-timeout", "7",
                 "--break-lock", "-i", inventory]) == 0
    assert main(["status", "-i", inventory]) == 1, "drift: the files were not deployed"
    capsys.readouterr()
    status, deploy = history_json(capsys)
    assert status["pairs"] == ["pair1"], "the one pair of the inventory, though not named"
    assert deploy["inventory"] == status["inventory"] == inventory
    options = deploy["options"]
    assert (options["pairs"], options["check"], options["diff"], options["confirm_timeout"],
            options["break_lock"]) == (["pair1"], True, True, 7.0, True)
    assert deploy["read_only"] and status["read_only"]


def test_a_status_run_is_journaled_compactly_with_the_output_of_failed_commands_only(
        capsys, lab):
    from carpctl.runtime.history import History

    inventory = str(lab_inventory(lab))
    lab.node("pair1", "fw2").faults.relayd_fails = True
    lab.node("pair1", "fw2").system(["rcctl", "stop", "relayd"])
    main(["status", "-i", inventory])
    capsys.readouterr()
    (run,) = history_json(capsys)
    commands = History().commands(run["id"])
    assert all(c["output"] == "" for c in commands if c["status"] == 0)
    failed = [c for c in commands if c["status"] != 0]
    assert failed and all(c["output"] for c in failed), "what went wrong is kept"
    stored = sum(len(c["command"]) + len(c["output"]) for c in commands)
    assert stored < 2500, f"{stored} bytes for one status run"


def test_old_runs_are_pruned_by_age_and_count_read_only_ones_sooner(tmp_path):
    from carpctl.runtime.history import History, Retention

    history = History(tmp_path / "h.sqlite", Retention(days=30, read_only_days=2, runs=4))
    day = 86400.0
    ages = {"deploy old": (40, False), "deploy recent": (10, False), "status old": (3, True),
            "status recent": (1, True)}
    for command, (age, read_only) in ages.items():
        run = history.start_run(command, ["pair1"])
        run.describe(argv=None, options={}, inventory="inv", pairs=["pair1"],
                     read_only=read_only)
        run.step("x", "ok")
        history._write("UPDATE runs SET started = started - ? WHERE id = ?", (age * day, run.id))
    history.prune()
    assert {r.command for r in history.runs()} == {"deploy recent", "status recent"}
    for n in range(4):
        history.start_run(f"failover {n}", ["pair1"])   # each start applies the retention
    assert len(history.runs()) == 4
    assert "deploy recent" not in {r.command for r in history.runs()}


def test_a_retention_setting_that_is_not_a_positive_number_is_a_usage_error(
        capsys, lab, monkeypatch):
    monkeypatch.setenv("CARPCTL_HISTORY_DAYS", "forever")
    assert main(["status", "-i", str(lab_inventory(lab))]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "carpctl: error: $CARPCTL_HISTORY_DAYS is 'forever': it must be a number " \
        "above 0"
