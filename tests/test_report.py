"""The committed report (reports/README.md, written by `dvc repro`) says only what its tests support."""
from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

REPORT = (REPO / "reports" / "README.md").read_text()
INTERVAL = re.compile(r"\[(-?[\d.e+-]+|n/a), (-?[\d.e+-]+|n/a)\]")


def tables() -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table of the report as (header cells, rows of cells)."""
    found, lines = [], REPORT.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("|---"):
            rows = []
            for row in lines[index + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip("|").split("|")])
            found.append(([cell.strip() for cell in line.strip("|").split("|")], rows))
    return found


def test_the_report_has_comparison_tables():
    assert any("test accuracy [95%]" in header for header, _ in tables())


@pytest.mark.parametrize("column, low, high", [("test accuracy [95%]", 0.0, 1.0), ("test difference vs", -1.0, 1.0)])
def test_accuracy_intervals_stay_inside_their_range(column, low, high):
    checked = 0
    for header, rows in tables():
        if "accuracy" not in " ".join(header):
            continue
        for index in [i for i, cell in enumerate(header) if cell.startswith(column)]:
            for row in rows:
                for a, b in INTERVAL.findall(row[index]):
                    if "n/a" not in (a, b):
                        assert low <= float(a) <= float(b) <= high, row
                        checked += 1
    assert checked > 0


def test_every_p_value_has_its_adjusted_value_beside_it():
    for header, rows in tables():
        if "p" in header:
            raw, adjusted = header.index("p"), header.index("p adjusted")
            for row in rows:
                assert (row[raw] == "-") == (row[adjusted] == "-"), row
    prose = [line for line in REPORT.splitlines() if not line.startswith("|")]
    for line in prose:
        for match in re.finditer(r"\bp ?= ?[\d.]", line):
            before = line[max(0, match.start() - 14):match.start()]
            assert "adjusted" in before or "TOST" in before, line


def test_no_chosen_setting_sits_on_the_edge_of_its_grid():
    flagged = [row[0] for header, rows in tables() if "variant" in header for row in rows
               if "(grid edge)" in " ".join(row)]
    assert flagged == []


def test_every_equivalence_states_its_margin():
    verdicts = [line for line in REPORT.splitlines() if line.startswith("- ")]
    assert any("equivalent within ±" in line for line in verdicts)
    for line in verdicts:
        for match in re.finditer(r"equivalent", line):
            tail = line[match.start():match.start() + 40]
            if "| equivalent" in line[max(0, match.start() - 2):match.end()]:
                continue  # a table cell: the margin is stated above the tables
            assert "within ±" in tail, line


def test_the_concept_table_has_a_row_for_every_concept_and_says_only_what_its_test_supports():
    import yaml

    concepts = yaml.safe_load((REPO / "params.yaml").read_text())["report"]["concepts"]
    (header, rows), = [(h, r) for h, r in tables() if h and h[0] == "concept"]
    assert [c["concept"] for c in concepts] == list(dict.fromkeys(row[0] for row in rows))
    effect, verdict = header.index("effect on the endpoint [paired 95%]"), header.index("verdict")
    power = header.index("power at the observed effect")
    assert header.index("endpoint") == 2 and header.index("p (Holm, concept rows)") == effect + 1 == power - 1
    reference = header.index("cure vs a healthy net (test metric, exploratory)")
    params = yaml.safe_load((REPO / "params.yaml").read_text())["report"]["studies"]
    declared = {row["concept"] for row in concepts if row["shows"] in params.get(row["study"], {}).get("references", {})}
    assert declared and {row[0] for row in rows if row[reference] != "-"} == declared
    for row in rows:
        if row[0] in declared:
            assert re.match(r"(reaches|falls short|unclear) `[a-z0-9_/]+` \(", row[reference]), row
        assert re.match(r"(shown|not shown|not resolved with \d+ seeds|not resolved: |not tested: |better|worse|"
                        r"equivalent within ±|disagrees with the paper: |descriptive \(no test\))", row[verdict]), row
        if row[verdict].startswith(("shown", "better", "worse", "equivalent", "disagrees")) and row[power] != "-":
            assert float(row[power]) >= 0.9, row  # a verdict a rerun would likely repeat
        bounds = INTERVAL.findall(row[effect])
        if row[verdict].startswith(("shown", "better", "worse")) and bounds and "n/a" not in bounds[0]:
            low, high = map(float, bounds[0])
            if "slope" not in row[3] + row[4]:  # a slope's interval holds a prediction, not zero
                assert low > 0 or high < 0, row


def test_every_study_section_states_its_training_and_validation_rows_against_their_budgets():
    import yaml

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    studies, defaults = raw["studies"], raw["defaults"]
    sections = re.split(r"^## \d+\. ", REPORT, flags=re.M)[2:]  # after the header and Foundations
    assert len(sections) == len(studies)
    for (name, spec), section in zip(studies.items(), sections):
        budget = spec["set"].get("train_rows")
        match = re.search(r"^Training rows: ([\d,]+)(?: to ([\d,]+))? of `(\w+)` \((budget: ([\d,]+) rows|no budget)",
                          section, flags=re.M)
        assert match, name
        assert match.group(3) == spec["dataset"]
        if budget:
            assert int(match.group(5).replace(",", "")) == budget
            assert int((match.group(2) or match.group(1)).replace(",", "")) <= budget
        val_budget = spec["set"].get("val_rows", defaults["val_rows"])
        curve = re.search(r"Validation curves per epoch, and the epochs to target read off them: (?:([\d,]+) of |all )"
                          r"([\d,]+) validation rows \((?:budget: ([\d,]+) rows|no budget)", section)
        assert curve, name
        split = int(curve.group(2).replace(",", ""))
        assert int((curve.group(3) or "0").replace(",", "")) == (val_budget or 0)
        if curve.group(1):  # a cut: exactly the budget, and less than the split
            assert int(curve.group(1).replace(",", "")) == val_budget < split
        else:
            assert not val_budget or val_budget >= split
