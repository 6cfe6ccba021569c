"""CARP's election rules as pure functions: intervals and the verdict on an advertisement.

These are the facts of sys/netinet/ip_carp.c (OpenBSD 1.370) that decide who is
MASTER; `carp.py` drives them with timers and a clock. Times are whole
microseconds, as the kernel keeps them, so that two intervals that are equal on a
firewall are equal here too (floats would let ties fall either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

INIT = "INIT"
BACKUP = "BACKUP"
MASTER = "MASTER"

USEC = 1_000_000
BOW_OUT = 255
"""advbase and advskew of the last advertisement of a MASTER going down: so slow
that every BACKUP concludes at once that it can never make it (rule 3)."""


def skew_usec(advskew: int) -> int:
    """advskew in microseconds, truncated as the kernel does (254 -> 992187)."""
    return advskew * USEC // 256


def interval_pair(advbase: int, advskew: int) -> tuple[int, int]:
    """(seconds, microseconds) as two advertisers are compared: raw, no 1/256 s floor.

    The microseconds part is always below one second, so tuple order is the
    kernel's timercmp order.
    """
    return (advbase, skew_usec(advskew))


def interval_us(advbase: int, advskew: int) -> int:
    """Time between a MASTER's advertisements; an interval of 0 becomes 1/256 s."""
    return advbase * USEC + skew_usec(advskew) or USEC // 256


def master_down_us(advbase: int, advskew: int) -> int:
    """How long a BACKUP waits for silence: three of its own intervals."""
    return 3 * interval_us(advbase, advskew)


@dataclass(frozen=True)
class Advert:
    """One CARP advertisement as the receiver sees it."""

    vhid: int
    advbase: int
    advskew: int
    demote: int
    key: str | None = None      # the sender's `pass`: the receiver checks the HMAC with its own
    carpdev: str = "em0"        # the segment it travels on


class Verdict(Enum):
    """What a receiving vhid does about an advertisement."""

    IGNORE = "ignore"          # INIT, or a MASTER that outranks the sender
    STEP_DOWN = "step down"    # MASTER -> BACKUP, master-down armed
    TAKE_OVER = "take over"    # BACKUP -> MASTER now (as if master-down fired)
    WAIT = "wait"              # BACKUP re-arms its master-down timer


def judge(state: str, *, advbase: int, advskew: int, demote: int, preempt: bool,
          advert: Advert) -> Verdict:
    """carp_proto_input_c: the receiver's verdict, first matching rule wins.

    `advbase`/`advskew`/`demote` are the receiver's own; `preempt` is the
    receiver's net.inet.carp.preempt (the sender's never matters).
    """
    own = interval_pair(advbase, advskew)
    sender = interval_pair(advert.advbase, advert.advskew)
    if state == MASTER:
        if (own >= sender and advert.demote <= demote) or advert.demote < demote:
            return Verdict.STEP_DOWN
        return Verdict.IGNORE
    if state == BACKUP:
        if preempt and own < sender and advert.demote >= demote:
            return Verdict.TAKE_OVER
        if advert.demote > demote:
            return Verdict.TAKE_OVER
        if advbase > 0 and (3 * advbase, skew_usec(advskew)) < sender:
            return Verdict.TAKE_OVER
        return Verdict.WAIT
    return Verdict.IGNORE
