"""``Module`` and ``Parameter``: the containers that hold a model's state.

A ``Parameter`` is an autograd tensor that a ``Module`` registers
automatically when it is assigned as an attribute; sub-modules register the
same way. From that registry come ``named_parameters``, ``state_dict`` /
``load_state_dict``, ``train``/``eval``, ``zero_grad`` and a PyTorch-style
``repr``.

Examples:
    >>> import hyperion.autograd as ag
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.weight = Parameter(ag.ones(2, 2))
    ...         self.bias = Parameter(ag.zeros(2))
    ...     def forward(self, x):
    ...         return x @ self.weight + self.bias
    >>> [name for name, _ in Affine().named_parameters()]
    ['weight', 'bias']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import hyperion.tensor as ht
from hyperion.autograd import Tensor, no_grad
from hyperion.tensor import DTypeError, ShapeError
from hyperion.tensor.dtypes import to_dtype


class Parameter(Tensor):
    """A tensor that is a learnable part of a :class:`Module` (``requires_grad=True`` by default).

    Args:
        data: an autograd tensor (its data is shared, not copied), a raw
            ``hyperion.tensor.Tensor``, or anything ``hyperion.tensor.as_tensor`` takes.
        requires_grad: whether the optimizer should train it.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        raw = data.data if isinstance(data, Tensor) else data
        super().__init__(raw if isinstance(raw, ht.Tensor) else ht.as_tensor(raw), requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + repr(self.detach())


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign parameters and
    sub-modules as attributes, and define ``forward``; calling the module
    calls ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # -- registration -----------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() has run (call super().__init__() first)")
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent.discard(name)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (``None`` records an absent optional parameter, e.g. no bias)."""
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"{name!r} must be a Parameter, got {type(param).__name__}")
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in ``state_dict`` but not trained (e.g. BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"buffer {name!r} must be a hyperion.autograd.Tensor or None, got {type(tensor).__name__}")
        for table in (self._parameters, self._modules):
            table.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    # -- calling ------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} defines no forward() method")
        return forward(*args, **kwargs)

    # -- traversal ----------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, each once, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child) for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """Direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a parameter shared by two modules is listed once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, detached (sharing memory with the module)."""
        state: dict[str, Tensor] = {}
        for module_name, module in self.named_modules():
            dot = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[dot + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[dot + name] = buffer.detach()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values into this module's parameters and buffers, in place.

        Args:
            state_dict: name → tensor (autograd or raw) or array.
            strict: require exactly the same keys.

        Returns:
            ``(missing_keys, unexpected_keys)``.

        Raises:
            KeyError: with ``strict``, listing every missing and unexpected key.
            ShapeError: listing every shape mismatch (checked before anything is copied).
        """
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"state_dict does not match {type(self).__name__}: missing keys {missing}, unexpected keys {unexpected}"
            )
        values = {key: _raw(value) for key, value in state_dict.items() if key in own}
        mismatched = [
            f"{key}: checkpoint {values[key].shape} vs model {own[key].shape}"
            for key in values
            if values[key].shape != own[key].shape
        ]
        if mismatched:
            raise ShapeError("state_dict shapes do not match the model: " + "; ".join(mismatched))
        with no_grad():
            for key, raw in values.items():
                target = own[key].data
                target[...] = raw.to(device=target.device).astype(target.dtype)
        return missing, unexpected

    # -- modes ------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on every sub-module."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to ``None`` by default, or to zeros)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch training of every parameter on or off."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every sub-module and then on this one (e.g. for custom initialisation)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def to(self, target: Any = None, *, dtype: Any = None, device: Any = None) -> Module:
        """Move/convert every parameter and buffer in place: ``model.to("float64")``, ``model.to("cuda")``.

        A dtype applies to floating-point tensors only (integer buffers such as counters keep theirs).
        """
        if target is not None:
            try:
                dtype = to_dtype(target)
            except DTypeError:
                device = target
        for tensor in [*self.parameters(), *self.buffers()]:
            converted = tensor.data.to(device=device) if device is not None else tensor.data
            if dtype is not None and converted.dtype.kind == "f":
                converted = converted.astype(dtype)
            if converted is not tensor.data:
                tensor.data = converted
                tensor.grad = None
        return self

    def double(self) -> Module:
        """Convert parameters and floating buffers to float64."""
        return self.to(dtype="float64")

    def float(self) -> Module:
        """Convert parameters and floating buffers to float32."""
        return self.to(dtype="float32")

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- printing ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(module)) for name, module in self._modules.items() if module is not None]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _raw(value: Any) -> ht.Tensor:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, ht.Tensor):
        return value
    return ht.as_tensor(value)
