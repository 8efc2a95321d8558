"""Name registries: the Keras-style `get(name)` whose error lists the valid names."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def not_one_of(value: object, choices: Iterable[str]) -> str:
    """The standard message for a value outside a fixed set of names."""
    choices = list(choices)
    return f"{value!r} is not one of: {', '.join(choices)}{did_you_mean(value, choices)}"


class Registry(Generic[T]):
    """An explicit name -> object map with one `get` that names the choices on a miss."""

    def __init__(self, kind: str, entries: Mapping[str, T]):
        self.kind = kind
        self._entries = dict(entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> T:
        """Return the entry called `name`; a KeyError names the valid ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {not_one_of(name, self._entries)}") from None
