"""Developer tools (benchmark, pipeline timing, offline plot template); nothing imports them."""
