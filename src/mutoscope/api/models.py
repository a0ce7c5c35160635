"""/v1/models: installed backends and the OpenAI aliases that resolve to them."""

from __future__ import annotations

from fastapi import APIRouter

from mutoscope.api.deps import CurrentUser, ServicesDep
from mutoscope.api.schemas import Model, ModelList
from mutoscope.backends.base import VideoBackend
from mutoscope.backends.request_options import OPTION_NAMES
from mutoscope.errors import NotFound

router = APIRouter(prefix="/v1/models", tags=["models"])


def _model(backend: VideoBackend, name: str | None = None) -> Model:
    return Model(
        id=name or backend.name,
        owned_by=backend.owned_by,
        description=backend.description,
        sizes=list(backend.sizes),
        seconds=list(backend.seconds),
        accepts_image=backend.accepts_image,
        accepts_video=backend.accepts_video,
        continues=backend.continues,
        options=[o for o in OPTION_NAMES if o in backend.request_options],
        presets=list(backend.preset_names()),
        loras=list(backend.lora_names()),
        alias_of=backend.name if name else None,
    )


@router.get("")
def list_models(services: ServicesDep, user: CurrentUser) -> ModelList:
    registry = services.backends
    data = [_model(b) for b in registry]
    data += [_model(registry.get(target), alias) for alias, target in registry.aliases().items()]
    return ModelList(data=data)


@router.get("/{model_id}")
def retrieve_model(model_id: str, services: ServicesDep, user: CurrentUser) -> Model:
    for model in list_models(services, user).data:
        if model.id == model_id:
            return model
    raise NotFound(
        f"No model '{model_id}'; GET /v1/models lists the installed ones.", param="model"
    )
