"""The model as an ONNX graph: exported once, checked against torch, run by ONNX Runtime.

The export (torch's ONNX exporter, from the local safetensors, after the pinned SHA-256 check)
happens once per weights into the cache folder (``Settings.cache``, ``QA_BOT_CACHE``; default
``~/.cache/qa_bot``) and is checked against torch on probe sentences; ``embedding.py`` decides
when to use it and falls back to torch on any failure. At run time ONNX needs neither torch nor
sentence-transformers: only onnxruntime and tokenizers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .model_files import max_seq_length, read_json, weights_sha256

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the exported graph changes: old exports are then not reused
PROBES = ("Does Ivanov regret the fall of the USSR?", "hi",
          "Joey: How you doin'? I haven't seen you since the funding meeting last Tuesday.",
          "The committee discussed the budget, the schedule and the new recording equipment " * 3)


def cache_root(cache: Path | None = None) -> Path:
    """Where exported models are kept: ``cache`` (``QA_BOT_CACHE``, read into Settings), else
    the platform's user cache, ``$XDG_CACHE_HOME/qa_bot``."""
    if cache is not None:
        return Path(cache).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa_bot"


def onnx_unsupported(model_dir: Path) -> str | None:
    """Why the model cannot run as an exported BERT with mean pooling, or None when it can."""
    try:
        modules = read_json(model_dir / "modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return f"modules {kinds} are not Transformer, Pooling[, Normalize]"
        pooling = read_json(model_dir / modules[1]["path"] / "config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes != ["pooling_mode_mean_tokens"]:
            return f"pooling {modes} is not mean pooling"
        if read_json(model_dir / "config.json").get("model_type") != "bert":
            return "not a BERT model"
        if not (model_dir / "tokenizer.json").is_file():
            return "no tokenizer.json"
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return f"unreadable model description ({exc})"
    return None


def export_key(model_dir: Path) -> str:
    """The cache key of an export: the weights, the files that shape the graph, the exporter."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}:{weights_sha256(model_dir)}".encode())
    for name in ("config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"):
        path = model_dir / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()[:20]


def onnx_file(model_dir: Path, int8: bool, cache: Path | None = None) -> Path:
    return cache_root(cache) / "onnx" / export_key(model_dir) / ("model-int8.onnx" if int8 else "model.onnx")


def export_onnx(model_dir: Path, int8: bool, cache: Path | None = None) -> Path:
    """Export (once) the model to ONNX with its pooling and normalisation, check it against
    torch on probe sentences, quantise it when asked, and return the cached file.

    Raises:
        ModelError: the export or its check failed.
    """
    target = onnx_file(model_dir, int8, cache)
    if target.is_file():
        return target
    fp32 = onnx_file(model_dir, False, cache)
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
    tokenizer.enable_truncation(max_seq_length(model_dir))
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
        self.tokenizer.enable_truncation(max_seq_length(model_dir))
        self.dimension = int(read_json(model_dir / "config.json")["hidden_size"])
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
