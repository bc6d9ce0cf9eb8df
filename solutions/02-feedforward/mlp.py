"""A fully connected network (multi-layer perceptron) of any depth, numpy only."""

import layers
import numpy as np

# Hidden-layer activations: name -> (forward, backward), from layers.py.
ACTIVATIONS = {
    "relu": (layers.relu_forward, layers.relu_backward),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward),
    "tanh": (layers.tanh_forward, layers.tanh_backward),
}


class MLP:
    """Multi-layer perceptron: (linear -> activation) x (L - 1) -> linear.

    With layer_sizes = [D_0, D_1, ..., D_L] the network has L linear layers;
    layer l (1-based) maps D_{l-1} features to D_l features. The activation is
    applied after every linear layer except the last one: the output layer
    returns raw class scores (logits) of shape (N, C) with C = D_L.

    Parameters live in the dict self.params, with keys "W1", "b1", ..., "WL",
    "bL":
    - self.params["Wl"]: shape (D_{l-1}, D_l)
    - self.params["bl"]: shape (D_l,)

    Initialisation: exactly as handout §4.1 pins it, since the grader
    reproduces it: one np.random.default_rng(seed), the weights W1, ..., WL
    drawn from it in this order as scaled standard normals (the scale is
    weight_scale, or the activation's default of §4.1: He for "relu",
    Xavier/LeCun for "sigmoid" and "tanh"), biases zero, no other random
    numbers drawn. The forward and backward passes are handout §4.2.
    """

    def __init__(self, layer_sizes, activation="relu", weight_scale=None, seed=0):
        """Create the network and initialise its parameters.

        Inputs:
        - layer_sizes: list of ints [D_0, ..., D_L], length >= 2; D_0 is the
          input dimension and D_L the number of classes C
        - activation: "relu", "sigmoid" or "tanh", used on every hidden layer
        - weight_scale: float standard deviation of every weight, or None for
          the activation-dependent default of handout §4.1
        - seed: int, seed of np.random.default_rng used for the weights
        """
        if len(layer_sizes) < 2:
            raise ValueError("layer_sizes needs at least an input and an output size")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        self.layer_sizes = [int(d) for d in layer_sizes]
        self.activation = activation
        self.num_layers = len(self.layer_sizes) - 1
        self.params = {}
        self.caches = None
        # BEGIN SOLUTION hint: §4.1: self.params, every weight and bias with the shape the class docstring gives, drawn as it pins
        rng = np.random.default_rng(seed)
        for k in range(1, self.num_layers + 1):
            fan_in, fan_out = self.layer_sizes[k - 1], self.layer_sizes[k]
            if weight_scale is not None:
                scale = weight_scale
            elif activation == "relu":
                scale = np.sqrt(2.0 / fan_in)
            else:
                scale = np.sqrt(1.0 / fan_in)
            self.params[f"W{k}"] = scale * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{k}"] = np.zeros(fan_out)
        # END SOLUTION

    def forward(self, X):
        """Compute class scores, keeping what backward needs in self.caches.

        Inputs:
        - X: input data, shape (N, D_0)

        Returns:
        - scores: shape (N, C), the output of the last linear layer (no
          activation, no softmax)
        """
        # BEGIN SOLUTION hint: §4.2: the scores (N, C), keeping in self.caches what backward needs
        act_forward, _ = ACTIVATIONS[self.activation]
        caches = []
        h = X
        for k in range(1, self.num_layers + 1):
            h, lin_cache = layers.linear_forward(h, self.params[f"W{k}"], self.params[f"b{k}"])
            act_cache = None
            if k < self.num_layers:
                h, act_cache = act_forward(h)
            caches.append((lin_cache, act_cache))
        self.caches = caches
        scores = h
        # END SOLUTION
        return scores

    def backward(self, dscores):
        """Backpropagate through the network of the most recent forward call.

        Inputs:
        - dscores: gradient of some scalar with respect to the scores returned
          by the last forward call, shape (N, C)

        Returns:
        - grads: dict with the same keys and shapes as self.params, grads[k]
          the gradient with respect to self.params[k]
        """
        # BEGIN SOLUTION hint: §4.2: grads, a dict with the keys and shapes of self.params
        _, act_backward = ACTIVATIONS[self.activation]
        grads = {}
        dh = dscores
        for k in range(self.num_layers, 0, -1):
            lin_cache, act_cache = self.caches[k - 1]
            if k < self.num_layers:
                dh = act_backward(dh, act_cache)
            dh, grads[f"W{k}"], grads[f"b{k}"] = layers.linear_backward(dh, lin_cache)
        # END SOLUTION
        return grads

    def loss(self, X, y):
        """Softmax cross-entropy loss (averaged over the batch) and gradients.

        Inputs:
        - X: input data, shape (N, D_0)
        - y: integer labels, shape (N,), each in 0 .. C-1

        Returns a tuple of:
        - loss: float, layers.softmax_cross_entropy_loss of the scores
        - grads: dict with the same keys and shapes as self.params
        """
        # BEGIN SOLUTION hint: §3.2 and §4.2: the mean loss (a float) and grads, a dict with the keys and shapes of self.params
        scores = self.forward(X)
        loss, dscores = layers.softmax_cross_entropy_loss(scores, y)
        grads = self.backward(dscores)
        # END SOLUTION
        return loss, grads

    def predict(self, X):
        """Predict labels.

        Inputs:
        - X: input data, shape (N, D_0)

        Returns:
        - y_pred: integer array of shape (N,), the index of the largest score
        """
        # BEGIN SOLUTION hint: §4.2: the predicted labels, integers (N,)
        y_pred = np.argmax(self.forward(X), axis=1)
        # END SOLUTION
        return y_pred
