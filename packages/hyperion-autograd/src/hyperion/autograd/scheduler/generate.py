"""Random DAGs with random tensor sizes, reproducible from a seed.

:func:`random_dag` builds a graph node by node, so it is acyclic by construction. Node ``i``
reads 1 to ``max_fan_in`` tensors chosen among the ``window`` most recently created ones (a
locality that real networks have: a layer mostly reads what the previous few layers wrote),
and writes one tensor, sometimes two. Because several later nodes can pick the same tensor,
multi-consumer tensors (skip connections, shared activations) appear naturally. Sizes are
log-uniform between ``min_bytes`` and ``max_bytes`` (float32 vectors, so multiples of 4):
real graphs mix small biases with large activations across orders of magnitude.

The graph starts from ``n_inputs`` graph inputs. A produced tensor that is about to leave the
window unread is added to the next node's inputs, so every value is used; the few produced
tensors that nothing reads (from the last ``window`` ones) are the graph outputs.
"""

from __future__ import annotations

import numpy as np

from .graph import Graph, Node, TensorInfo

__all__ = ["random_dag"]

# Op names by arity, for readable traces only: the scheduler never looks at them.
_OPS = {1: ("relu", "exp", "neg", "sum"), 2: ("add", "mul", "matmul"), 3: ("where", "cat")}
_SPLITS = ("split", "chunk")  # ops with two outputs


def random_dag(
    n: int,
    seed: int | np.random.Generator,
    *,
    n_inputs: int = 4,
    max_fan_in: int = 3,
    window: int = 24,
    two_output_prob: float = 0.1,
    min_bytes: int = 1 << 10,
    max_bytes: int = 1 << 24,
) -> Graph:
    """A random DAG of ``n`` op nodes with log-uniform tensor sizes.

    Args:
        n: Number of op nodes (``>= 1``).
        seed: An integer seed for ``numpy.random.default_rng``, or a generator to draw from.
        n_inputs: Number of graph inputs.
        max_fan_in: Each node draws between 1 and this many tensors to read (duplicate draws
            collapse), plus the tensor leaving the window if nothing has read it yet.
        window: Inputs are drawn among this many most recently created tensors.
        two_output_prob: Probability that a node writes two tensors instead of one.
        min_bytes: Smallest tensor size.
        max_bytes: Largest tensor size.

    Returns:
        The graph. Nodes are ``n0 .. n{n-1}`` (listed in creation order), graph inputs
        ``x0 ..``, produced tensors ``t0 ..``.

    Raises:
        ValueError: If a parameter is out of range.

    Example:
        >>> g = random_dag(100, seed=0)
        >>> g.num_nodes, g.num_tensors == random_dag(100, seed=0).num_tensors
        (100, True)
    """
    _check_positive(n=n, n_inputs=n_inputs, max_fan_in=max_fan_in, window=window)
    if not 0.0 <= two_output_prob <= 1.0:
        raise ValueError(f"two_output_prob must be in [0, 1], got {two_output_prob}")
    if not 1 <= min_bytes <= max_bytes:
        raise ValueError(f"need 1 <= min_bytes <= max_bytes, got {min_bytes} and {max_bytes}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    fan_in = rng.integers(1, max_fan_in + 1, size=n).tolist()
    back = rng.integers(0, window, size=(n, max_fan_in)).tolist()  # 0 = the newest tensor
    n_out = (1 + (rng.random(n) < two_output_prob)).tolist()
    n_tensors = n_inputs + sum(n_out)
    log_size = rng.uniform(np.log(min_bytes), np.log(max_bytes), size=n_tensors)
    sizes = np.clip(np.exp(log_size).astype(np.int64) // 4 * 4, min_bytes, max_bytes)

    ids = [f"x{i}" for i in range(n_inputs)] + [f"t{i}" for i in range(n_tensors - n_inputs)]
    consumed = [False] * n_tensors
    nodes: list[Node] = []
    created = oldest = n_inputs
    for i in range(n):
        picks = dict.fromkeys(created - 1 - b % created for b in back[i][: fan_in[i]])
        while oldest < created - window:  # tensors about to fall out of every later window
            if not consumed[oldest]:
                picks[oldest] = None
            oldest += 1
        for p in picks:
            consumed[p] = True
        ops = _SPLITS if n_out[i] == 2 else _OPS[min(len(picks), 3)]
        outs = tuple(ids[created : created + n_out[i]])
        nodes.append(Node(f"n{i}", ops[i % len(ops)], tuple(ids[p] for p in picks), outs))
        created += len(outs)

    tensors = [TensorInfo(ident, size, (size // 4,), "float32") for ident, size in zip(ids, sizes.tolist())]
    outputs = [ids[t] for t in range(n_inputs, n_tensors) if not consumed[t]]
    return Graph(nodes, tensors, outputs)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
