"""A study's verdicts: its own (per study, behind a registry), its cures, and each variant against the baseline.
Sentences are computed from the study's summary with thresholds from params (no typed numbers)."""
from __future__ import annotations

from collections.abc import Callable

from stages.common.registry import Registry
from stages.config import ReportConfig, StudyConfig, StudyReport
from stages.reporting import failures, generalization, speed
from stages.reporting.formatting import fmt, interval
from stages.reporting.lookup import Summary, score, split
from stages.reporting.speed import good_ranges  # noqa: F401  (concepts.py imports it from here)
from stages.reporting.wording import measured, said

Prose = Callable[[Summary, ReportConfig, dict, StudyConfig, StudyReport], list[str]]

VERDICTS: Registry[Prose] = Registry("study", {
    "optimizers": speed.optimizer_speed, "gradient_noise": speed.batch_noise, "activations": failures.failure_flags,
    "initializers": failures.init_scaling, "regression_losses": generalization.robust_losses,
    "regularization": generalization.penalties, "capacity": generalization.capacity,
})


def verdicts(study: str, summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
             plan: StudyReport) -> list[str]:
    """The study's own verdicts (where it has any), its cures, and the general ones."""
    own = VERDICTS.get(study)(summary, cfg, findings, spec, plan) if study in VERDICTS else []
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
