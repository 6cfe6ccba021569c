"""A demotion carpctl keeps on a node on purpose, and the record that lets it be undone.

`carpctl failover` parks the old MASTER (keeps it demoted) when restoring its
values would pull MASTER back; `maintenance exit` does the same with its
runtime demotion. The record lives on the node (remote.paths.PARKED_FILE), so a later
`failover --to NODE` from any laptop undoes exactly what was done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from carpctl.facts import CarpInterface


@dataclass(frozen=True)
class Parked:
    """A demotion left on a node on purpose (restoring it would have pulled MASTER back).

    The node's runtime values are lost on reboot, so the record only counts while
    the node still carries the parked values.
    """

    method: str                          # advskew | carpdemote
    originals: dict[str, int] = field(default_factory=dict)  # ifname -> advskew before
    parked_skew: int = 254
    amount: int = 0                      # carpdemote N

    def line(self) -> str:
        skews = " ".join(f"{name}={skew}" for name, skew in sorted(self.originals.items()))
        return f"method={self.method} parked={self.parked_skew} amount={self.amount} {skews}".strip()

    @classmethod
    def parse(cls, text: str) -> Parked | None:
        fields = dict(word.partition("=")[::2] for word in text.split())
        try:
            method = fields.pop("method")
            parked, amount = int(fields.pop("parked")), int(fields.pop("amount"))
            originals = {name: int(value) for name, value in fields.items()}
        except (KeyError, ValueError):
            return None
        if method not in ("advskew", "carpdemote"):
            return None
        return cls(method, originals, parked, amount)

    def still_applies(self, carp: Iterable[CarpInterface], demote: int | None) -> bool:
        if self.method == "carpdemote":
            return (demote or 0) >= self.amount
        skews = {c.name: c.advskew for c in carp if c.vhid is not None}
        return bool(self.originals) and all(skews.get(name) == self.parked_skew
                                            for name in self.originals)

    def describe(self) -> str:
        if self.method == "carpdemote":
            return f"carp demote counter raised by {self.amount}"
        were = ", ".join(f"{n} {s}" for n, s in sorted(self.originals.items()))
        return f"advskew {self.parked_skew} instead of {were}"
