"""Forward pass and backpropagation by the chain rule, from scratch in NumPy: the reference the engine is checked against.

Shapes: x (batch, inputs); each layer (W (inputs, units), b (units,)); targets (batch, outputs).
Losses are averaged the way Keras averages them: over output units, then over the batch.
"""
from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # tanh form: no overflow for large |z|


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# name -> (f(z, slope), f'(z, slope)); `slope` is Leaky ReLU's negative slope, unused by the others.
ACTIVATIONS = {
    "sigmoid": (lambda z, slope: sigmoid(z), lambda z, slope: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (lambda z, slope: np.tanh(z), lambda z, slope: 1 - np.tanh(z) ** 2),
    "relu": (lambda z, slope: np.maximum(z, 0), lambda z, slope: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z, slope: np.where(z > 0, z, slope * z), lambda z, slope: np.where(z > 0, 1.0, slope)),
}


def activate(name: str, z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Apply a hidden activation by its Keras name."""
    return ACTIVATIONS[name][0](z, slope)


def forward(layers: list, x: np.ndarray, activation: str, slope: float = 0.01) -> tuple[np.ndarray, list]:
    """Logits of the last layer, and the (input, pre-activation) pairs backprop needs."""
    cache, h = [], x
    for index, (w, b) in enumerate(layers):
        z = h @ w + b  # (batch, units)
        cache.append((h, z))
        h = z if index == len(layers) - 1 else activate(activation, z, slope)
    return h, cache


def output_of(logits: np.ndarray, head: str) -> np.ndarray:
    """The network's output from its logits: softmax, sigmoid or identity (linear)."""
    return {"softmax": softmax, "sigmoid": sigmoid, "linear": lambda z: z}[head](logits)


def loss_and_logit_grad(loss: str, logits: np.ndarray, target: np.ndarray, head: str,
                        delta: float = 1.0) -> tuple[float, np.ndarray]:
    """The loss and dLoss/dlogits (batch, outputs)."""
    n, units = logits.shape
    if loss == "categorical_crossentropy":  # softmax and cross-entropy fold into p - y
        p = softmax(logits)
        return float(-np.sum(target * np.log(p)) / n), (p - target) / n
    if loss == "binary_crossentropy":  # likewise for sigmoid: p - y
        z = logits
        value = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        return float(value.mean()), (sigmoid(z) - target) / (n * units)
    out = output_of(logits, head)
    error = out - target
    if loss == "mse":
        value, d_out = error ** 2, 2 * error
    elif loss == "mae":
        value, d_out = np.abs(error), np.sign(error)
    elif loss == "huber":
        small = np.abs(error) <= delta
        value = np.where(small, 0.5 * error ** 2, delta * np.abs(error) - 0.5 * delta ** 2)
        d_out = np.where(small, error, delta * np.sign(error))
    else:
        raise ValueError(f"unknown loss {loss!r}")
    d_out = d_out / (n * units)
    return float(value.mean()), _through_output(d_out, out, head)


def _through_output(d_out: np.ndarray, out: np.ndarray, head: str) -> np.ndarray:
    """Chain rule through the output activation: d_out -> d_logits."""
    if head == "sigmoid":
        return d_out * out * (1 - out)
    if head == "softmax":  # Jacobian-vector product of softmax: s * (v - <v, s>)
        return out * (d_out - np.sum(d_out * out, axis=1, keepdims=True))
    return d_out


def backward(layers: list, cache: list, d_logits: np.ndarray, activation: str, slope: float = 0.01) -> list:
    """Gradients [(dW, db), ...] by the chain rule, from the last layer back to the first."""
    grads, delta = [], d_logits  # delta: dLoss/dz of the current layer, (batch, units)
    for index in reversed(range(len(layers))):
        h, _ = cache[index]
        grads.append((h.T @ delta, delta.sum(axis=0)))
        if index:
            _, z_below = cache[index - 1]
            delta = (delta @ layers[index][0].T) * ACTIVATIONS[activation][1](z_below, slope)
    return grads[::-1]


def loss_and_gradients(layers: list, x: np.ndarray, target: np.ndarray, *, activation: str, loss: str,
                       head: str, slope: float = 0.01, delta: float = 1.0) -> tuple[float, list]:
    """One forward and one backward pass: the loss and every parameter's gradient."""
    logits, cache = forward(layers, x, activation, slope)
    value, d_logits = loss_and_logit_grad(loss, logits, target, head, delta)
    return value, backward(layers, cache, d_logits, activation, slope)


def numerical_gradients(layers: list, x: np.ndarray, target: np.ndarray, eps: float = 1e-6, **kw) -> list:
    """Central finite differences of the loss for every parameter (slow; for checking only)."""
    grads = []
    for w, b in layers:
        pair = []
        for param in (w, b):
            grad = np.zeros_like(param)
            for i in np.ndindex(param.shape):
                saved = param[i]
                param[i] = saved + eps
                up = loss_and_gradients(layers, x, target, **kw)[0]
                param[i] = saved - eps
                down = loss_and_gradients(layers, x, target, **kw)[0]
                param[i] = saved
                grad[i] = (up - down) / (2 * eps)
            pair.append(grad)
        grads.append(tuple(pair))
    return grads
