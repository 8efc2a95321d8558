"""Figures, Markdown and verdicts of the generated report."""
