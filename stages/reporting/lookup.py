"""Finding things in a study without naming it: its summary by condition or variant, the variants a role names, the
best variant, and the settings its params vary."""
from __future__ import annotations

import math

from stages.catalog.tasks import by_metric
from stages.config import StudyConfig, StudyReport

Summary = dict[str, dict]  # "variant" or "variant/condition" -> entry


def split(summary: Summary) -> dict[str, Summary]:
    """{condition: {variant: entry}}; a study without conditions has the single condition ''."""
    groups: dict[str, Summary] = {}
    for key, entry in summary.items():
        variant, _, condition = key.partition("/")
        groups.setdefault(condition, {})[variant] = entry
    return groups


def summary_variants(summary: Summary) -> Summary:
    """Every variant of a summary, under any condition (the entries of its first condition stand for each)."""
    return {key.partition("/")[0]: entry for key, entry in summary.items()}


def in_role(plan: StudyReport, role: str, entries: Summary) -> tuple[list[str], str | None]:
    """The variants params.yaml gives `role` that were trained, and a sentence naming those that were not."""
    names = plan.roles.get(role, [])
    if not names:
        return [], f"No verdict on the `{role}` role: params.yaml gives it no variant."
    missing = [name for name in names if name not in entries]
    note = None
    if missing:
        note = (f"No verdict on the `{role}` role: {', '.join(missing)} {'was' if len(missing) == 1 else 'were'} "
                "not trained in this run.")
    return [name for name in names if name in entries], note


def score(entry: dict, key: str = "val_metric") -> float:
    """An entry's metric on a scale where larger is better (-inf when missing), for max()."""
    value = entry.get(key)
    return -math.inf if value is None else by_metric(entry["metric"]).score(value)


def varies(spec: StudyConfig, *keys: str) -> bool:
    """Whether the study's variants give any of these settings more than one value in params.yaml, the study's `set:`
    standing in for a variant that gives none."""
    return any(len({repr(v.get(key, spec.set.get(key))) for v in spec.variants.values()}) > 1 for key in keys)
