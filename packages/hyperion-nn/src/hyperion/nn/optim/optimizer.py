"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``state_dict``.

An optimizer holds a list of *parameter groups*. Each group is a dict with
the key ``"params"`` (a list of parameters) and one entry per hyperparameter
(``"lr"``, ``"weight_decay"``, ...); a hyperparameter missing from a group
takes the optimizer's default. Per-parameter *state* (momentum buffers,
moment estimates, step counts) lives in :attr:`Optimizer.state`, a dict keyed
by the parameter object.

The update itself works on the raw arrays behind the parameters (``p.data``,
a ``hyperion.tensor.Tensor``, seen zero-copy through ``_arr()``), so it is
never recorded by autograd and writes in place: the same storage the model
reads. State tensors are raw ``hyperion.tensor.Tensor`` objects, which is
what :meth:`Optimizer.state_dict` returns and what checkpoints save.

``state_dict()`` follows PyTorch's layout::

    {"state": {0: {"step": 3, "exp_avg": <Tensor>, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, ...]}

Parameters are numbered 0, 1, 2, ... through the groups in order, so a state
dict can be loaded into a fresh optimizer built over the same model.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn.optim import SGD
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.tolist()
    [0.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Tensor, enable_grad
from hyperion.tensor import DTypeError, ShapeError
from hyperion.tensor.device import array_module

ParamsLike = Iterable[Tensor] | Iterable[Mapping[str, Any]]

_JSON_SCALARS = (bool, int, float, str, type(None))


class Optimizer:
    """Base class of the optimizers.

    Subclasses pass their hyperparameter ``defaults`` to ``__init__``,
    implement :meth:`_check_group` (validation, raising ``ValueError`` that
    names the value) and :meth:`step`, and list in ``_state_tensors`` the
    names of their per-parameter state tensors.

    Args:
        params: parameters, or dicts each with ``"params"`` and per-group hyperparameters.
        defaults: hyperparameter values for keys a group does not set.

    Raises:
        ValueError: for an empty parameter list, a parameter in two groups or an invalid hyperparameter.
        TypeError: for something that is not a floating-point autograd leaf tensor.
    """

    def __init__(self, params: ParamsLike, defaults: Mapping[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of tensors or of dicts, got a single Tensor (wrap it in a list)"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups --------------------------------------------------------------------
    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters (e.g. unfrozen layers while fine-tuning).

        Args:
            param_group: ``{"params": [...], "lr": ..., ...}``; missing hyperparameters take the defaults.

        Raises:
            ValueError: if a parameter is already in a group, or a hyperparameter is invalid or unknown.
            TypeError: if ``params`` holds something that is not a leaf floating-point autograd tensor.
        """
        if not isinstance(param_group, Mapping):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for index, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize hyperion.autograd.Tensor parameters; "
                    f"item {index} of the group is a {type(param).__name__}"
                )
            if not param.is_leaf:
                raise TypeError(f"cannot optimize a non-leaf tensor (item {index}, produced by {param.grad_fn.name()})")
            if param.dtype.kind != "f":
                raise DTypeError(
                    f"cannot optimize a tensor of dtype {param.dtype} (item {index}); parameters are floating-point"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group lists the same parameter twice")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        unknown = sorted(set(param_group) - set(self.defaults) - {"params"} - _FREE_KEYS)
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {unknown} for {type(self).__name__}; known: {sorted(self.defaults)}"
            )
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate (and normalise, e.g. ``betas`` to a tuple) a group's hyperparameters in place."""
        _check_nonnegative(group, "lr")

    # -- gradients -----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter: to ``None`` (default, frees memory) or to zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad.data._arr()[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()``'s value when given.

        Args:
            closure: re-evaluates the model and returns the loss (run with gradients enabled).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state -----------------------------------------------------------------------
    _state_tensors: tuple[str, ...] = ()

    def _required_state(self, group: Mapping[str, Any]) -> tuple[str, ...]:
        """The state tensors a parameter of ``group`` must have once it has been stepped."""
        return self._state_tensors

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: per-parameter state by parameter index, and the groups' hyperparameters.

        The state tensors are shared with the optimizer (not copied), as in PyTorch: save or copy
        the result before stepping again if it must stay fixed.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of.setdefault(id(p), len(index_of)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if param in self.state:
                    state[index_of[id(param)]] = dict(self.state[param])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`.

        Everything is checked before anything changes; state tensors are copied (converted to
        each parameter's dtype and device), so the optimizer never aliases the dict's tensors.

        Raises:
            ValueError: if the groups or their sizes differ, a state index is unknown, a state entry
                is missing or not understood, or a hyperparameter is invalid.
            ShapeError: if a state tensor's shape differs from its parameter's.
        """
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("an optimizer state_dict is a dict with the keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list | tuple) or len(saved_groups) != len(self.param_groups):
            count = len(saved_groups) if isinstance(saved_groups, list | tuple) else type(saved_groups).__name__
            raise ValueError(
                f"loaded state dict has {count} parameter group(s), but {type(self).__name__} has {len(self.param_groups)}"
            )
        params_by_index: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        new_groups = []
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), list | tuple):
                raise ValueError(f"parameter group {number} of the loaded state dict has no 'params' list")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {number} has {len(saved['params'])} parameter(s) in the loaded state dict "
                    f"but {len(group['params'])} in the optimizer"
                )
            unknown = sorted(str(k) for k in set(saved) - set(self.defaults) - {"params"} - _FREE_KEYS)
            if unknown:
                raise ValueError(
                    f"parameter group {number} of the loaded state dict has unknown hyperparameter(s) {unknown}"
                )
            merged = {key: value for key, value in group.items() if key != "params"}
            for key, value in saved.items():
                if key == "params":
                    continue
                if not _is_plain(value):
                    raise ValueError(f"hyperparameter {key!r} of group {number} has an unsupported value {value!r}")
                merged[key] = value
            try:
                self._check_group(merged)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"parameter group {number} of the loaded state dict: {exc}") from exc
            merged["params"] = group["params"]
            new_groups.append(merged)
            for index, param in zip(saved["params"], group["params"]):
                params_by_index[_as_index(index)] = (param, merged)

        saved_state = state_dict["state"]
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"the loaded state dict's 'state' must be a dict, got {type(saved_state).__name__}")
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in saved_state.items():
            index = _as_index(key)
            if index not in params_by_index:
                raise ValueError(f"the loaded state dict has state for parameter {index}, which the groups do not list")
            param, group = params_by_index[index]
            if not isinstance(entries, Mapping):
                raise ValueError(f"state of parameter {index} must be a dict, got {type(entries).__name__}")
            missing = [name for name in self._required_state(group) if name not in entries]
            if missing:
                raise ValueError(f"state of parameter {index} is missing {missing}")
            new_state[param] = {name: _load_state_value(value, param, index, name) for name, value in entries.items()}
        self.param_groups[:] = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


# Keys that schedulers and users may add to a group beside the optimizer's own hyperparameters.
_FREE_KEYS = frozenset({"initial_lr", "name"})


def _as_index(key: Any) -> int:
    try:
        index = int(key)
    except (TypeError, ValueError):
        raise ValueError(f"parameter index {key!r} in the loaded state dict is not an integer") from None
    if isinstance(key, float) or index < 0:
        raise ValueError(f"parameter index {key!r} in the loaded state dict is not a non-negative integer")
    return index


def _is_plain(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return True
    if isinstance(value, list | tuple):
        return all(isinstance(v, _JSON_SCALARS) for v in value)
    return False


def _load_state_value(value: Any, param: Tensor, index: int, name: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Tensor | ht.Tensor | np.ndarray):
        raise ValueError(f"state {name!r} of parameter {index} has an unsupported value of type {type(value).__name__}")
    if isinstance(value, int | float):
        if name == "step" and (not float(value).is_integer() or value < 0):
            raise ValueError(f"state 'step' of parameter {index} must be a non-negative integer, got {value!r}")
        return int(value) if name == "step" else value
    raw = value.data if isinstance(value, Tensor) else value if isinstance(value, ht.Tensor) else ht.as_tensor(value)
    if raw.shape != param.shape:
        raise ShapeError(
            f"state {name!r} of parameter {index} has shape {raw.shape}, but the parameter has shape {param.shape}"
        )
    if raw.dtype.kind not in "fiu":
        raise DTypeError(f"state {name!r} of parameter {index} has dtype {raw.dtype}; expected a number type")
    target = param.data
    xp = array_module(target.device)
    array = xp.array(raw.to(device=target.device)._arr(), dtype=target.dtype, copy=True, order="C")
    return ht.Tensor._from_array(array)


def _check_nonnegative(group: dict[str, Any], key: str) -> None:
    value = group[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"invalid {key}: {value!r} (expected a finite number >= 0)")
    group[key] = float(value)


def _check_fraction(group: dict[str, Any], key: str, upper_inclusive: bool = False) -> None:
    value = group[key]
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0.0 <= value
        and (value <= 1.0 if upper_inclusive else value < 1.0)
    )
    if not ok:
        bound = "0 <= value <= 1" if upper_inclusive else "0 <= value < 1"
        raise ValueError(f"invalid {key}: {value!r} (expected {bound})")
    group[key] = float(value)


def _check_flag(group: dict[str, Any], key: str) -> None:
    value = group[key]
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"invalid {key}: {value!r} (expected True or False)")
    group[key] = bool(value)


def bump_version(param: Tensor) -> None:
    """Record an in-place write to ``param`` so a graph that saved its old value refuses to backpropagate."""
    counter = param._vc
    if counter is not None:
        counter.value += 1


def new_state_tensor(param: Tensor, fill: Any = 0.0) -> ht.Tensor:
    """A contiguous raw tensor shaped, typed and placed like ``param``, filled with zeros or a copy of ``fill``."""
    data = param.data
    xp = array_module(data.device)
    if isinstance(fill, float | int):
        array = xp.full(data.shape, fill, dtype=data.dtype)
    else:
        array = xp.array(fill, dtype=data.dtype, copy=True, order="C")
    return ht.Tensor._from_array(array)


def weight_decay_groups(params: Iterable[Tensor], weight_decay: float) -> list[dict[str, Any]]:
    """Split parameters into a decayed group (2-D and up) and an undecayed one (biases, norm gains), as nanoGPT does.

    Matrices and embeddings are what weight decay is meant to shrink; decaying biases and
    normalisation scales only pulls them towards a worse fixed point. Empty groups are left out.

    Args:
        params: the parameters, e.g. ``model.parameters()``.
        weight_decay: the decay of the first group.

    Returns:
        Parameter groups for any optimizer's constructor.

    Examples:
        >>> import hyperion.autograd as ag
        >>> w, b = ag.zeros(3, 2, requires_grad=True), ag.zeros(2, requires_grad=True)
        >>> [(len(g["params"]), g["weight_decay"]) for g in weight_decay_groups([w, b], 0.1)]
        [(1, 0.1), (1, 0.0)]
    """
    params = list(params)
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]
