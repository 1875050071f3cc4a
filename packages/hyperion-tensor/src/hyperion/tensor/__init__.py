"""hyperion.tensor — a strided tensor on NumPy/CuPy with a pluggable kernel registry.

Example:
    >>> import hyperion.tensor as ht
    >>> x = ht.arange(6).reshape(2, 3)
    >>> x.T.strides
    (1, 3)
    >>> (x.T + ht.tensor([10, 20])).tolist()
    [[10, 23], [11, 24], [12, 25]]
"""

from hyperion.tensor import layout, registry
from hyperion.tensor.__about__ import __version__
from hyperion.tensor.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    uniform,
    zeros,
    zeros_like,
)
from hyperion.tensor.device import cuda_available
from hyperion.tensor.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    result_type,
    uint8,
)
from hyperion.tensor.errors import DeviceError, DTypeError, HyperionError, ShapeError, TensorIndexError
from hyperion.tensor.functional import (
    abs,
    add,
    all,
    any,
    argmax,
    argmin,
    as_strided,
    broadcast_to,
    ceil,
    chunk,
    clamp,
    clip,
    cos,
    diagonal,
    div,
    exp,
    expm1,
    flatten,
    floor,
    isfinite,
    isinf,
    isnan,
    log,
    log1p,
    logical_not,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    narrow,
    neg,
    permute,
    pow,
    prod,
    reciprocal,
    reshape,
    rsqrt,
    sigmoid,
    sign,
    sin,
    split,
    sqrt,
    square,
    squeeze,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unflatten,
    unsqueeze,
    var,
)
from hyperion.tensor.join import cat, one_hot, stack, tril, triu, where
from hyperion.tensor.tensor import Tensor

__all__ = [
    "DTypeError", "DeviceError", "HyperionError", "ShapeError", "Tensor", "TensorIndexError", "__version__",
    "abs", "add", "all", "any", "arange", "argmax", "argmin", "as_strided", "as_tensor", "bool_", "broadcast_to",
    "cat", "ceil", "chunk", "clamp", "clip", "cos", "cuda_available", "diagonal", "div", "empty", "empty_like",
    "exp", "expm1", "eye", "flatten", "float16", "float32", "float64", "floor", "from_dlpack", "from_numpy", "full",
    "full_like", "int16", "int32", "int64", "int8", "isfinite", "isinf", "isnan", "layout", "linspace", "log",
    "log1p", "logical_not", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "narrow",
    "neg", "normal", "one_hot", "ones", "ones_like", "permute", "pow", "prod", "rand", "randint", "randn",
    "reciprocal", "registry", "reshape", "result_type", "rsqrt", "sigmoid", "sign", "sin", "split", "sqrt",
    "square", "squeeze", "stack", "std", "sub", "sum", "tanh", "tensor", "transpose", "tril", "triu", "uint8",
    "unflatten", "uniform", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
