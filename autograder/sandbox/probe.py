"""Remote autograd probe: run forward and backward on the submission's torch code.

Runs in the worker. The grader sends inputs and an upstream gradient and gets
back plain tensors: the outputs, the gradients of the inputs, and the
gradients of the named parameters. Nothing of the autograd graph crosses.
"""

from __future__ import annotations

from typing import Any

import torch


def autograd_probe(
    target: Any,
    inputs: list,
    grad_output: Any = None,
    params: list[str] | bool | None = None,
    method: str | None = None,
) -> dict:
    """Forward ``target(*inputs)`` (or ``target.<method>(*inputs)``), then backward.

    Args:
        target: a callable or ``nn.Module`` of the submission.
        inputs: tensors (floating ones get ``requires_grad``) or other values.
        grad_output: upstream gradient, same structure as the output; ``None``
            (for the whole output or one element of a tuple) means ones, i.e. that
            output's sum is differentiated. Pass zeros for outputs that must not count.
        params: names of ``target.named_parameters()`` whose gradients to return;
            ``True`` for all of them; ``None`` for none.

    Returns:
        ``{"output": ..., "input_grads": [tensor | None, ...], "param_grads": {name: tensor | None}}``
    """
    prepared = []
    for value in inputs:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            value = value.detach().clone().requires_grad_(True)
        prepared.append(value)
    named = dict(target.named_parameters()) if hasattr(target, "named_parameters") else {}
    if params is True:
        wanted = list(named)
    else:
        wanted = list(params or [])
    for name in wanted:
        if name not in named:
            raise KeyError(f"the model has no parameter named {name!r}")
        if named[name].grad is not None:
            named[name].grad = None
    fn = getattr(target, method) if method else target
    output = fn(*prepared)
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    grads = grad_output if isinstance(grad_output, (tuple, list)) else (grad_output,)
    tensors, upstream = [], []
    for out, grad in zip(outputs, grads, strict=False):
        if isinstance(out, torch.Tensor) and out.requires_grad:
            tensors.append(out)
            upstream.append(torch.ones_like(out) if grad is None else grad.to(out.dtype))
    if tensors:
        torch.autograd.backward(tensors, upstream)
    return {
        "output": output,
        "input_grads": [
            v.grad if isinstance(v, torch.Tensor) and v.requires_grad else None for v in prepared
        ],
        "param_grads": {name: named[name].grad for name in wanted},
    }
