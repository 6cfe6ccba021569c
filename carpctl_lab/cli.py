"""`carpctl lab up|down|status|fault|log`: run the lab and poke at it from a shell."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import control

READY_TIMEOUT = 60.0


def _say(text: str) -> None:
    print(text, flush=True)


def shape_options(advskew: str | None, preempt: str | None, advbase: int | None) -> dict:
    """`--advskew 0,100 --preempt on,off --advbase 1` as PairSpec fields (both nodes)."""
    shape: dict[str, Any] = {}
    if advskew is not None:
        skews = tuple(int(v) for v in advskew.split(","))
        if len(skews) != 2 or not all(0 <= v <= 254 for v in skews):
            raise ValueError("--advskew takes two values 0-254, e.g. 0,100")
        shape["advskew"] = skews
    if preempt is not None:
        words = preempt.split(",")
        if len(words) != 2 or not set(words) <= {"on", "off"}:
            raise ValueError("--preempt takes two of on/off, e.g. on,off")
        shape["preempt"] = tuple(w == "on" for w in words)
    if advbase is not None:
        if not 1 <= advbase <= 254:
            raise ValueError("--advbase takes 1-254")
        shape["advbase"] = advbase
    return shape


def _shape_argv(shape: dict) -> list[str]:
    argv = []
    if "advskew" in shape:
        argv += ["--advskew", ",".join(map(str, shape["advskew"]))]
    if "preempt" in shape:
        argv += ["--preempt", ",".join("on" if p else "off" for p in shape["preempt"])]
    if "advbase" in shape:
        argv += ["--advbase", str(shape["advbase"])]
    return argv


def up(directory: Path, pairs: int, *, detach: bool, shape: dict | None = None,
       out: Callable[[str], None] = _say) -> int:
    directory = directory.resolve()
    shape = shape or {}
    if detach:
        return _up_detached(directory, pairs, shape, out)
    from .lab import Lab, default_specs

    lab = Lab(directory, default_specs(pairs, **shape)).start()
    server = control.ControlServer(lab)
    (directory / "lab.pid").write_text(f"{os.getpid()}\n")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out(_summary(lab.directory, list(lab.pairs), lab.inventory))
    out("The lab runs until Ctrl-C.")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        lab.stop()
        (directory / "lab.pid").unlink(missing_ok=True)
    out("lab stopped")
    return 0


def _summary(directory: Path, pairs: list[str], inventory: Path) -> str:
    return (f"lab running in {directory}: {len(pairs)} pair(s) ({', '.join(pairs[:5])}"
            f"{', ...' if len(pairs) > 5 else ''}) on 127.0.0.1\n"
            f"inventory: {inventory}\n"
            f"try: carpctl -i {inventory} status")


def _up_detached(directory: Path, pairs: int, shape: dict, out: Callable[[str], None]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    try:
        control.request(directory, {"op": "ping"}, timeout=2)
        out(f"a lab is already running in {directory}")
        return 1
    except control.LabNotRunning:
        pass
    log = open(directory / "lab.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "carpctl", "lab", "up", "--dir", str(directory),
         "--pairs", str(pairs), *_shape_argv(shape)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out(f"the lab exited at start-up (exit {process.returncode}); see {directory / 'lab.log'}")
            return 1
        try:
            info = control.request(directory, {"op": "ping"}, timeout=2)
        except control.LabNotRunning:
            time.sleep(0.1)
            continue
        out(_summary(directory, info["pairs"], Path(info["inventory"])))
        out(f"stop it with: carpctl lab down --dir {directory}")
        return 0
    process.terminate()
    out(f"the lab did not start within {READY_TIMEOUT:.0f}s; see {directory / 'lab.log'}")
    return 1


def down(directory: Path, out: Callable[[str], None] = _say) -> int:
    pidfile = directory / "lab.pid"
    if not pidfile.exists():   # stopping what is not running is done, like `rcctl stop`
        out(f"no lab is running in {directory}; nothing to stop")
        return 0
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        out(f"the lab in {directory} was not running (stale pid file removed)")
        return 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and pidfile.exists():
        time.sleep(0.1)
    out(f"lab in {directory} stopped")
    return 0


def truth(directory: Path) -> dict[str, Any]:
    return control.request(directory, {"op": "truth"})


def status_rows(truth_by_pair: dict[str, Any]) -> list[list[str]]:
    """pair, node, powered, demote, preempt, then `carpN STATE skew` per interface."""
    rows = []
    for pair, info in truth_by_pair.items():
        for node, facts in info["nodes"].items():
            carp = ", ".join(f"{name} {c['state']} vhid {c['vhid']} skew {c['advskew']}"
                             for name, c in facts["carp"].items())
            rows.append([pair, node, "on" if facts["powered"] else "off",
                         str(facts["demote"] if facts["demote"] is not None else "-"),
                         {True: "1", False: "0", None: "-"}[facts["preempt"]], carp or "-"])
    return rows


def parse_target(target: str) -> tuple[str, str | None]:
    """`pair1/fw1` -> ("pair1", "fw1"); `pair1` -> ("pair1", None)."""
    pair, _, node = target.partition("/")
    return pair, node or None


def fault(directory: Path, name: str, target: str, values: list[str]) -> Any:
    pair, node = parse_target(target)
    args: list[Any] = [pair] if node is None else [pair, node]
    kwargs: dict[str, Any] = {}
    words = list(values)
    if name in ("ssh-down", "refuse-ssh", "disk-full", "relayd-fail"):
        args.append(not (words and words[0] in ("off", "no", "false")))
    elif name in ("preempt", "allow"):
        args.append(_on_off(words))
    elif name == "doas":
        args.append(bool(words) and words[0] in ("permit", "on", "allow"))
    elif name == "link":
        args += [words[0], _on_off(words[1:], on="up", off="down")]
    elif name == "webhost":
        args += [words[0], _on_off(words[1:], on="up", off="down")]
    elif name == "reboot" and words:
        args.append(float(words[0]))
    elif name == "slow":
        args.append(float(words[0]))
        if len(words) > 1:
            kwargs["match"] = words[1]
    elif name == "drop":
        args.append(words[0])
        kwargs["count"] = int(words[1]) if len(words) > 1 else 1
        kwargs["after"] = "after" in words[2:]
    elif name == "syspatch":
        args.append(words)
    elif name == "reorder-kernel":
        args.append(float(words[0]) if words else 60.0)
    elif name == "carp-pass":
        args.append(words[0])
        kwargs["persistent"] = "persistent" in words[1:]
    elif name == "carp-garbage":
        args += [words[0], words[1], int(words[2]) if len(words) > 2 else 1]
    return control.request(directory, {"op": "fault", "name": name, "args": args,
                                       "kwargs": kwargs})


def _on_off(words: list[str], on: str = "on", off: str = "off") -> bool:
    if not words or words[0] not in (on, off):
        raise ValueError(f"say {on} or {off}")
    return words[0] == on


def log(directory: Path, target: str) -> list[dict[str, Any]]:
    pair, node = parse_target(target)
    if node is None:
        raise ValueError("name a node as PAIR/NODE, e.g. pair1/fw1")
    return control.request(directory, {"op": "log", "pair": pair, "node": node})
