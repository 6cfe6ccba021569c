"""Run every benchmark (or the named ones) and print their numbers.

Each bench/bench_NAME.py has a `main()` that prints `name: value unit` lines
(and may compare with its target). Usage: `.venv/bin/python -m bench [NAME ...]`.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    available = sorted(p.stem[len("bench_"):] for p in here.glob("bench_*.py"))
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    for name in chosen:
        print(f"== {name}", flush=True)
        start = time.monotonic()
        importlib.import_module(f"bench.bench_{name}").main()
        print(f"   ({time.monotonic() - start:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
