"""The facts of a model card: every number it shows, with where in the run it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fact:
    """A number (or version string) shown in the card, and where it came from.

    ``source`` is ``metric:<key>``, ``param:<key>``, ``tag:<key>``, ``version:<field>``,
    ``version_tag:<key>[#<key path in its JSON>]``, ``requirement:<package>`` or
    ``artifact:<file>#<key path>``.
    """

    shown: str
    source: str
    value: Any


@dataclass
class Facts:
    """Collects every fact the card shows."""

    items: list[Fact] = field(default_factory=list)

    def add(self, value: Any, source: str, fmt: str | Callable[[Any], str] = "{}") -> str:
        """Record ``value`` from ``source`` and return it as shown (``fmt``: a format string,
        or a function such as a feature's name for people)."""
        shown = fmt(value) if callable(fmt) else fmt.format(value)
        self.items.append(Fact(shown, source, value))
        return shown
