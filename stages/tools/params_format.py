"""Keep params.yaml in the form DVC's `-S` writer leaves alone, so that an experiment's diff is only what it set.

    python -m stages.tools.params_format [--check] [params.yaml]

DVC 3.67's writer (`dvc/utils/hydra.py: apply_overrides`) round-trips the file with ruamel.yaml, merges maps key by
key, but replaces every other value: a list comes back in block style (and everything inside it), a folded string is
re-wrapped at 80 columns, a flow map longer than that is wrapped. So lists live inside flow maps
(`sweep: {learning_rate: [0.01, 0.1]}`, `depth_10: {hidden: [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]}`) unless a comment is
attached inside, where they are in block style, and folded strings are wrapped short.
"""
from __future__ import annotations

import argparse
import io
import textwrap
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString

WIDTH = 78  # columns a line may use: ruamel wraps at 80


def _yaml(width: int | None = None):
    from dvc.utils.serialize._yaml import _get_yaml  # the writer DVC itself uses

    yaml = _get_yaml()
    if width:
        yaml.width = width
    return yaml


def _children(node) -> list:
    return list(node.values()) if isinstance(node, dict) else list(node)


def _has_list(node) -> bool:
    return isinstance(node, list) or (isinstance(node, dict) and any(_has_list(v) for v in node.values()))


def _has_comments(node) -> bool:
    if not isinstance(node, (CommentedMap, CommentedSeq)):
        return False
    return bool(node.ca.items or node.ca.comment) or any(_has_comments(v) for v in _children(node))


def _style(node, flow: bool) -> None:
    if isinstance(node, (CommentedMap, CommentedSeq)):
        node.fa.set_flow_style() if flow else node.fa.set_block_style()
        for child in _children(node):
            _style(child, flow)


def _one_line_width(key: str, node, indent: int) -> int:
    stream = io.StringIO()
    _yaml(width=10_000).dump(CommentedMap({key: node}), stream)
    lines = stream.getvalue().splitlines()
    return indent + len(lines[0]) if len(lines) == 1 else 10_000


def _folded(text: str, indent: int) -> FoldedScalarString:
    words = " ".join(text.split())
    folded, at = FoldedScalarString(words), 0
    folded.fold_pos = []
    for line in textwrap.wrap(words, WIDTH - indent)[:-1]:
        at += len(line)
        folded.fold_pos.append(at)
        at += 1
    return folded


def _normalize(node: CommentedMap, indent: int) -> None:
    for key in list(node):
        value = node[key]
        if isinstance(value, FoldedScalarString):
            node[key] = _folded(value, indent + 2)
        elif isinstance(value, CommentedSeq):
            _style(value, flow=False)
        elif isinstance(value, CommentedMap):
            if _has_list(value) and not _has_comments(value):
                was_flow = value.fa.flow_style()
                _style(value, flow=True)
                # Too wide for one line: a block map, unless it was written flow and a list sits directly in it (block
                # style would put each item on a line of its own: 20 lines for `hidden: [4, 4, ...]`), which stays
                # flow, wrapped by ruamel.
                if _one_line_width(key, value, indent) > WIDTH and not (
                        was_flow and any(isinstance(child, list) for child in value.values())):
                    value.fa.set_block_style()
                    _normalize(value, indent + 2)
            elif not value.fa.flow_style():
                _normalize(value, indent + 2)


def formatted(text: str) -> str:
    """The same YAML data, in the form DVC's writer reproduces byte for byte."""
    from dvc.utils.serialize._yaml import parse_yaml_for_update

    data = parse_yaml_for_update(text, "params.yaml")
    _normalize(data, 0)
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=Path("params.yaml"))
    parser.add_argument("--check", action="store_true", help="only say whether the file is already in this form")
    args = parser.parse_args(argv)
    text = args.path.read_text()
    wanted = formatted(text)
    if args.check:
        raise SystemExit(0 if wanted == text else f"{args.path}: not in DVC's writer form; run "
                                                  f"`python -m stages.tools.params_format {args.path}`")
    args.path.write_text(wanted)


if __name__ == "__main__":
    main()
