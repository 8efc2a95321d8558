"""A condition's runs spread over forked worker processes: small nets use one core each, so a variant uses all."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence

import tensorflow as tf

from stages.nn import runtime
from stages.config import TrainConfig
from stages.common.errors import UserError

WORKERS_ENV = "TRAIN_WORKERS"  # overrides the worker count (1: train in the stage's own process)

WAIT_SECONDS = 1.0  # how often the parent, waiting on its workers, may report that it is still training
_worker: dict = {}  # per worker process: the condition and, after its first run, its engine


def worker_count(step_macs: int, runs: int) -> int:
    """Processes to train `runs` runs with: one per core when a step is small (TensorFlow's own threads do
    not help there: handing tiny ops between threads costs more than the ops), else one, which then gets
    TensorFlow's thread pools. A run's results do not depend on this."""
    requested = os.environ.get(WORKERS_ENV, "").strip()
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise UserError(f"environment variable {WORKERS_ENV}={requested!r}: allowed: a whole number >= 1")
        return min(int(requested), runs)
    # Fork is safe with TensorFlow imported but not started on Linux; macOS system libraries are not fork-safe.
    # A GPU serves one process: each TensorFlow process would claim all of its memory.
    if (step_macs >= runtime.SMALL_STEP_MACS or not sys.platform.startswith("linux")
            or tf.config.list_physical_devices("GPU")):
        return 1
    return max(1, min(os.cpu_count() or 1, runs))


def forkable() -> bool:
    """True while TensorFlow's runtime has not started in this process: forking after it would copy its
    thread pools' locks in whatever state they are."""
    from tensorflow.python.eager import context

    return not context.context_safe() or context.context()._context_handle is None


def train_runs(cfg: TrainConfig, arrays, jobs: Sequence[tuple[dict, int]], workers: int,
               on_epoch: Callable | None = None, on_run: Callable | None = None,
               on_wait: Callable | None = None) -> tuple[list, int]:
    """Every (sweep point, seed) of `jobs` trained from scratch: the runs in job order and the processes used.
    With one worker, or once TensorFlow has started here, the runs train in this process. `on_epoch` is
    called per trained epoch (from workers: when their run arrives), `on_run` per finished run, `on_wait`
    every WAIT_SECONDS while workers train and nothing arrives."""
    if workers > 1 and forkable():
        results = _in_workers(cfg, arrays, jobs, workers, on_epoch, on_run, on_wait)
    else:
        workers, results = 1, _in_process(cfg, arrays, jobs, on_epoch, on_run)
    return [run for _, run in sorted(results, key=lambda result: result[0])], workers


def _in_process(cfg, arrays, jobs, on_epoch, on_run) -> list:
    from stages.nn.engine import new_engine

    trainer, results = new_engine(cfg, arrays), []
    for index, (point, seed) in enumerate(jobs):
        run = trainer.run(point, seed, on_epoch=on_epoch)
        if on_run:
            on_run(run)
        results.append((index, run))
    return results


def _in_workers(cfg, arrays, jobs, workers, on_epoch, on_run, on_wait) -> list:
    # fork: the children share the parent's imported modules and arrays instead of importing TensorFlow again
    # (~3.5 s each); the parent has not started TensorFlow's runtime, so no thread's lock is copied mid-use.
    context = multiprocessing.get_context("fork")
    results = []
    with context.Pool(workers, initializer=_start_worker, initargs=(cfg, arrays)) as pool:
        arriving = pool.imap_unordered(_train_one, list(enumerate(jobs)))
        for _ in jobs:
            index, run = _next_result(arriving, on_wait)
            if on_epoch:
                for epoch in range(1, run.history[-1]["epoch"] + 1):
                    on_epoch(epoch)
            if on_run:
                on_run(run)
            results.append((index, run))
        pool.close()  # let the workers exit; leaving the block early (an error, a signal) terminates them instead
        pool.join()
    return results


def _next_result(arriving, on_wait: Callable | None):
    # The wait polls instead of blocking so that the parent itself can say it is alive: a helper thread would
    # have to exist before the fork, and forking a threaded process is what the fork guard avoids.
    while True:
        try:
            return arriving.next(timeout=WAIT_SECONDS)
        except multiprocessing.TimeoutError:
            if on_wait:
                on_wait()


def _start_worker(cfg: TrainConfig, arrays) -> None:
    # The parent handles interrupts and ends its workers; they must not unwind (and print) on their own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker.clear()
    _worker.update(cfg=cfg, arrays=arrays)


def _train_one(job: tuple[int, tuple[dict, int]]) -> tuple[int, object]:
    from stages.nn.engine import new_engine

    index, (point, seed) = job
    if "engine" not in _worker:  # one engine (one trace) per worker, reused for all of its runs
        _worker["engine"] = new_engine(_worker["cfg"], _worker["arrays"])
    return index, _worker["engine"].run(point, seed)
