"""Which params keys a stage reads, recorded through the config objects, so a test can hold dvc.yaml's `params:`
to them as tests/test_structure.py holds `deps:` to the imports.

With STAGES_PARAMS_LOG set to a file, `watch` turns the loaded params into objects that note every key read after
loading (validation reads everything and is the `validate` stage's business) and appends one JSON line, the
command and its keys, to that file when the process exits. Without it, `watch` returns the params untouched.
A read is a leaf value (`report.overfit_gap`), a whole object or mapping dumped or copied (`defaults`), the keys of
a mapping iterated (`studies.optimizers.variants`), or one key looked up (`studies.optimizers.variants.adam`).
"""
from __future__ import annotations

import atexit
import json
import os
import sys
from typing import Any

from stages.config.schema import Frozen, Params

LOG_VARIABLE = "STAGES_PARAMS_LOG"


def watch(params: Params) -> Params:
    """`params`, recording its reads when STAGES_PARAMS_LOG names a file."""
    log = os.environ.get(LOG_VARIABLE)
    if not log:
        return params
    reads: set[str] = set()
    _track(params, "", reads)
    atexit.register(_append, log, reads)
    return params


def _append(log: str, reads: set[str]) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "reads": sorted(reads)}) + "\n")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_node(value: Any) -> bool:
    return isinstance(value, (Frozen, RecordingDict))


class RecordingDict(dict):
    """A mapping of params that notes each key looked up, and its own path when its keys are listed."""

    def __init__(self, items: dict, path: str, reads: set[str]):
        super().__init__(items)
        self._path, self._reads = path, reads

    def _note(self, key: str, value: Any) -> Any:
        if not _is_node(value):
            self._reads.add(_join(self._path, key))
        return value

    def __getitem__(self, key):
        return self._note(key, super().__getitem__(key))

    def get(self, key, default=None):
        if not super().__contains__(key):
            self._reads.add(_join(self._path, key))
            return default
        return self[key]

    def __contains__(self, key) -> bool:
        found = super().__contains__(key)
        if not (found and _is_node(super().__getitem__(key))):  # asking for a study or section is navigation
            self._reads.add(_join(self._path, key))
        return found

    def __iter__(self):
        self._reads.add(self._path)
        return super().__iter__()

    def __len__(self) -> int:
        self._reads.add(self._path)
        return super().__len__()

    def keys(self):
        self._reads.add(self._path)
        return super().keys()

    def items(self):
        return [(key, self[key]) for key in self]

    def values(self):
        return [self[key] for key in self]


def _track(node: Any, path: str, reads: set[str]) -> Any:
    """Make a config object (and the objects and mappings inside it) note its reads under `path`."""
    if isinstance(node, Frozen):
        object.__setattr__(node, "__class__", _recording_class(type(node)))
        _WATCHED[id(node)] = (node, path, reads)
        for name, value in node.__dict__.items():
            if isinstance(value, (Frozen, dict)):
                node.__dict__[name] = _track(value, _join(path, name), reads)
        return node
    if isinstance(node, dict):
        return RecordingDict({key: _track(value, _join(path, key), reads) if isinstance(value, Frozen) else value
                              for key, value in node.items()}, path, reads)
    return node


# id of a watched config object -> (the object, held so that its id is never reused; its path; the reads to note in)
_WATCHED: dict[int, tuple[Any, str, set[str]]] = {}
_RECORDING_CLASSES: dict[type, type] = {}


def _recording_class(cls: type) -> type:
    """A subclass of a config class whose field reads, dumps and copies are noted (made once per class)."""
    if cls not in _RECORDING_CLASSES:
        def __getattribute__(self, name):
            value = object.__getattribute__(self, name)
            if name in cls.model_fields and not _is_node(value) and id(self) in _WATCHED:
                _, path, reads = _WATCHED[id(self)]
                reads.add(_join(path, name))
            return value

        def noting_whole(method):
            def noted(self, *args, **kwargs):
                if id(self) in _WATCHED:
                    _, path, reads = _WATCHED[id(self)]
                    reads.add(path)
                return method(self, *args, **kwargs)
            return noted

        # Copies, pickles (for worker processes) and comparisons read the whole object and behave as the plain class.
        _RECORDING_CLASSES[cls] = type(f"Recording{cls.__name__}", (cls,), {
            "__getattribute__": __getattribute__, "model_dump": noting_whole(cls.model_dump),
            "model_dump_json": noting_whole(cls.model_dump_json), "model_copy": noting_whole(cls.model_copy),
            "__reduce__": noting_whole(lambda self: (cls.model_validate, (cls.model_dump(self),))),
            "__eq__": noting_whole(lambda self, other: isinstance(other, cls)
                                   and cls.model_dump(self) == cls.model_dump(other)),
            "__hash__": cls.__hash__, "__module__": __name__})
    return _RECORDING_CLASSES[cls]
