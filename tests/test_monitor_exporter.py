"""`carpctl exporter` as a user runs it: loopback, a journal row for its life, clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

from lab_inventories import lab_inventory
from prometheus_client.parser import text_string_to_metric_families

from carpctl.cli import main


def test_the_exporter_serves_on_loopback_until_ctrl_c_and_is_one_journal_row(lab):
    from carpctl.runtime.history import History

    process = subprocess.Popen(
        [sys.executable, "-m", "carpctl", "exporter", "-i", str(lab_inventory(lab)),
         "--listen", ":0"], stderr=subprocess.PIPE, text=True, env=os.environ)
    line = process.stderr.readline()
    address = re.match(r"serving http://(127\.0\.0\.1:\d+)/metrics for pair1 ", line)
    assert address, line
    for _ in range(3):
        with urllib.request.urlopen(f"http://{address[1]}/metrics", timeout=10) as response:
            names = {f.name for f in text_string_to_metric_families(response.read().decode())}
    assert {"carpctl_carp_state", "carpctl_pair_verdict", "carpctl_reads"} <= names
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0 and "Traceback" not in err
    (run,) = History().runs()
    assert (run.command, run.exit_code) == ("exporter --listen :0", 0)
    assert run.summary == "stopped after 3 scrapes, 1 reads"


def test_a_listen_address_that_is_not_one_is_a_usage_error(capsys, lab):
    assert main(["exporter", "-i", str(lab.inventory), "--listen", "localhost"]) == 2
    assert capsys.readouterr().err == \
        "carpctl: error: --listen 'localhost': expected HOST:PORT, for example 127.0.0.1:9732\n"


def test_a_port_in_use_is_one_line_and_exit_1(capsys, lab):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["exporter", "-i", str(lab_inventory(lab)), "--listen", f"127.0.0.1:{port}"])
    assert code == 1
    assert capsys.readouterr().err == \
        f"carpctl: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_help_does_not_import_prometheus_client():
    for args in (["--help"], ["exporter", "--help"], ["check", "--help"]):
        shown = subprocess.run([sys.executable, "-X", "importtime", "-m", "carpctl", *args],
                               capture_output=True, text=True)
        assert shown.returncode == 0
        assert "prometheus_client" not in shown.stderr, args
