"""The differentiable ops, one ``Function`` subclass each, grouped by concept.

* :mod:`.unary` -- elementwise functions of one tensor (exp, log, tanh, ...).
* :mod:`.binary` -- elementwise functions of two or three (add, mul, pow, maximum, where, clip).
* :mod:`.elementwise` -- the ``Tensor`` methods and operators for both, and the non-differentiable ones.
* :mod:`.reduce` -- sum, mean, var, std, prod, max, min, logsumexp.
* :mod:`.views` -- reshape, permute, expand, narrow, diagonal, unfold, as_strided, ...
* :mod:`.indexing` -- ``t[key]``, ``t[key] = v`` and the scatter ops their gradients need.
* :mod:`.linalg` -- matmul.
* :mod:`.join` -- cat, stack, tril, triu.
* :mod:`.convert` -- dtype/device casts, clone, contiguous.
"""
