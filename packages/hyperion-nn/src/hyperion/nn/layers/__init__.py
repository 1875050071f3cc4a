"""``hyperion.nn.layers``: the modules (PyTorch names, signatures, parameter names and ``repr``)."""

from hyperion.nn.layers.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from hyperion.nn.layers.conv import Conv2d
from hyperion.nn.layers.dropout import Dropout
from hyperion.nn.layers.embedding import Embedding
from hyperion.nn.layers.linear import Identity, Linear, SwiGLU
from hyperion.nn.layers.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from hyperion.nn.layers.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from hyperion.nn.layers.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from hyperion.nn.layers.residual import BasicBlock, Residual
from hyperion.nn.layers.shape import Flatten, Unflatten

__all__ = [
    "GELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BasicBlock",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GroupNorm",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "NLLLoss",
    "RMSNorm",
    "ReLU",
    "Residual",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "SwiGLU",
    "Tanh",
    "Unflatten",
]
