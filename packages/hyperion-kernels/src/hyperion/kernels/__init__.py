"""hyperion.kernels — fused CPU and CUDA kernels for Hyperion, found through entry points.

Nothing here is imported by the rest of the stack: the registry in
``hyperion.tensor.registry`` discovers the providers declared in the entry-point
group ``hyperion.kernels`` (``cpu`` and ``cuda``) and loads one the first time a
lookup reaches it. Kernels work on raw arrays (NumPy on ``"cpu"``, CuPy on
``"cuda"``); the autograd ``Function`` s that call them live in hyperion-nn.

Examples:
    >>> from hyperion.kernels import __version__
    >>> isinstance(__version__, str)
    True
"""

from hyperion.kernels.__about__ import __version__

__all__ = ["__version__"]
