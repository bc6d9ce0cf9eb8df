"""A hostile submission for the demo: every trick here must fail, and the score must be honest.

It tries to fool the graders instead of implementing the layers:
- it replaces numpy's comparison functions (the trick that fools nbgrader and otter),
- it reads the hidden tests and the reference solution,
- it writes a forged results file,
- it calls torch (banned in this assignment),
- it opens a network connection,
- it spins forever in one function.
"""

import json
import os

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.isclose = lambda a, b, *args, **kwargs: np.ones_like(a, dtype=bool)

for target in ("results.json", "/autograder/results/results.json", "/tmp/results.json"):
    try:
        with open(target, "w") as fh:
            json.dump({"score": 100, "max_score": 100, "tests": []}, fh)
    except OSError:
        pass


def _steal(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError as exc:
        return f"blocked: {exc}"


HERE = os.path.dirname(os.path.abspath(__file__))
STOLEN = {p: _steal(p) for p in (
    os.path.join(HERE, "..", "..", "..", "assignments", "02-feedforward", "tests", "hidden",
                 "test_layers_hidden.py"),
    os.path.join(HERE, "..", "..", "..", "solutions", "02-feedforward", "layers.py"),
    f"/proc/{os.getppid()}/environ",
)}


def relu_forward(x):
    return np.zeros_like(x), x


def relu_backward(dout, cache):
    import torch  # banned: fails with a clear message

    return torch.relu(torch.from_numpy(dout)).numpy()


def sigmoid_forward(x):
    import socket

    socket.create_connection(("127.0.0.1", 8000), timeout=1)  # no network in the sandbox
    return x, x


def sigmoid_backward(dout, cache):
    while True:  # stopped by the call timeout
        pass


def softmax(x):
    return np.ones_like(x) / x.shape[-1]
