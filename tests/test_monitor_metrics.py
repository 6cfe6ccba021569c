"""The Prometheus metrics: pure families, then the exporter and the textfile against the lab
over real SSH, parsed back with prometheus_client's own parser."""

from __future__ import annotations

import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from lab_inventories import lab_inventory, load, poll
from monitor_states import Status, healthy, node, unreachable
from prometheus_client.parser import text_string_to_metric_families

from carpctl.cli import main
from carpctl.core.metrics import families
from carpctl.remote import commands as C


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """(name, labels) -> value of every sample in an exposition text."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def plain(*statuses) -> dict[tuple[str, frozenset], float]:
    return {(f.name, frozenset(s.labels.items())): s.value
            for f in families(statuses, duration=0.1, timestamp=1.0) for s in f.samples}


def test_an_unreadable_node_has_only_its_reachable_series():
    found = plain(Status(node("fw1"), unreachable("fw2")))
    assert value(found, "carpctl_node_reachable", pair="pair1", node="fw2") == 0
    assert [key for key in found if ("node", "fw2") in key[1]] == [
        ("carpctl_node_reachable", frozenset({("pair", "pair1"), ("node", "fw2")}))]


def test_the_verdict_is_one_series_per_code_with_1_for_the_current_one():
    found = plain(healthy())
    verdicts = {dict(k[1])["verdict"]: v for k, v in found.items()
                if k[0] == "carpctl_pair_verdict"}
    assert verdicts["healthy"] == 1 and sum(verdicts.values()) == 1
    assert {"split-brain", "no-master", "relayd-down"} <= set(verdicts)


# -- against the lab --------------------------------------------------------------------------
@pytest.fixture
def exporter(lab):
    """The exporter's server on a free loopback port, over a session on the lab."""
    from carpctl.flows.exporter import CachedReader, serve, served_address
    from carpctl.runtime.session import Session

    inventory = load(lab, connect_timeout=0.5)
    with Session(inventory) as session:
        reader = CachedReader(session, inventory.select([]), max_age=0.05)
        server = serve(reader, ("127.0.0.1", 0))
        reader.url = f"http://{served_address(server)}/metrics"
        yield reader
        server.shutdown()
        server.server_close()


def scrape(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return samples(response.read().decode())


def test_a_healthy_pair_scrapes_every_fact_per_node_and_vhid(exporter):
    found = scrape(exporter.url)
    fw1, fw2 = {"pair": "pair1", "node": "fw1"}, {"pair": "pair1", "node": "fw2"}
    vhid1 = {"interface": "carp0", "vhid": "1"}
    assert value(found, "carpctl_carp_state", **fw1, **vhid1, state="MASTER") == 1
    assert value(found, "carpctl_carp_state", **fw2, **vhid1, state="BACKUP") == 1
    assert value(found, "carpctl_carp_state", **fw2, **vhid1, state="MASTER") == 0
    assert value(found, "carpctl_carp_advskew", **fw2, **vhid1) == 100
    assert value(found, "carpctl_carp_advbase", **fw2, **vhid1) == 1
    assert value(found, "carpctl_carp_demote", **fw2, group="carp") == 0
    for name in ("node_reachable", "carp_preempt", "carp_allow", "pfsync_up", "pf_enabled",
                 "relayd_running"):
        assert value(found, f"carpctl_{name}", **fw2) == 1, name
    assert value(found, "carpctl_pf_states", **fw1) == 44
    assert value(found, "carpctl_relayd_hosts_up", **fw1) == 2
    assert value(found, "carpctl_relayd_hosts_total", **fw1) == 2
    assert value(found, "carpctl_relayd_host_up", **fw1, host="192.168.1.3") == 1
    assert value(found, "carpctl_pair_verdict", pair="pair1", verdict="healthy") == 1
    assert value(found, "carpctl_pair_severity", pair="pair1") == 0
    assert value(found, "carpctl_scrape_duration_seconds") > 0
    assert value(found, "carpctl_reads_total") == 1


def test_a_crashed_master_reads_unreachable_and_the_peer_takes_over(lab, exporter):
    lab.crash("pair1", "fw1")
    found = poll(lambda: (f := scrape(exporter.url)) and value(
        f, "carpctl_carp_state", pair="pair1", node="fw2", interface="carp0", vhid="1",
        state="MASTER") == 1 and f, timeout=20)
    assert value(found, "carpctl_node_reachable", pair="pair1", node="fw1") == 0
    assert value(found, "carpctl_pf_states", pair="pair1", node="fw1") is None
    assert value(found, "carpctl_pair_verdict", pair="pair1", verdict="unreachable") == 1
    assert value(found, "carpctl_pair_severity", pair="pair1") == 2


def test_a_link_down_puts_its_vhid_in_init_and_demotes_the_node(lab, exporter):
    lab.link("pair1", "fw2", "em0", False)
    found = scrape(exporter.url)
    fw2 = {"pair": "pair1", "node": "fw2"}
    assert value(found, "carpctl_carp_state", **fw2, interface="carp0", vhid="1",
                 state="INIT") == 1
    assert value(found, "carpctl_carp_demote", **fw2, group="carp") == 1
    assert value(found, "carpctl_pair_findings", pair="pair1", code="carp-init") == 1
    assert value(found, "carpctl_pair_severity", pair="pair1") == 2


def test_a_web_host_down_shows_in_the_per_host_series(lab, exporter):
    lab.webhost("pair1", "192.168.1.3", False)
    found = poll(lambda: (f := scrape(exporter.url)) and value(
        f, "carpctl_relayd_host_up", pair="pair1", node="fw1", host="192.168.1.3") == 0 and f)
    assert value(found, "carpctl_relayd_hosts_up", pair="pair1", node="fw1") == 1
    assert value(found, "carpctl_pair_verdict", pair="pair1", verdict="webhosts-down") == 1
    assert value(found, "carpctl_pair_severity", pair="pair1") == 1


def test_a_split_vhid_shows_master_on_both_nodes(lab, exporter):
    lab.allow("pair1", "fw2", False)
    found = poll(lambda: (f := scrape(exporter.url)) and value(
        f, "carpctl_pair_verdict", pair="pair1", verdict="split-brain") == 1 and f, timeout=20)
    for name in ("fw1", "fw2"):
        assert value(found, "carpctl_carp_state", pair="pair1", node=name, interface="carp0",
                     vhid="1", state="MASTER") == 1
    assert value(found, "carpctl_carp_allow", pair="pair1", node="fw2") == 0


def test_scrapes_within_max_age_cost_one_read_of_each_node(lab, exporter):
    exporter.max_age = 60
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(scrape, [exporter.url] * 8))
    assert {value(r, "carpctl_reads_total") for r in results} == {1}
    assert [len(lab.log("pair1", n)) for n in ("fw1", "fw2")] == [1, 1]


def test_a_demoted_node_is_in_the_textfile_written_atomically(capsys, lab, tmp_path):
    from carpctl.remote.connection import NodeConnection

    with NodeConnection(load(lab).pair("pair1").node("fw2")) as connection:
        connection.run(C.carpdemote(5), check=True)
    target = tmp_path / "textfile" / "carpctl.prom"
    target.parent.mkdir()
    target.write_text("old\n")
    inventory = lab_inventory(lab)
    assert main(["status", "-i", str(inventory), "--format", "prometheus",
                 "--output", str(target)]) == 1   # status's code: not healthy
    assert capsys.readouterr().out == ""
    found = samples(target.read_text())
    assert value(found, "carpctl_carp_demote", pair="pair1", node="fw2", group="carp") == 5
    assert value(found, "carpctl_pair_verdict", pair="pair1", verdict="demoted") == 1
    assert os.listdir(target.parent) == ["carpctl.prom"]   # nothing left beside it


def test_the_textfile_format_goes_to_stdout_without_output(capsys, lab):
    assert main(["status", "-i", str(lab_inventory(lab)), "--format", "prometheus"]) == 0
    found = samples(capsys.readouterr().out)
    assert value(found, "carpctl_pair_verdict", pair="pair1", verdict="healthy") == 1


def test_output_without_the_prometheus_format_is_a_usage_error(capsys, lab, tmp_path):
    assert main(["status", "-i", str(lab.inventory), "--output", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == "carpctl: error: --output needs --format prometheus\n"


def test_an_output_in_a_missing_directory_is_one_line(capsys, lab, tmp_path):
    target = tmp_path / "missing" / "carpctl.prom"
    assert main(["status", "-i", str(lab_inventory(lab)), "--format", "prometheus",
                 "--output", str(target)]) == 2
    assert capsys.readouterr().err == \
        f"carpctl: error: --output {target}: No such file or directory\n"


def test_the_textfile_from_cron_is_not_journaled(capsys, lab, tmp_path):
    from carpctl.runtime.history import History

    main(["status", "-i", str(lab_inventory(lab)), "--format", "prometheus",
          "--output", str(tmp_path / "carpctl.prom")])
    assert History().runs() == []
