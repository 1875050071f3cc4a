"""hyperion.nn — modules, layers, losses, optimizers and data on hyperion-autograd."""

from hyperion.nn.__about__ import __version__
from hyperion.nn.containers import ModuleDict, ModuleList, Sequential
from hyperion.nn.module import Module, Parameter

__all__ = ["Module", "ModuleDict", "ModuleList", "Parameter", "Sequential", "__version__"]
