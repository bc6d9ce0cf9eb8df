"""Optimizers: update rules that carry state (numpy only).

Every optimizer shares one interface::

    opt = Adam(params, lr=1e-3)     # params: dict name -> float64 ndarray
    for t in range(T):
        grads = ...                 # dict with the same keys and shapes as params
        opt.step(grads)             # updates every params[k] IN PLACE
    opt.params                      # the same dict, now holding the new values

- ``params`` is kept as ``self.params`` and its arrays are updated in place
  (``p -= ...``), so that a model sharing the same arrays sees the new values.
  That is the one exception to the rule of this assignment that functions do
  not modify their inputs: ``step`` never changes ``grads`` or ``hessians``.
- State (velocities, accumulators, moments, step counter) is kept per key of
  ``params``, in arrays shaped like the parameter.
- The conventions are those of ``torch.optim``, so that an optimizer built
  with the same hyperparameters as its torch counterpart produces the same
  parameters after every step. Each class's docstring names its counterpart;
  the handout gives the mathematics of each (§1 first-order methods, §2
  second-order methods).

Second-order methods:

- ``Newton.step(grads, hessians)`` also takes the Hessian of each parameter.
- ``LBFGS`` treats all parameters as one flat vector (the concatenation of
  ``p.ravel()`` in the order of ``params``' keys) and builds its curvature
  estimate from the gradients it sees; ``lbfgs_direction`` computes its
  search direction.
"""

import numpy as np


class Optimizer:
    """Base class of every optimizer.

    Inputs:
    - params: dict mapping a name to a float64 array of any shape; updated in place
    - lr: float, learning rate (step size)

    Attributes:
    - params: the dict given to the constructor (the same object)
    - lr: the learning rate
    """

    def __init__(self, params, lr):
        self.params = params
        self.lr = lr

    def step(self, grads):
        """Update every parameter in place, using grads (dict, same keys and shapes).

        grads is read, never modified: only params change in place.
        """
        raise NotImplementedError("subclasses implement step")


class GD(Optimizer):
    """Plain gradient descent (torch.optim.SGD with momentum 0), handout §1.1.

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    """

    def __init__(self, params, lr):
        super().__init__(params, lr)

    def step(self, grads):
        """One gradient step.

        Inputs:
        - grads: dict name -> array shaped like params[name]; read, never modified
        """
        # BEGIN SOLUTION hint: §1.1: every params[k] updated in place by one step
        for k, p in self.params.items():
            p -= self.lr * grads[k]
        # END SOLUTION


class Momentum(Optimizer):
    """The generalized delta rule: gradient descent with momentum (handout §1.2).

    As torch.optim.SGD with momentum=momentum, dampening=0, nesterov=False; the
    velocity of each parameter starts at zero.

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - momentum: float in [0, 1)
    """

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum
        # BEGIN SOLUTION hint: §1.2: the velocity state, one zero array per parameter, shaped like it
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One momentum step (handout §1.2).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §1.2: every params[k] and its velocity updated in place by one step
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += grads[k]
            p -= self.lr * v
        # END SOLUTION


class AdaGrad(Optimizer):
    """AdaGrad (torch.optim.Adagrad with lr_decay=0, initial_accumulator_value=0), handout §1.3.

    The accumulator of each parameter starts at zero.

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - eps: float, the stabilizing constant, placed as §1.3 says
    """

    def __init__(self, params, lr=0.01, eps=1e-10):
        super().__init__(params, lr)
        self.eps = eps
        # BEGIN SOLUTION hint: §1.3: the accumulator state, one zero array per parameter, shaped like it
        self.sum_sq = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One AdaGrad step (handout §1.3).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §1.3: every params[k] and its accumulator updated in place by one step
        for k, p in self.params.items():
            g = grads[k]
            self.sum_sq[k] += g * g
            p -= self.lr * g / (np.sqrt(self.sum_sq[k]) + self.eps)
        # END SOLUTION


class RMSProp(Optimizer):
    """RMSProp (torch.optim.RMSprop, not centered, momentum 0), handout §1.4.

    The running average of each parameter starts at zero.

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - alpha: float in [0, 1), decay of the running average
    - eps: float, the stabilizing constant, placed as §1.4 says
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, lr)
        self.alpha = alpha
        self.eps = eps
        # BEGIN SOLUTION hint: §1.4: the running average state, one zero array per parameter, shaped like it
        self.square_avg = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One RMSProp step (handout §1.4).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §1.4: every params[k] and its running average updated in place by one step
        for k, p in self.params.items():
            g = grads[k]
            s = self.square_avg[k]
            s *= self.alpha
            s += (1 - self.alpha) * g * g
            p -= self.lr * g / (np.sqrt(s) + self.eps)
        # END SOLUTION


class AdaDelta(Optimizer):
    """AdaDelta (torch.optim.Adadelta, weight_decay 0), handout §1.5.

    Both running averages of each parameter (of the squared gradients and of
    the squared updates) start at zero.

    Inputs:
    - params: dict name -> array
    - lr: float, scales the update (1.0 in the original method)
    - rho: float in [0, 1), decay of both running averages
    - eps: float, the stabilizing constant, placed as §1.5 says
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6):
        super().__init__(params, lr)
        self.rho = rho
        self.eps = eps
        # BEGIN SOLUTION hint: §1.5: the two running averages, zero arrays shaped like each parameter
        self.square_avg = {k: np.zeros_like(p) for k, p in params.items()}
        self.acc_delta = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One AdaDelta step (handout §1.5).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §1.5: every params[k] and both its running averages updated in place by one step
        rho, eps = self.rho, self.eps
        for k, p in self.params.items():
            g = grads[k]
            s, u = self.square_avg[k], self.acc_delta[k]
            s *= rho
            s += (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta
            p -= self.lr * delta
        # END SOLUTION


class Adam(Optimizer):
    """Adam (torch.optim.Adam, weight_decay 0, amsgrad False), handout §1.6.

    Both moments of each parameter start at zero; the step counter t starts at
    0, is shared by all parameters and counts the calls to step.

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - beta1, beta2: floats in [0, 1), decay rates of the two moments
    - eps: float, the stabilizing constant, placed as §1.6 says
    """

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        # BEGIN SOLUTION hint: §1.6: the two moments, zero arrays shaped like each parameter, and the step counter
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One Adam step (handout §1.6).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §1.6: every params[k] and its moments updated in place by one step
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for k, p in self.params.items():
            g = grads[k]
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat = m / (1 - b1**self.t)
            v_hat = v / (1 - b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION


class Newton(Optimizer):
    """Damped Newton's method, one parameter at a time (handout §2.1).

    Each parameter p (any shape, n = p.size entries) takes its own step, from
    its gradient and the (n, n) Hessian of the loss with respect to p.ravel().
    With damping 0 this is the plain Newton step.

    Inputs:
    - params: dict name -> array
    - lr: float, step size (1.0 for the full Newton step)
    - damping: float >= 0, added to the diagonal of every Hessian
    """

    def __init__(self, params, lr=1.0, damping=0.0):
        super().__init__(params, lr)
        self.damping = damping

    def step(self, grads, hessians):
        """One damped Newton step.

        Inputs:
        - grads: dict name -> array shaped like params[name]
        - hessians: dict name -> array (n, n), n = params[name].size, the Hessian
          with respect to params[name].ravel()

        grads and hessians are read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §2.1: every params[k] updated in place by one damped Newton step
        for k, p in self.params.items():
            H = np.asarray(hessians[k], dtype=np.float64)
            A = H + self.damping * np.eye(H.shape[0])
            d = np.linalg.solve(A, np.ravel(grads[k]))
            p -= self.lr * d.reshape(p.shape)
        # END SOLUTION


def lbfgs_direction(grad, s_history, y_history):
    """The L-BFGS search direction: minus the inverse-Hessian estimate times grad (handout §2.2).

    The estimate is built from the m most recent pairs (s_i, y_i), oldest
    first: s_i is a step between two iterates and y_i the change of gradient
    over that step. With no pair (m = 0) the direction is minus grad.

    Inputs:
    - grad: array (n,), the current gradient
    - s_history: list of m arrays (n,), oldest first (m may be 0)
    - y_history: list of m arrays (n,), matching s_history

    Returns:
    - direction: array (n,)

    grad and the histories are read, never modified (LBFGS keeps using them).
    """
    # BEGIN SOLUTION hint: §2.2: the search direction (n,) from grad and the histories
    q = np.array(grad, dtype=np.float64)
    m = len(s_history)
    if m == 0:
        return -q
    rho = [1.0 / np.dot(y_history[i], s_history[i]) for i in range(m)]
    alpha = [0.0] * m
    for i in range(m - 1, -1, -1):
        alpha[i] = rho[i] * np.dot(s_history[i], q)
        q = q - alpha[i] * y_history[i]
    s, y = s_history[-1], y_history[-1]
    r = (np.dot(s, y) / np.dot(y, y)) * q
    for i in range(m):
        beta = rho[i] * np.dot(y_history[i], r)
        r = r + (alpha[i] - beta) * s_history[i]
    return -r
    # END SOLUTION


class LBFGS(Optimizer):
    """L-BFGS with a fixed step size (torch.optim.LBFGS with max_iter=1 and no
    line search: one call to step is one L-BFGS iteration), handout §2.3.

    All parameters form one vector x (the concatenation of p.ravel() in the order
    of params' keys), and the gradient is flattened in the same layout; the new
    x is written back into params, in place. The step size of the first
    iteration, the pairs kept in the history and the direction are those of §2.3.

    Inputs:
    - params: dict name -> array
    - lr: float, step size
    - history_size: int, the maximum number of (s, y) pairs kept
    """

    def __init__(self, params, lr=1.0, history_size=10):
        super().__init__(params, lr)
        self.history_size = history_size
        # BEGIN SOLUTION hint: §2.3: the empty (s, y) history and what the next step needs from this one
        self.s_history = []
        self.y_history = []
        self.prev_grad = None
        self.prev_step = None
        # END SOLUTION

    def step(self, grads):
        """One L-BFGS iteration (handout §2.3).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: §2.3: every params[k] updated in place by one L-BFGS iteration, and the history extended
        g = np.concatenate([np.ravel(grads[k]) for k in self.params]).astype(np.float64)
        if self.prev_grad is None:
            d = -g
            t = min(1.0, 1.0 / np.sum(np.abs(g))) * self.lr
        else:
            s = self.prev_step
            y = g - self.prev_grad
            if np.dot(y, s) > 1e-10:
                self.s_history.append(s)
                self.y_history.append(y)
                if len(self.s_history) > self.history_size:
                    self.s_history.pop(0)
                    self.y_history.pop(0)
            d = lbfgs_direction(g, self.s_history, self.y_history)
            t = self.lr
        step = t * d
        offset = 0
        for p in self.params.values():
            p += step[offset : offset + p.size].reshape(p.shape)
            offset += p.size
        self.prev_grad = g
        self.prev_step = step
        # END SOLUTION
