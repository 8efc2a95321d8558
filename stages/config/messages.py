"""Pydantic validation errors rendered as one line: the key path, what is wrong, what is allowed."""
from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from stages.common.registry import did_you_mean
from stages.config.schema import Params


def describe(error: dict, root: type[BaseModel] | None = None) -> str:
    """Render one pydantic error as 'key.path: what is wrong and what is allowed'."""
    loc = error["loc"]
    path = key_path(loc)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], root or Params)
        return f"{path}: unknown key; allowed: {', '.join(allowed)}{did_you_mean(loc[-1], allowed)}"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    if kind != "value_error":
        message = re.sub(r"^(Input|List|Dictionary) should|,? after validation.*$", lambda m: "must" if m[1] else "", message)
        message = f"{value!r}: {message}"
    return f"{path}: {message}"


def key_path(loc: Iterable) -> str:
    """('defaults', 'hidden', 2) -> 'defaults.hidden[2]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not re.fullmatch(r"function-after\[.*\]|[a-z-]*\[.*\]", str(part)):  # pydantic's own steps
            path += f".{part}" if path else str(part)
    return path


def _allowed_keys(loc: Iterable, root: type[BaseModel]) -> list[str]:
    """The keys the model at `loc` accepts, found by walking the schema's annotations."""
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        annotation = fields[part].annotation if fields and part in fields else _dict_value(model)
        model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _dict_value(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[1] if typing.get_origin(annotation) is dict and len(args) == 2 else None


def _model_in(annotation: Any) -> Any:
    """The config model an annotation holds, directly, in a dict or in an Optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is dict:
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def kind_of(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
