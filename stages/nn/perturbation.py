"""A stand-in for another CPU: the last bit of every initial weight flipped, for the robustness check only.

Another CPU rounds the last bits of TensorFlow's float results differently, and in a chaotic run that grows like a
new seed. Flipping the lowest mantissa bit of each nonzero initial weight (a change of one unit in the last place,
about 6e-8 of the weight) is such a difference made on purpose, so that one machine can ask which verdicts survive
it (`python -m stages.tools.robustness`). Off unless the environment variable names it; zeros stay zeros, so a net
initialized symmetric stays symmetric, as it would on any CPU.
"""
from __future__ import annotations

import os

import numpy as np

from stages.common.errors import UserError

ENV = "NNF_FLOAT_PERTURBATION"
KINDS = ("init_ulp",)  # the perturbations there are; unset or empty: none


def kind() -> str:
    """The perturbation this process applies ("" for none); an unknown name is a one-line error."""
    name = os.environ.get(ENV, "")
    if name and name not in KINDS:
        raise UserError(f"environment variable {ENV}: {name!r} is not one of: {', '.join(KINDS)} (or unset)")
    return name


def initial_weights(kernel: np.ndarray, name: str) -> np.ndarray:
    """The kernel as initialized, with the perturbation `name` applied ("" leaves it as it is)."""
    if not name:
        return kernel
    kernel = np.ascontiguousarray(kernel, dtype=np.float32)
    flipped = (kernel.view(np.uint32) ^ np.uint32(1)).view(np.float32)  # ±1 unit in the last place
    return np.where(kernel != 0, flipped, kernel)
