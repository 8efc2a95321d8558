"""The opening study's library: its small models summarized over seeds, and probes of what hidden layers learn."""
