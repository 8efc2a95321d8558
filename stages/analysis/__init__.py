"""Statistics over seeds and study summaries (no TensorFlow)."""
