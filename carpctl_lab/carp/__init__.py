"""The CARP election model the lab runs: pure state and rules over an explicit clock."""

from .model import CarpModel

__all__ = ["CarpModel"]
