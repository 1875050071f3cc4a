"""``dropout``: zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

The mask is drawn from an explicit ``numpy.random.Generator``: the one
passed as ``generator=``, else :func:`hyperion.nn.init.default_generator`
(reseed it with :func:`hyperion.nn.init.manual_seed`).

Examples:
    >>> import numpy as np
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> y = F.dropout(ag.ones(4), p=0.5, generator=np.random.default_rng(0))
    >>> sorted(set(y.tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
"""

from __future__ import annotations

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn.functional._common import as_input, constant, xp_of
from hyperion.nn.init import default_generator

__all__ = ["dropout"]


def dropout(
    input: Tensor,  # noqa: A002 - PyTorch name
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Inverted dropout (identity when not ``training`` or ``p == 0``).

    Args:
        input: any tensor.
        p: probability of zeroing an element, in ``[0, 1]``.
        training: apply dropout only when true.
        inplace: accepted for PyTorch compatibility; a new tensor is returned.
        generator: where the mask comes from (default: the module-level default generator).

    Raises:
        ValueError: for ``p`` outside ``[0, 1]``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_input(input)
    if not training or p == 0.0:
        return x
    xp = xp_of(x)
    if p == 1.0:
        return x * constant(xp.zeros(x.shape, dtype=x.dtype))
    rng = generator if generator is not None else default_generator()
    keep = rng.random(x.shape) >= p
    scale = xp.asarray(keep.astype(x.dtype) * np.asarray(1.0 / (1.0 - p), dtype=x.dtype))
    return x * constant(scale)
