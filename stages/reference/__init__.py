"""NumPy only: the backprop reference, the perceptron, single-neuron fits, linear probes."""
