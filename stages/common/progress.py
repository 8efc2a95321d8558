"""Progress of a variant's trainings: a bar with ETA on a terminal, one line per finished run elsewhere."""
from __future__ import annotations

import sys


class Progress:
    """Counts epochs across all runs of a variant."""

    def __init__(self, label: str, total_epochs: int):
        self.label = label
        from tqdm import tqdm

        # disable=None: tqdm draws the bar only on a terminal; elsewhere one line per finished run is printed.
        self.bar = tqdm(total=total_epochs, desc=label, unit="epoch", leave=False, file=sys.stderr, disable=None)

    def advance(self) -> None:
        self.bar.update(1)

    def finished(self, run, metric: str, epochs: int) -> None:
        """Report one finished run; on a terminal the bar skips the epochs a diverged run did not train."""
        trained = run.history[-1]["epoch"]
        if not self.bar.disable:
            self.bar.update(epochs - trained)
            return
        setting = " ".join(f"{k}={v:g}" for k, v in run.point.items()) or "-"
        result = (f"diverged at epoch {run.final['diverged_epoch']}" if run.final["diverged"]
                  else f"val {metric} {run.final['val_metric']:.4f}")
        print(f"{self.label}: {setting} seed={run.seed}: {result} ({trained} epochs, {run.seconds:.1f} s)",
              flush=True)

    def close(self) -> None:
        self.bar.close()
