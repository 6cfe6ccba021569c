"""The bare failover procedure as an Ansible playbook (bench/bare_failover.yml).

The issue's own yardstick: `ansible-playbook` with the raw module, fresh for each
run as an operator starts it (its start-up and first connections included), over
Ansible's default multiplexed OpenSSH. `failover(...)` returns the playbook's wall
time, or None when ansible-playbook is not installed (`pip install
'carpctl[bench]'`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bare_failover import Target

PLAYBOOK = Path(__file__).with_name("bare_failover.yml")


def ansible_playbook() -> str | None:
    beside = Path(sys.executable).with_name("ansible-playbook")
    return str(beside) if beside.exists() else shutil.which("ansible-playbook")


def failover(nodes: list[Target], *, method: str = "advskew") -> float | None:
    program = ansible_playbook()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="bare-ansible-") as tmp:
        hosts = Path(tmp) / "hosts.ini"
        lines = ["[fw]"] + [f"{n.name} ansible_host=127.0.0.1 ansible_port={n.port} "
                            f"ansible_user={n.user} ansible_ssh_private_key_file={n.identity} "
                            f"ansible_ssh_common_args='-o UserKnownHostsFile={n.known_hosts} "
                            f"-o StrictHostKeyChecking=yes'" for n in nodes]
        hosts.write_text("\n".join(lines) + "\n")
        env = dict(os.environ, ANSIBLE_SSH_CONTROL_PATH_DIR=f"{tmp}/cp", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=f"{tmp}/local", ANSIBLE_RETRY_FILES_ENABLED="0")
        start = time.monotonic()
        done = subprocess.run([program, "-i", str(hosts), str(PLAYBOOK), "-e",
                               f"demote_method={method}"], env=env, capture_output=True,
                              text=True, timeout=120)
        took = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(f"ansible-playbook exited {done.returncode}:\n{done.stdout[-2000:]}")
    return took
