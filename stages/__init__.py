"""Deep-learning fundamentals as a reproducible DVC pipeline: one module per stage plus shared libraries."""
