"""The warm pool: loaded pipelines kept between jobs, least recently used evicted over budget."""

from __future__ import annotations

import gc
import inspect
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mutoscope.backends.diffusers_models.checkpoints import checkpoint_bytes, load_pipeline
from mutoscope.backends.diffusers_models.memory import (
    empty_device_cache,
    memory_place,
    weight_bytes,
)
from mutoscope.backends.diffusers_models.models_file import ModelsFileError, ModelSpec
from mutoscope.errors import GenerationFailed

log = logging.getLogger(__name__)


class LoadedModel:
    """A loaded pipeline plus the sibling pipelines (I2V, V2V) built on its components."""

    def __init__(self, spec: ModelSpec, pipeline: Any):
        self.spec = spec
        self.pipeline = pipeline
        self.bytes = weight_bytes(pipeline)
        self.place = memory_place(spec)
        self.lock = threading.Lock()
        """Held while a job runs: diffusers pipelines are not re-entrant."""
        self.users = 0
        self._variants: dict[type, Any] = {type(pipeline): pipeline}
        self._active: type = type(pipeline)

    def variant(self, cls: type) -> Any:
        """``cls`` sharing this pipeline's weights (no copy, no reload)."""
        pipe = self._variants.get(cls)
        if pipe is None:
            base = self.pipeline
            kwargs = {}
            for name, param in inspect.signature(cls).parameters.items():
                if name in base.components:
                    kwargs[name] = base.components[name]
                elif name in base.config and not name.startswith("_"):
                    kwargs[name] = base.config[name]
                elif param.default is inspect.Parameter.empty:
                    kwargs[name] = None
            pipe = self._variants[cls] = cls(**kwargs)
            pipe.set_progress_bar_config(disable=True)
        if cls is not self._active and self.spec.memory.offload == "model":
            # Model offload hooks chain one pipeline's components; re-chain for this one.
            pipe.enable_model_cpu_offload(device=self.spec.device)
        self._active = cls
        return pipe

    def release(self) -> None:
        self._variants.clear()
        self.pipeline = None


class PipelinePool:
    """Keeps pipelines loaded between jobs; evicts least recently used ones over budget.

    Each memory place has its own budget (``memory_place``: one per GPU, ``cpu`` for host
    memory, where offloaded models keep their weights); it counts weight bytes (parameters and
    buffers) of the pipelines loaded there, and making room evicts only from that place.
    ``budget_bytes`` is one figure for every place or a function of the place.
    """

    def __init__(
        self, budget_bytes: int | Callable[[str], int], loader: Any = load_pipeline
    ) -> None:
        self.budget: Callable[[str], int] = (
            budget_bytes if callable(budget_bytes) else lambda place: budget_bytes
        )
        self.loader = loader
        self.loads: Counter[str] = Counter()
        """How many times each model id was loaded (a warm hit does not count)."""
        self.evictions: Counter[str] = Counter()
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    @contextmanager
    def use(self, spec: ModelSpec) -> Iterator[LoadedModel]:
        """The loaded model for ``spec``, held exclusively until the block ends."""
        model = self._acquire(spec)
        try:
            with model.lock:
                yield model
        finally:
            with self._lock:
                model.users -= 1

    def _acquire(self, spec: ModelSpec) -> LoadedModel:
        """A warm model at once; else load it, one loader per model and outside the pool
        lock, so jobs on other warm models keep running during a (minutes-long) load."""
        with self._lock:
            if (model := self._checkout(spec.id)) is not None:
                return model
            gate = self._loading.setdefault(spec.id, threading.Lock())
        estimate = checkpoint_bytes(spec)
        with gate:
            with self._lock:
                if (model := self._checkout(spec.id)) is not None:
                    return model  # another job loaded it while we waited
                self._make_room(estimate, keep=spec.id, place=memory_place(spec))
            try:
                pipeline = self.loader(spec)
            except (GenerationFailed, ModelsFileError):
                raise
            except Exception as exc:  # OOM, corrupt files, missing kernels: say which model
                raise GenerationFailed(
                    f"model '{spec.id}' could not be loaded from {spec.source}: {exc}"
                ) from exc
            with self._lock:
                model = self._loaded[spec.id] = LoadedModel(spec, pipeline)
                model.users = 1
                self.loads[spec.id] += 1
                self._make_room(0, keep=spec.id, place=model.place)
                return model

    def _checkout(self, model_id: str) -> LoadedModel | None:
        model = self._loaded.get(model_id)
        if model is not None:
            self._loaded.move_to_end(model_id)
            model.users += 1
        return model

    def loaded(self) -> list[str]:
        """Ids of warm models, least recently used first."""
        return list(self._loaded)

    def used_bytes(self, place: str | None = None) -> int:
        """Weight bytes loaded in ``place`` (everywhere when None)."""
        return sum(m.bytes for m in self._loaded.values() if place in (None, m.place))

    def evict(self, model_id: str) -> bool:
        with self._lock:
            model = self._loaded.get(model_id)
            if model is None or model.users:
                return False
            self._drop(model_id)
            return True

    def close(self) -> None:
        for model_id in self.loaded():
            self.evict(model_id)

    def _make_room(self, incoming: int, *, keep: str, place: str) -> None:
        budget = self.budget(place)
        while self.used_bytes(place) + incoming > budget:
            idle = [
                i for i, m in self._loaded.items() if i != keep and not m.users and m.place == place
            ]
            if not idle:
                if incoming or len(self._loaded) > 1:
                    log.warning("%s memory budget exceeded and nothing idle to evict", place)
                return
            self._drop(idle[0])

    def _drop(self, model_id: str) -> None:
        model = self._loaded.pop(model_id)
        model.release()
        self.evictions[model_id] += 1
        gc.collect()
        empty_device_cache()
        log.info("evicted model %s (%.1f MiB)", model_id, model.bytes / 2**20)
