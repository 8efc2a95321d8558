"""The only TensorFlow: the compiled training engine, the network, diagnostics, fused optimizers, workers."""
