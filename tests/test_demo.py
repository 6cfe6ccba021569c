"""`carpctl demo`, the README's first command, end to end."""

from __future__ import annotations

from carpctl.cli import main


def test_the_demo_runs_every_main_job_on_a_fresh_lab_and_exits_0(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for shown in ("pair1: drift", "deployed fw1", "pair1: healthy, MASTER fw1",
                  "MASTER handed from fw1 to fw2", "MASTER handed from fw2 to fw1",
                  "pair1: 10/10 steps", "Demo done"):
        assert shown in out
