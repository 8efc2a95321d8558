"""Every stage module answers --help with what it reads and writes, without loading TensorFlow."""
from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO, run

pytestmark = pytest.mark.e2e

STAGES = ("validate", "download", "preprocess", "synthesize", "foundations", "train", "evaluate", "report")


@pytest.mark.parametrize("stage", STAGES)
def test_stage_help_says_what_it_reads_and_writes(stage):
    code = (f"import sys, runpy; sys.argv = ['{stage}', '--help']\n"
            f"try:\n    runpy.run_module('stages.{stage}', run_name='__main__')\n"
            "except SystemExit as done:\n    print('tensorflow' in sys.modules, done.code)")
    result = run([sys.executable, "-c", code], REPO)
    assert result.stdout.strip().splitlines()[-1] == "False 0", result.stderr
    text = " ".join(result.stdout.split())
    assert "Reads" in text and "Writes" in text
