"""Building modules whose every weight is about to be loaded, without initialising them first.

``nn.Linear(384, 384)`` fills its weight with random numbers that ``load_state_dict``
overwrites a moment later: for the embedded model and its MiniLM caption encoder (29 M
parameters) that was 0.15-0.25 s of CPU in every cold ``mutoscope generate``. Inside
:func:`uninitialised`, ``torch.nn.init``'s fill functions leave tensors as allocated, in this
thread only (others, training a model say, are untouched). Building on torch's ``meta``
device would skip the fill too, but its first ``normal_`` imports SymPy (~1 s).

Use it only with ``load_state_dict(..., strict=True)``, which fails unless every parameter
and persistent buffer is loaded, so nothing built here keeps the memory it was allocated with.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

#: The fills ``reset_parameters`` of torch's layers call through ``torch.nn.init``.
FILLS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
)

_skipping = threading.local()
_install_lock = threading.Lock()
_installed = False


def _gated(fill: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fill)
    def gated(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_skipping, "on", False):
            return tensor
        return fill(tensor, *args, **kwargs)

    return gated


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            for name in FILLS:
                setattr(nn.init, name, _gated(getattr(nn.init, name)))
            _installed = True


@contextmanager
def uninitialised() -> Iterator[None]:
    """Modules built in this block (in this thread) keep their parameters unfilled."""
    _install()
    before = getattr(_skipping, "on", False)
    _skipping.on = True
    try:
        yield
    finally:
        _skipping.on = before
