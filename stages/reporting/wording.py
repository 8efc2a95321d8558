"""Verdict words: how the report says what a comparison's adjusted tests support, wherever it says it."""
from __future__ import annotations

from stages.analysis.study_summary import margin_key
from stages.config import ReportConfig
from stages.reporting.formatting import fmt, interval


# How each outcome reads (`outcome`): as a clause about a named variant against its baseline, and as the effect of
# a cure after "Cure X against Y (what it measures, paired by seed): ".
PHRASES = {
    "better": ("{name} better by {effect} (adjusted p = {p})", "better: difference {effect} (adjusted p = {p})"),
    "worse": ("{name} worse by {effect} (adjusted p = {p})", "worse: difference {effect} (adjusted p = {p})"),
    "equivalent": ("{name} equivalent within ±{margin} (adjusted TOST p = {p_tost})",
                   "equivalent within ±{margin} (difference {effect}, adjusted TOST p = {p_tost})"),
    "not resolved": ("{name}: not resolved with {seeds} seeds (difference {effect}; the smallest this design detects "
                     "is ±{detectable})", "not resolved with {seeds} seeds (difference {effect}, adjusted p = {p})"),
    "no comparison": ("{name}: no comparison (no finite test metric: {diverged} of {runs} runs diverged)",
                      "no comparison: no seed has a finite value on both sides (every failure run diverged)"),
}


# Whether a comparison with the baseline supports the claim that the variant is the better one.
CLAIMS = {"better": "supported", "worse": "not supported", "equivalent": "not supported"}


def outcome(e: dict) -> str:
    """What a comparison came to: its verdict ("better", "worse", "equivalent"), else "not resolved", or "no
    comparison" where no seed has a value on both sides."""
    if e.get("verdict") in ("better", "worse", "equivalent"):
        return e["verdict"]
    return "not resolved" if e.get("paired_seeds") else "no comparison"


def effect(e: dict) -> str:
    """A comparison's difference with its paired 95% interval."""
    return f"{fmt(e.get('diff_vs_baseline'))} {interval(e.get('diff_low'), e.get('diff_high'))}"


def said(e: dict, cfg: ReportConfig, name: str | None = None) -> str:
    """A comparison in the words its adjusted tests support: of variant `name` against the baseline, or (no name) of
    a cure against its failure."""
    found = outcome(e)
    values = {"name": name, "effect": effect(e), "p": fmt(e.get("p_adjusted"), 2),
              "p_tost": fmt(e.get("p_equivalence_adjusted"), 2), "seeds": e.get("paired_seeds", 0),
              "detectable": fmt(e.get("detectable_effect")), "diverged": e.get("diverged_runs"), "runs": e.get("runs"),
              "margin": fmt(cfg.equivalence_margin[margin_key(e)]) if found == "equivalent" else None}
    return PHRASES[found][name is None].format(**values)


def claim(e: dict) -> str:
    """Whether a variant's comparison with the baseline supports a claim that it is better."""
    return CLAIMS.get(outcome(e), "not resolved")


def label(e: dict) -> str:
    """The verdict column of a study table: the label `adjust` stored ("None" where nothing was compared)."""
    return str(e["verdict"])


def measured(e: dict) -> str:
    """What a comparison measures, in words."""
    return {"saturation": "the top hidden layer's peak saturated share",
            "train_loss_auc": "training loss averaged over the epochs",
            "divergence": "share of runs that diverged",
            "overfitting": f"overfitting: train minus test {e['metric']}, floored at 0"}.get(
        e.get("compared_on"), f"test {e['metric']}")


def unresolved(seeds: int, why: str = "") -> str:
    """A concept row that its test leaves open (for concepts.confirm, which still writes it out itself)."""
    return f"not resolved with {seeds} seeds{why}"
