"""Verdicts on deep nets that fail to train: vanishing, exploding, saturated and dead units by threshold, and the
cures of scale (Glorot against He) and of clipping."""
from __future__ import annotations

from stages.config import ReportConfig, StudyConfig, StudyReport
from stages.reporting.formatting import fmt
from stages.reporting.lookup import Summary, in_role, split, summary_variants
from stages.reporting.wording import said


def _flags(summary: Summary, cfg: ReportConfig) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {"vanishing": [], "exploding": [], "saturated": [], "dead": [], "symmetric": [],
                                   "diverged": []}
    for key, e in summary.items():
        ratio = e.get("grad_norm_first_over_last_init")
        if ratio is not None and ratio < cfg.vanishing_ratio:
            flags["vanishing"].append(f"{key} ({fmt(ratio)})")
        if ratio is not None and ratio > cfg.exploding_ratio:
            flags["exploding"].append(f"{key} ({fmt(ratio)})")
        saturated = max(filter(None, [e.get("saturated_fraction_init"), e.get("saturated_fraction")]), default=None)
        if saturated is not None and saturated > cfg.saturated_fraction:
            flags["saturated"].append(f"{key} ({fmt(saturated, 2)})")
        dead = max(filter(None, [e.get("dead_fraction_init"), e.get("dead_fraction")]), default=None)
        if dead is not None and dead > cfg.dead_fraction:
            flags["dead"].append(f"{key} ({fmt(dead, 2)})")
        if e.get("symmetric_layers_init"):
            flags["symmetric"].append(f"{key} ({e['symmetric_layers_init']} layers)")
        if e.get("diverged_runs"):
            flags["diverged"].append(f"{key} ({e['diverged_runs']} of {e['runs']} runs; their final diagnostics are "
                                     "left out)")
    return flags


def failure_flags(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                  plan: StudyReport) -> list[str]:
    """Vanishing, exploding, saturated and dead, by threshold; symmetric layers, divergence, nets that never learned."""
    flags = _flags(summary, cfg)
    text = {
        "vanishing": f"Vanishing gradients at initialization (first/last hidden layer gradient norm below "
                     f"{cfg.vanishing_ratio})",
        "exploding": f"Exploding gradients at initialization (ratio above {fmt(cfg.exploding_ratio)})",
        "saturated": f"Saturated units (share above {cfg.saturated_fraction})",
        "dead": f"Dead ReLU units (share above {cfg.dead_fraction}, symmetric layers left out)",
        "symmetric": "Symmetric layers at initialization (every unit identical, so none can specialize: not the same "
                     "as dead)",
        "diverged": "Diverged runs of the chosen setting",
    }
    lines = [f"{text[k]}: {', '.join(v) if v else 'none'}." for k, v in flags.items()]
    stuck = [k for k, e in summary.items() if e.get("epochs_to_target") is None and e.get("val_metric") is not None
             and e.get("val_metric") < 0.5]
    if stuck:
        lines.append(f"Failed to learn (validation accuracy below 0.5): {', '.join(stuck)}.")
    return lines


def init_scaling(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                 plan: StudyReport) -> list[str]:
    """The failure flags, then the cures: the `he` role's scaling against the `glorot` role's, and the `clipped`
    role's clipping against the failure it cures."""
    lines = failure_flags(summary, cfg, findings, spec, plan)
    for condition, entries in split(summary).items():
        glorot, he = in_role(plan, "glorot", entries)[0], in_role(plan, "he", entries)[0]
        activation = spec.conditions.get(condition, {}).get("activation", spec.set.get("activation"))
        if glorot and he:
            g, h = entries[glorot[0]], entries[he[0]]
            line = (f"{condition}: test accuracy Glorot {fmt(g['test_metric'])} vs He {fmt(h['test_metric'])}; "
                    + said(h, cfg, he[0]) + " against the baseline.")
            if activation == "relu":  # He et al.'s finding is about plain ReLU nets
                line += (" He et al. saw plain ReLU nets stall with Glorot-style scaling only at about 30 layers "
                         "(at 22 both trained); the init_at_depth study trains 30.")
            lines.append(line)
        clipping = {cure: failure for cure, failure in plan.cures.items() if cure in plan.roles.get("clipped", [])}
        for cure, failure in clipping.items():
            raw, clipped = entries.get(failure), entries.get(cure)
            if not (raw and clipped):
                lines.append(f"{condition}: no verdict on the cure {cure} for {failure}: "
                             f"{cure if not clipped else failure} was not trained in this run.")
                continue
            lines.append(f"{condition}: {failure} without the cure: {raw['diverged_runs']} diverged runs, "
                         f"accuracy {fmt(raw['val_metric'])}; with it ({cure}): {clipped['diverged_runs']} "
                         f"diverged, accuracy {fmt(clipped['val_metric'])}. "
                         + ("Nothing diverged, so the cure had nothing to stop." if raw["diverged_runs"] == 0 else
                            "The cure stops the divergence but does not repair the scale of the weights."
                            if clipped["diverged_runs"] < raw["diverged_runs"]
                            else "The cure did not prevent divergence here."))
    notes = {note for role in ("glorot", "he") if (note := in_role(plan, role, summary_variants(summary))[1])}
    return lines + sorted(notes)
