"""``hyperion.nn.functional``: stateless layers, activations and losses (PyTorch names and signatures).

Fused ops and the kernel registry
---------------------------------
``softmax``, ``log_softmax``, ``layer_norm``, ``cross_entropy`` and
``scaled_dot_product_attention`` validate their arguments, then call
``hyperion.tensor.registry.lookup("nn.<name>", device)`` and run what it
returns. The implementation registered here with ``register_reference`` is
composed of autograd ops (or is one ``Function`` with a backward built from
autograd ops) and is the oracle a faster kernel must match. A kernel takes
**autograd** tensors, must return an autograd tensor that carries a gradient
(e.g. its own ``Function``), and is called with every argument positional,
already validated and normalised:

==================================  =====================================================================
op                                  call
==================================  =====================================================================
``nn.softmax``                      ``impl(input, dim)`` — ``dim`` non-negative
``nn.log_softmax``                  ``impl(input, dim)`` — ``dim`` non-negative
``nn.layer_norm``                   ``impl(input, normalized_shape, weight, bias, eps)`` — shape a tuple;
                                    weight/bias ``None`` or of that shape
``nn.cross_entropy``                ``impl(input, target, weight, ignore_index, reduction, label_smoothing)``
``nn.scaled_dot_product_attention`` ``impl(query, key, value, attn_mask, dropout_p, is_causal, scale, generator)``
                                    — ``scale`` a float, ``attn_mask`` ``None``/bool/additive
==================================  =====================================================================

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.cross_entropy(ag.tensor([[0.0, 0.0]]), ag.tensor([1])).item() == F.log_softmax(ag.tensor([0.0, 0.0])).neg().tolist()[1]
    True
"""

from hyperion.nn.functional.activation import erf, gelu, leaky_relu, relu, sigmoid, silu, tanh
from hyperion.nn.functional.attention import scaled_dot_product_attention
from hyperion.nn.functional.conv import conv2d
from hyperion.nn.functional.dropout import dropout
from hyperion.nn.functional.embedding import embedding
from hyperion.nn.functional.linear import linear, swiglu
from hyperion.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from hyperion.nn.functional.normalization import batch_norm, group_norm, layer_norm, rms_norm
from hyperion.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from hyperion.nn.functional.softmax import log_softmax, softmax

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "erf",
    "gelu",
    "group_norm",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "rms_norm",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "softmax",
    "swiglu",
    "tanh",
]
