"""A study's verdicts: the topics its params and results call for, its cures, and each variant against the baseline.
Sentences are computed from the study's summary with thresholds from params (no typed numbers)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stages.common.registry import Registry
from stages.config import ReportConfig, StudyConfig, StudyReport
from stages.reporting import failures, generalization, speed
from stages.reporting.formatting import fmt, interval
from stages.reporting.lookup import Summary, score, split, varies
from stages.reporting.wording import measured, said

Prose = Callable[[Summary, ReportConfig, dict, StudyConfig, StudyReport], list[str]]


@dataclass(frozen=True)
class Topic:
    """Verdict lines on one subject, and what in a study (never its name) calls for them."""

    write: Prose
    applies: Callable[[Summary, StudyConfig, StudyReport], bool]  # (summary, spec, plan) -> whether to write them


def declares(*roles: str) -> Callable[[Summary, StudyConfig, StudyReport], bool]:
    """A study whose report section (report.studies.<study>.roles) gives every one of these roles."""
    return lambda summary, spec, plan: all(role in plan.roles for role in roles)


def sweeps(*settings: str) -> Callable[[Summary, StudyConfig, StudyReport], bool]:
    """A study whose variants differ in one of these settings in params.yaml."""
    return lambda summary, spec, plan: varies(spec, *settings)


def measures(metric: str) -> Callable[[Summary, StudyConfig, StudyReport], bool]:
    """A study whose summary is in this metric."""
    return lambda summary, spec, plan: any(e.get("metric") == metric for e in summary.values())


# In the order a study's verdicts list them, each before the cures and the comparisons with the baseline.
TOPICS: Registry[Topic] = Registry("topic", {
    "optimizer_speed": Topic(speed.optimizer_speed, declares("claimed_fastest", "adaptive")),
    "batch_noise": Topic(speed.batch_noise, sweeps("batch_size")),
    "failure_flags": Topic(failures.failure_flags, declares("saturating")),
    "init_scaling": Topic(failures.init_scaling, declares("glorot", "he", "clipped")),  # with the failure flags
    "robust_losses": Topic(generalization.robust_losses, measures("mae")),
    "penalties": Topic(generalization.penalties, declares("l1_penalty", "l2_penalty")),
    "capacity": Topic(generalization.capacity, declares("largest")),
})


def topics(summary: Summary, spec: StudyConfig, plan: StudyReport) -> list[str]:
    """The names of the topics a study calls for, in TOPICS order."""
    return [name for name in TOPICS.names if TOPICS.get(name).applies(summary, spec, plan)]


def verdicts(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig, plan: StudyReport) -> list[str]:
    """The topics the study calls for, its cures, and the general verdicts."""
    own = [line for name in topics(summary, spec, plan) for line in TOPICS.get(name).write(summary, cfg, findings,
                                                                                            spec, plan)]
    return own + cures(findings.get("cures", {}), cfg) + general(summary, cfg, plan.baseline)


def general(summary: Summary, cfg: ReportConfig, baseline: str) -> list[str]:
    """Per condition: the best variant on test, and each variant against the baseline as its tests support."""
    lines = []
    for condition, entries in split(summary).items():
        where = f" ({condition})" if condition else ""
        best = max(entries, key=lambda name: score(entries[name], "test_metric"))
        e = entries[best]
        on_loss = e.get("compared_on") == "train_loss_auc"
        lines.append(f"Best mean on the test split{where}: **{best}**, {e['metric']} {fmt(e['test_metric'])} "
                     f"{interval(e['test_low'], e['test_high'])} (95% interval; a ranking, not a test"
                     + ("; the comparisons below are on the training loss)." if on_loss else
                        ": the paired comparisons below are the tests)."))
        compared = [said(x, cfg, name) for name, x in entries.items() if name != baseline]
        if compared:
            on = ("mean training loss over the epochs" if next(iter(entries.values())).get("compared_on") ==
                  "train_loss_auc" else "test")
            lines.append(f"Against {baseline}{where} on {on}, paired by seed: " + "; ".join(compared) + ".")
    return lines


def cures(compared: dict[str, dict], cfg: ReportConfig) -> list[str]:
    """One line per cure pair of params.yaml that was trained: the cure's test metric against the failure's."""
    return [f"Cure {e['cure']} against {e['failure']} ({measured(e)}, paired by seed): {said(e, cfg)}."
            for e in compared.values()]
