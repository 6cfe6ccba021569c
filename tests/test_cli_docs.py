"""`carpctl docs [TOPIC]`: every page of the guide is one command away, from any install."""

from __future__ import annotations

import re
from pathlib import Path

from carpctl.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_page_the_guide_links_to_is_a_topic_of_carpctl_docs(capsys):
    linked = set(re.findall(r"\]\(([\w-]+)\.(?:md|yml)\)", (DOCS / "README.md").read_text()))
    assert main(["docs"]) == 0
    topics = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert linked and linked <= topics and "guide" in topics


def test_a_topic_prints_the_page_as_shipped(capsys):
    assert main(["docs", "exit-codes"]) == 0
    assert capsys.readouterr().out == (DOCS / "exit-codes.md").read_text()


def test_an_unknown_topic_exits_2_naming_the_topics(capsys):
    assert main(["docs", "failovr"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "no page 'failovr'" in line and "failover" in line
