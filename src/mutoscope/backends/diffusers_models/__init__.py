"""Open-weight video models through Hugging Face diffusers, declared in ``models.toml``.

What the family backends (``wan.py``, ``wan_vace.py``, ``ltx.py``, ``ltx2.py``,
``cogvideox.py``, ``hunyuanvideo15.py``) share, one module per job:

* ``models_file``: ``read_models_file`` parses ``models.toml`` into typed ``ModelSpec``s;
* ``checkpoints``: ``resolve_checkpoint`` finds the weights offline, ``load_pipeline`` loads
  them (``local_files_only=True``) and applies the memory options;
* ``memory``: placement and offloading, weight sizes, the default memory budget;
* ``cache``: FirstBlockCache / MagCache configuration;
* ``pool``: ``PipelinePool`` keeps pipelines warm and evicts the least recently used ones when
  their weights would exceed the budget;
* ``frames``: native sizes for requested ones, fitting images and clips without stretching;
* ``runner``: ``denoise`` runs a pipeline with a step callback that reports progress and lets
  ``JobCancelled`` stop the denoising loop at the next step;
* ``backend``: ``DiffusersBackend``, and ``register_backends``, the ``mutoscope.backends``
  entry point: one backend per model.

The names below are re-exported so ``mutoscope.backends.diffusers_models`` stays the one
import path for callers outside this package.
"""

from mutoscope.backends.diffusers_models.backend import (
    DiffusersBackend,
    backend_class,
    build_backends,
    register_backends,
)
from mutoscope.backends.diffusers_models.cache import cache_config
from mutoscope.backends.diffusers_models.checkpoints import (
    CheckpointMissing,
    checkpoint_bytes,
    load_pipeline,
    read_component_config,
    resolve_checkpoint,
)
from mutoscope.backends.diffusers_models.frames import (
    fit_image,
    fit_video,
    map_sizes,
    reference_image,
)
from mutoscope.backends.diffusers_models.memory import (
    apply_memory_options,
    default_budget,
    weight_bytes,
)
from mutoscope.backends.diffusers_models.models_file import (
    DTYPES,
    FAMILIES,
    Cache,
    MemoryOptions,
    ModelsFile,
    ModelsFileError,
    ModelSpec,
    Offload,
    PoolOptions,
    read_models_file,
)
from mutoscope.backends.diffusers_models.pool import LoadedModel, PipelinePool
from mutoscope.backends.diffusers_models.runner import denoise, generator, option_number

__all__ = [
    "DTYPES",
    "FAMILIES",
    "Cache",
    "CheckpointMissing",
    "DiffusersBackend",
    "LoadedModel",
    "MemoryOptions",
    "ModelSpec",
    "ModelsFile",
    "ModelsFileError",
    "Offload",
    "PipelinePool",
    "PoolOptions",
    "apply_memory_options",
    "backend_class",
    "build_backends",
    "cache_config",
    "checkpoint_bytes",
    "default_budget",
    "denoise",
    "fit_image",
    "fit_video",
    "generator",
    "load_pipeline",
    "map_sizes",
    "option_number",
    "read_component_config",
    "read_models_file",
    "reference_image",
    "register_backends",
    "resolve_checkpoint",
    "weight_bytes",
]
