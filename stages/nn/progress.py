"""Progress of a variant's trainings: a bar with ETA on a terminal; elsewhere one line per finished run, and a
heartbeat line while a long run is still going."""
from __future__ import annotations

import sys
import time

HEARTBEAT_SECONDS = 30.0  # off a terminal, the longest a log stays silent while runs train


class Progress:
    """Counts epochs across all runs of a variant."""

    def __init__(self, label: str, total_epochs: int, total_runs: int = 0):
        self.label = label
        self.total_runs = total_runs
        self.finished_runs = 0
        self.started = self.last_line = time.monotonic()
        from tqdm import tqdm

        # disable=None: tqdm draws the bar only on a terminal; elsewhere one line per finished run is printed.
        self.bar = tqdm(total=total_epochs, desc=label, unit="epoch", leave=False, file=sys.stderr, disable=None)

    def advance(self) -> None:
        """One more epoch trained (in this process)."""
        self.bar.update(1)
        self.still_training()

    def still_training(self) -> None:
        """Off a terminal, print a heartbeat when nothing was printed for HEARTBEAT_SECONDS."""
        now = time.monotonic()
        if not self.bar.disable or now - self.last_line < HEARTBEAT_SECONDS:
            return
        runs = f"{self.finished_runs}/{self.total_runs} runs" if self.total_runs else f"{self.finished_runs} runs"
        self._line(f"{self.label}: still training, {runs} done, {now - self.started:.0f} s so far")

    def finished(self, run, metric: str, epochs: int) -> None:
        """Report one finished run; on a terminal the bar skips the epochs a diverged run did not train."""
        self.finished_runs += 1
        trained = run.history[-1]["epoch"]
        if not self.bar.disable:
            self.bar.update(epochs - trained)
            return
        setting = " ".join(f"{k}={v:g}" for k, v in run.point.items()) or "-"
        result = (f"diverged at epoch {run.final['diverged_epoch']}" if run.final["diverged"]
                  else f"val {metric} {run.final['val_metric']:.4f}")
        self._line(f"{self.label}: {setting} seed={run.seed}: {result} ({trained} epochs, {run.seconds:.1f} s)")

    def close(self) -> None:
        self.bar.close()

    def _line(self, text: str) -> None:
        print(text, flush=True)
        self.last_line = time.monotonic()
