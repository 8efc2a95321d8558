"""Registries as plain specs, keyed by Keras names: datasets, tasks, losses, optimizers, layers."""
