"""TensorFlow process settings for training: deterministic ops, and thread pools sized to the work."""
from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

# Below this many multiply-adds per training step, one thread beats TensorFlow's default pools: handing
# each small op between threads costs more than the op (measured on 2 cores: digits 3x128 at batch 32
# runs ~1.8x faster on one thread; 784-1024-1024 at batch 512 runs ~1.7x slower).
SMALL_STEP_MACS = 15_000_000


def step_macs(widths: Sequence[int], batch_size: int) -> int:
    """Multiply-adds of one forward pass of a dense net with these layer widths (inputs first)."""
    return batch_size * sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def configure(macs_per_step: int) -> None:
    """Turn on op determinism and pick the thread count (1, or TensorFlow's default) for this step size.

    Threads can only be set before TensorFlow's runtime starts (the first tensor); a process that already
    ran TensorFlow keeps its pools, which changes speed only: results are the same either way."""
    tf.config.experimental.enable_op_determinism()
    threads = 1 if macs_per_step < SMALL_STEP_MACS else 0  # 0: TensorFlow's default
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass
