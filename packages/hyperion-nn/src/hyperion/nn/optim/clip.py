"""Gradient clipping: rescale all gradients to a maximum total norm, or clamp each value.

Clipping by norm treats the gradients of all parameters as one long vector
``g`` and rescales it, if ``‖g‖ > max_norm``, by ``max_norm / (‖g‖ + 10⁻⁶)``,
which keeps its direction. Clipping by value clamps every coordinate to
``[−c, c]``, which does not.

Examples:
    >>> import hyperion.autograd as ag
    >>> w = ag.tensor([0.0, 0.0], requires_grad=True)
    >>> (w * ag.tensor([3.0, 4.0])).sum().backward()
    >>> clip_grad_norm_([w], max_norm=1.0)
    5.0
    >>> [round(x, 4) for x in w.grad.tolist()]
    [0.6, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from hyperion.autograd import Tensor

_CLIP_EPS = 1e-6


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Any]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    arrays = []
    for index, param in enumerate(parameters):
        if not isinstance(param, Tensor):
            raise TypeError(f"item {index} of parameters is a {type(param).__name__}, not a hyperion.autograd.Tensor")
        if param._grad is not None:
            arrays.append(param._grad.data._arr())
    return arrays


def _norm_type(norm_type: float | str) -> float:
    if isinstance(norm_type, str):
        if norm_type.lower() != "inf":
            raise ValueError(f"invalid norm_type {norm_type!r} (a positive number or 'inf')")
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, int | float) or not norm_type > 0:
        raise ValueError(f"invalid norm_type {norm_type!r} (a positive number or 'inf')")
    return float(norm_type)


def _vector_norm(array: Any, p: float) -> float:
    flat = array.reshape(-1)
    if flat.size == 0:
        return 0.0
    if p == math.inf:
        return float(np.abs(flat).max())
    if p == 2.0:
        return float(np.sqrt(np.vdot(flat, flat).real))
    if p == 1.0:
        return float(np.abs(flat).sum())
    return float((np.abs(flat) ** p).sum() ** (1.0 / p))


def total_grad_norm(parameters: Tensor | Iterable[Tensor], norm_type: float | str = 2.0) -> float:
    """The ``norm_type``-norm of all gradients taken together (parameters without one are skipped).

    Raises:
        ValueError: for a norm type that is not positive (or ``'inf'``).
    """
    p = _norm_type(norm_type)
    norms = [_vector_norm(g, p) for g in _grads(parameters)]
    if not norms:
        return 0.0
    if p == math.inf:
        return max(norms)
    return _vector_norm(np.asarray(norms, dtype=np.float64), p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Rescale the gradients in place so their total norm is at most ``max_norm``.

    The norm of each gradient is taken first and the total is the norm of those
    norms (as PyTorch computes it); when it exceeds ``max_norm`` every gradient is
    multiplied by ``max_norm / (total + 1e-6)``.

    Args:
        parameters: a tensor or tensors whose ``.grad`` to clip (those without one are skipped).
        max_norm: the largest total norm allowed.
        norm_type: ``p`` of the p-norm, or ``'inf'``/``math.inf`` for the largest absolute value.
        error_if_nonfinite: raise instead of scaling when the total norm is NaN or infinite.

    Returns:
        The total norm of the gradients *before* clipping, as a Python float.

    Raises:
        ValueError: for a negative/NaN ``max_norm`` or an invalid ``norm_type``.
        FloatingPointError: if ``error_if_nonfinite`` and the total norm is NaN or infinite.
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, int | float) or not max_norm >= 0:
        raise ValueError(f"invalid max_norm {max_norm!r} (expected a number >= 0)")
    p = _norm_type(norm_type)
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norms = [_vector_norm(g, p) for g in grads]
    total = max(norms) if p == math.inf else _vector_norm(np.asarray(norms, dtype=np.float64), p)
    if error_if_nonfinite and not math.isfinite(total):
        raise FloatingPointError(
            f"the total {norm_type}-norm of the gradients is {total}, so clip_grad_norm_ cannot scale them; "
            "set error_if_nonfinite=False to scale anyway"
        )
    coef = max_norm / (total + _CLIP_EPS)
    # Multiplying by exactly 1.0 would change nothing, so skip the pass over memory.
    if not coef >= 1.0:
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient coordinate to ``[-clip_value, clip_value]``, in place.

    Raises:
        ValueError: for a negative or NaN ``clip_value``.
    """
    if isinstance(clip_value, bool) or not isinstance(clip_value, int | float) or not clip_value >= 0:
        raise ValueError(f"invalid clip_value {clip_value!r} (expected a number >= 0)")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
