"""Fixture files: one command output per file, read byte-exact (TABs, trailing blanks)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    with open(FIXTURES / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def all_fixtures() -> dict[str, str]:
    return {path.name: fixture(path.name) for path in sorted(FIXTURES.glob("*.txt"))}
