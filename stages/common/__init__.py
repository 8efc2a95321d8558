"""Shared plumbing that imports nothing else of `stages`: atomic writes, errors, registries, progress, output."""
