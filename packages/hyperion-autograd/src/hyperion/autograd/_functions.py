"""Function spellings of the tensor methods: ``ag.exp(x)``, ``ag.sum(x, dim=0)``, ``ag.matmul(a, b)``.

Each takes an autograd tensor (or anything :func:`hyperion.autograd.as_tensor`
accepts) as its first argument and calls the method of the same name, so the
op, its gradient and its documentation live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.autograd.creation import as_tensor
from hyperion.autograd.tensor import Tensor


def _first(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _method(name: str) -> Callable[..., Any]:
    def function(x: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_first(x), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``x.{name}(...)`` as a function; see :meth:`hyperion.autograd.Tensor.{name}`."
    return function


# elementwise, one tensor
neg = _method("neg")
abs = _method("abs")  # noqa: A001 - NumPy/PyTorch name
sign = _method("sign")
exp = _method("exp")
log = _method("log")
log1p = _method("log1p")
expm1 = _method("expm1")
sqrt = _method("sqrt")
rsqrt = _method("rsqrt")
reciprocal = _method("reciprocal")
square = _method("square")
sin = _method("sin")
cos = _method("cos")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
floor = _method("floor")
ceil = _method("ceil")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
logical_not = _method("logical_not")
# elementwise, several tensors
add = _method("add")
sub = _method("sub")
mul = _method("mul")
div = _method("div")
pow = _method("pow")  # noqa: A001 - NumPy/PyTorch name
maximum = _method("maximum")
minimum = _method("minimum")
clip = _method("clip")
clamp = _method("clip")
matmul = _method("matmul")
# reductions
sum = _method("sum")  # noqa: A001 - NumPy/PyTorch name
mean = _method("mean")
var = _method("var")
std = _method("std")
max = _method("max")  # noqa: A001 - NumPy/PyTorch name
min = _method("min")  # noqa: A001 - NumPy/PyTorch name
prod = _method("prod")
logsumexp = _method("logsumexp")
argmax = _method("argmax")
argmin = _method("argmin")
all = _method("all")  # noqa: A001 - NumPy/PyTorch name
any = _method("any")  # noqa: A001 - NumPy/PyTorch name
# views and copies
reshape = _method("reshape")
permute = _method("permute")
transpose = _method("transpose")
broadcast_to = _method("broadcast_to")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
flatten = _method("flatten")
unflatten = _method("unflatten")
narrow = _method("narrow")
diagonal = _method("diagonal")
unfold = _method("unfold")
as_strided = _method("as_strided")
split = _method("split")
chunk = _method("chunk")
unbind = _method("unbind")
clone = _method("clone")
