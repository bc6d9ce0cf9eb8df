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
- The conventions are those of ``torch.optim`` (momentum with dampening 0,
  where eps goes, bias correction, the first L-BFGS step), so that an
  optimizer built with the same hyperparameters as its torch counterpart
  produces the same parameters after every step. They are spelled out in each
  class's docstring.

Second-order methods:

- ``Newton.step(grads, hessians)`` also takes the Hessian of each parameter.
- ``LBFGS`` treats all parameters as one flat vector (the concatenation of
  ``p.ravel()`` in the order of ``params``' keys) and builds its curvature
  estimate from the gradients it sees; ``lbfgs_direction`` is its two-loop
  recursion.
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
    """Plain gradient descent: p <- p - lr * g (torch.optim.SGD with momentum 0).

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
        # BEGIN SOLUTION hint: GD: p -= lr * g for every key
        for k, p in self.params.items():
            p -= self.lr * grads[k]
        # END SOLUTION


class Momentum(Optimizer):
    """The generalized delta rule: gradient descent with momentum.

    Convention (torch.optim.SGD with momentum=mu, dampening=0, nesterov=False),
    for each parameter p with gradient g and velocity v (zeros at the start):

        v <- mu * v + g
        p <- p - lr * v

    (This is the delta rule dw(t) = -lr * g(t) + mu * dw(t-1) with dw = -lr * v.)

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - momentum: float in [0, 1), mu
    """

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum
        # BEGIN SOLUTION hint: Momentum: one velocity array per parameter, zeros at the start
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One momentum step (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: Momentum: v = momentum * v + g, then p -= lr * v
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += grads[k]
            p -= self.lr * v
        # END SOLUTION


class AdaGrad(Optimizer):
    """AdaGrad (torch.optim.Adagrad with lr_decay=0, initial_accumulator_value=0).

    For each parameter p with gradient g and accumulator G (zeros at the start):

        G <- G + g * g
        p <- p - lr * g / (sqrt(G) + eps)          # eps OUTSIDE the square root

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - eps: float, added to sqrt(G)
    """

    def __init__(self, params, lr=0.01, eps=1e-10):
        super().__init__(params, lr)
        self.eps = eps
        # BEGIN SOLUTION hint: AdaGrad: one accumulator of squared gradients per parameter, zeros
        self.sum_sq = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One AdaGrad step (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: AdaGrad: accumulate g * g; eps goes outside the square root
        for k, p in self.params.items():
            g = grads[k]
            self.sum_sq[k] += g * g
            p -= self.lr * g / (np.sqrt(self.sum_sq[k]) + self.eps)
        # END SOLUTION


class RMSProp(Optimizer):
    """RMSProp (torch.optim.RMSprop, not centered, momentum 0).

    For each parameter p with gradient g and running average S (zeros at start):

        S <- alpha * S + (1 - alpha) * g * g
        p <- p - lr * g / (sqrt(S) + eps)          # eps OUTSIDE the square root

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - alpha: float in [0, 1), decay of the running average of g**2
    - eps: float, added to sqrt(S)
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, lr)
        self.alpha = alpha
        self.eps = eps
        # BEGIN SOLUTION hint: RMSProp: one running average of g * g per parameter, zeros
        self.square_avg = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One RMSProp step (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: RMSProp: update the running average; eps goes outside the square root
        for k, p in self.params.items():
            g = grads[k]
            s = self.square_avg[k]
            s *= self.alpha
            s += (1 - self.alpha) * g * g
            p -= self.lr * g / (np.sqrt(s) + self.eps)
        # END SOLUTION


class AdaDelta(Optimizer):
    """AdaDelta (torch.optim.Adadelta).

    For each parameter p with gradient g, running average of squared gradients
    S and running average of squared updates U (both zeros at the start):

        S     <- rho * S + (1 - rho) * g * g
        delta  = sqrt(U + eps) / sqrt(S + eps) * g     # eps INSIDE both roots
        U     <- rho * U + (1 - rho) * delta * delta
        p     <- p - lr * delta

    Inputs:
    - params: dict name -> array
    - lr: float, scales delta (1.0 in the original method)
    - rho: float in [0, 1), decay of both running averages
    - eps: float
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6):
        super().__init__(params, lr)
        self.rho = rho
        self.eps = eps
        # BEGIN SOLUTION hint: AdaDelta: running averages of g * g and of delta * delta, zeros
        self.square_avg = {k: np.zeros_like(p) for k, p in params.items()}
        self.acc_delta = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One AdaDelta step (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: AdaDelta: eps goes inside both square roots
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
    """Adam with bias correction (torch.optim.Adam, weight_decay 0, amsgrad False).

    For each parameter p with gradient g, first moment m and second moment v
    (zeros at the start), at step t = 1, 2, ... (one counter, increased once
    per call to step):

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)  # eps OUTSIDE the root, after correction

    Inputs:
    - params: dict name -> array
    - lr: float, learning rate
    - beta1, beta2: floats in [0, 1), decay rates of the two moments
    - eps: float, added to sqrt(v_hat)
    """

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        # BEGIN SOLUTION hint: Adam: two moments per parameter and one step counter t
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        # END SOLUTION

    def step(self, grads):
        """One Adam step (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: Adam: increase t once per step; bias-correct both moments
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
    """Damped Newton's method, one parameter at a time.

    For each parameter p (any shape, n = p.size entries) with gradient g and
    Hessian H (n, n) of the loss with respect to p.ravel():

        d = solve(H + damping * I, g.ravel())      # never form the inverse
        p <- p - lr * d.reshape(p.shape)

    With damping = 0 this is the plain Newton step, which jumps to the
    stationary point of the local quadratic model: a saddle or a maximum where
    H is not positive definite. A damping larger than minus the smallest
    eigenvalue of H makes H + damping * I positive definite, so that -d is a
    descent direction.

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
        # BEGIN SOLUTION hint: Newton: solve (H + damping * I) d = g.ravel(), reshape d
        for k, p in self.params.items():
            H = np.asarray(hessians[k], dtype=np.float64)
            A = H + self.damping * np.eye(H.shape[0])
            d = np.linalg.solve(A, np.ravel(grads[k]))
            p -= self.lr * d.reshape(p.shape)
        # END SOLUTION


def lbfgs_direction(grad, s_history, y_history):
    """L-BFGS two-loop recursion: the search direction -H g.

    H approximates the inverse Hessian from the m most recent pairs
    (s_i, y_i), oldest first: s_i is a step x_{i+1} - x_i and y_i the change of
    gradient g_{i+1} - g_i. The initial matrix is H0 = gamma * I with
    gamma = (s·y) / (y·y) of the NEWEST pair, and gamma = 1 when there is no
    pair (then the direction is -grad). With rho_i = 1 / (y_i·s_i):

        q = grad
        for i = m-1 down to 0:  alpha_i = rho_i * (s_i·q);  q = q - alpha_i * y_i
        r = gamma * q
        for i = 0 up to m-1:    beta = rho_i * (y_i·r);     r = r + (alpha_i - beta) * s_i
        return -r

    Inputs:
    - grad: array (n,), the current gradient
    - s_history: list of m arrays (n,), oldest first (m may be 0)
    - y_history: list of m arrays (n,), matching s_history

    Returns:
    - direction: array (n,), -H grad

    grad and the histories are read, never modified (LBFGS keeps using them).
    """
    # BEGIN SOLUTION hint: two loops, gamma from the newest pair
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
    line search: one call to step is one L-BFGS iteration).

    All parameters form one vector x (the concatenation of p.ravel() in the order
    of params' keys); g is the gradient in the same layout. Each step:

        if this is the first step:
            d = -g
            t = min(1, 1 / sum(|g|)) * lr          # a cautious first step
        else:
            s = t_prev * d_prev                    # the previous step, x - x_prev
            y = g - g_prev
            if y·s > 1e-10:                        # keep only pairs with positive curvature
                append (s, y) to the history, dropping the oldest pair
                when there are more than history_size
            d = lbfgs_direction(g, s_history, y_history)
            t = lr
        x <- x + t * d                             # written back into params, in place
        remember g, d and t for the next step

    Inputs:
    - params: dict name -> array
    - lr: float, step size
    - history_size: int, the maximum number of (s, y) pairs kept
    """

    def __init__(self, params, lr=1.0, history_size=10):
        super().__init__(params, lr)
        self.history_size = history_size
        # BEGIN SOLUTION hint: LBFGS: the (s, y) history and what the next step needs
        self.s_history = []
        self.y_history = []
        self.prev_grad = None
        self.prev_step = None
        # END SOLUTION

    def step(self, grads):
        """One L-BFGS iteration (see the class docstring for the exact rule).

        grads is read, never modified: only params change in place.
        """
        # BEGIN SOLUTION hint: LBFGS: follow the class docstring; lbfgs_direction does the two loops
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
