"""carpctl.facts stays cheap to import: `carpctl --help` and the lab may load it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("paramiko", "fabric", "invoke", "rich", "jinja2", "yaml", "asyncssh")


def test_importing_the_parsers_loads_no_heavy_dependency():
    probe = (
        "import sys, carpctl.facts; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
