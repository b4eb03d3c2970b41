"""``make bench``: run every benchmark in its own process, then write ``bench/RESULTS.md`` and
its plots (``bench/latency.png``, ``bench/scale.png``) from their results.

    .venv/bin/python bench/run.py                 # everything (about 10-15 minutes)
    .venv/bin/python bench/run.py --report-only   # rewrite the report from the last results
    .venv/bin/python bench/run.py --only perf,coldstart
    .venv/bin/python bench/run.py --only quality --splice   # refresh the quality rows alone

Parts: quality (the eval sets' R@5 per encoder; builds the eval-set indexes the others reuse),
perf (warm latency, encoders, indexing), coldstart, scale, restart (a fresh process on a saved
index of a million chunks; builds it once, about half an hour). A "## Load" section already in
RESULTS.md (bench/load_test.py writes it) is kept as it is. With ``--splice`` only what the parts
named by ``--only`` measure is rewritten (their sections, their rows of the targets and of the
parts table); every other line of RESULTS.md stays as it was measured.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT, WORK, load

HERE = Path(__file__).resolve().parent
PARTS = ("quality", "perf", "coldstart", "scale", "restart")
# sections of RESULTS.md that other tools (bench/load_test.py) or people (the hardening record) write
KEEP = ("## Load", "## Hardening")
# what each part writes in RESULTS.md: its sections, and the openings of its rows in the targets
SPLICE = {
    "quality": (("## Encoder quality on the public eval sets",), ("| no speed-up costs",)),
    "perf": (("## Warm `bot.ask` latency", "## Indexing throughput"), ("| warm `bot.ask`", "| indexing")),
    "coldstart": (("## Cold start and memory",), ("| restart with a saved index", "| first answer")),
    "scale": (("## Scale ladder",), ("| 1M chunks",)),
}


def run_parts(parts: list[str], sizes: str) -> dict[str, float]:
    took = {}
    for part in parts:
        args = [sys.executable, str(HERE / f"{part}.py")]
        if part == "scale":
            args += ["--sizes", sizes]
        print(f"== {part}", file=sys.stderr, flush=True)
        started = time.time()
        subprocess.run(args, check=True, cwd=ROOT)
        took[part] = time.time() - started
    return took


def ms(value: float | None) -> str:
    return "–" if value is None else (f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms")


def secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def mb(value: float | None) -> str:
    return "–" if value is None else (f"{value / 1024:.2f} GB" if value >= 1024 else f"{value:.0f} MB")


def verdict(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def plot_latency(perf: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [(k, label) for k, label in (("ask_default", "default corpus"),
                                         ("ask_friendsqa", "FriendsQA corpus"),
                                         ("ask_friendsqa_scoped", "FriendsQA, one transcript"))
             if k in perf]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for row, (key, _) in enumerate(cases):
        data = perf[key]
        left = 0.0
        for part, color in (("encode", "#4c72b0"), ("search", "#dd8452"), ("assemble", "#55a868")):
            width = data[part]["p50"]
            ax.barh(row * 3 + 1, width, left=left, color=color, label=part if row == 0 else None)
            left += width
        ax.barh(row * 3, data["stock"]["p50"], color="#999999",
                label="sentence-transformers encode (yardstick)" if row == 0 else None)
        ax.barh(row * 3 + 1.9, data["ask"]["p50"], color="#222222", height=0.35,
                label="bot.ask, whole" if row == 0 else None)
    ax.set_yticks([row * 3 + 1 for row in range(len(cases))], [label for _, label in cases])
    ax.set_xlabel("p50 latency, ms (warm)")
    ax.set_title("bot.ask, by part, against stock sentence-transformers on the same question")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scale(scale: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rungs = scale["rungs"]
    n = [r["n"] for r in rungs]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for key, label, style in (("exact", "exact (flat)", "o--"), ("chosen", "chosen index", "s-")):
        axes[0].plot(n, [r[key]["search_p50_ms"] for r in rungs], style, label=label)
        axes[1].plot(n, [r[key]["memory_mb"] for r in rungs], style, label=label)
        axes[2].plot(n, [r[key]["recall10"] for r in rungs], style, label=label)
    axes[0].axhline(10, color="red", lw=0.8, ls=":", label="target at 1M")
    axes[1].axhline(1024, color="red", lw=0.8, ls=":", label="target at 1M")
    axes[2].axhline(0.95, color="red", lw=0.8, ls=":", label="target")
    for ax, title in zip(axes, ("search p50 (ms)", "index memory (MB)", "recall@10 vs exact"), strict=True):
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].set_ylim(0.8, 1.01)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(took: dict[str, float]) -> str:
    perf, cold, scale, quality = load("perf"), load("coldstart"), load("scale"), load("quality")
    restart = load("restart")
    lines = ["# Performance (issue 5)", ""]
    loads = {name: (d.get("load_start"), d.get("load_end"), d.get("machine", {}).get("when"))
             for name, d in (("quality", quality), ("perf", perf), ("coldstart", cold), ("scale", scale),
                             ("restart", restart))
             if d}
    machine: dict[str, Any] = next((d["machine"] for d in (perf, cold, scale, quality) if d), {})
    lines += [
        f"Measured by `make bench` (`bench/run.py`) on {machine.get('cpus')} CPUs ({machine.get('cpu')}), "
        f"Python {machine.get('python')}. The machine is shared with other developers' test runs: "
        "the 1-minute load average at the start and end of each part is below. Every latency is "
        "a median over repeats, taken in turns with its yardstick in the same process (or, for "
        "cold starts, in alternating processes), so a ratio compares like with like even when the "
        "absolute numbers move with the load.", "",
        "| part | when | load at start | load at end | took |", "| --- | --- | ---: | ---: | ---: |"]
    for name, (start, end, when) in loads.items():
        lines.append(f"| {name} | {when} | {start:.1f} | {end:.1f} | "
                     f"{(took.get(name, 0) and f'{took[name]:.0f} s') or '–'} |")
    lines.append("")

    # -- targets --------------------------------------------------------------------------
    lines += ["## Targets", "", "| target | measured | yardstick (same run) | holds |",
              "| --- | --- | --- | --- |"]
    if perf:
        for key, label in (("ask_default", "default corpus"), ("ask_friendsqa", "FriendsQA corpus")):
            if key in perf:
                a, s = perf[key]["ask"]["p50"], perf[key]["stock"]["p50"]
                lines.append(f"| warm `bot.ask` p50 <= 1.0x stock encode ({label}) | {ms(a)} "
                             f"({a / s:.2f}x) | sentence-transformers `encode`, same question: {ms(s)} | "
                             f"{verdict(a <= s)} |")
        if "indexing" in perf:
            i = perf["indexing"]
            lines.append(f"| indexing >= 0.9x plain `encode` | {i['ours_chars_per_s']:,.0f} chars/s "
                         f"({i['ratio']:.2f}x) | `encode` of the same {i['texts']:,} texts: "
                         f"{i['plain_chars_per_s']:,.0f} chars/s | {verdict(i['ratio'] >= 0.9)} |")
    if cold:
        saved = cold["saved"]
        zero = all(e == 0 for e in saved["embedded"]) and all(c == 1 for c in saved["calls"])
        lines.append(f"| restart with a saved index: zero embeddings | embedded "
                     f"{max(saved['embedded'])} passages (the question only) | – | {verdict(zero)} |")
        lines.append(f"| first answer within 2 s after imports | {secs(saved['after_imports_s'])} "
                     f"(process start to answer {secs(saved['total_s'])}) | stock process, start to "
                     f"one encoded question: {secs(cold['stock']['total_s'])} | "
                     f"{verdict(saved['after_imports_s'] <= 2)} |")
    if scale:
        top = scale["rungs"][-1]
        c = top["chosen"]
        if top["n"] >= 1_000_000:
            lines.append(f"| 1M chunks: search p50 <= 10 ms | {ms(c['search_p50_ms'])} ({c['kind']}) | "
                         f"exact: {ms(top['exact']['search_p50_ms'])} | "
                         f"{verdict(c['search_p50_ms'] <= 10)} |")
            lines.append(f"| 1M chunks: index memory <= 1 GB | {mb(c['memory_mb'])} | exact: "
                         f"{mb(top['exact']['memory_mb'])} | {verdict(c['memory_mb'] <= 1024)} |")
            lines.append(f"| 1M chunks: recall@10 >= 0.95 vs exact | {c['recall10']:.3f} | exact: 1 | "
                         f"{verdict(c['recall10'] >= 0.95)} |")
    lines += restart_targets(restart)
    if quality:
        worst = min(q["variants"]["auto"]["R@5"] - q["variants"]["onnx"]["R@5"]
                    for q in quality["datasets"].values())
        lines.append(f"| no speed-up costs > 1 point of R@5 | default encoders: {100 * worst:+.1f} points "
                     f"at worst | torch (= float32 ONNX) | {verdict(worst >= -0.01)} |")
    lines.append("")

    # -- latency ----------------------------------------------------------------------------
    if perf:
        b = perf.get("backend", {})
        lines += ["## Warm `bot.ask` latency", "",
                  f"Encoders in use: passages `{b.get('passages')}`, questions `{b.get('questions')}` "
                  "(`QA_BOT_BACKEND=auto`). `bot.ask` today embeds the question with `encode` (float32); "
                  "the `encode_query` column is the int8 question encoder that `bot.ask` would use "
                  "(a requested change to `qa_bot/bot.py`). Search is `Retriever.search` (BM25 twice, "
                  "the dense index, exact scores of the candidates); assembly is `answers.assemble`.", "",
                  "| corpus | chunks | dense index | `bot.ask` p50 | p95 | encode | encode_query | search | "
                  "assemble | stock `encode` p50 | p95 | ratio |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, label in (("ask_default", "default (one interview)"), ("ask_friendsqa", "FriendsQA, all"),
                           ("ask_friendsqa_scoped", "FriendsQA, one transcript")):
            if key in perf:
                d = perf[key]
                lines.append(f"| {label} | {d['chunks']:,} | {d['dense_index']} | {ms(d['ask']['p50'])} | "
                             f"{ms(d['ask']['p95'])} | {ms(d['encode']['p50'])} | "
                             f"{ms(d['encode_query']['p50'])} | {ms(d['search']['p50'])} | "
                             f"{ms(d['assemble']['p50'])} | {ms(d['stock']['p50'])} | "
                             f"{ms(d['stock']['p95'])} | {d['ask']['p50'] / d['stock']['p50']:.2f}x |")
        lines += ["", "![latency](latency.png)", "", "### Encoders, one question", "",
                  "| encoder | p50 | p95 |", "| --- | ---: | ---: |"]
        for name, d in perf["encoders"].items():
            lines.append(f"| {name} | {ms(d['p50'])} | {ms(d['p95'])} |")
        if "batches" in perf:
            lines += ["", "### Encoder threads and batch size (float32 ONNX, 512 FriendsQA chunks)", "",
                      "| setting | texts/s |", "| --- | ---: |"]
            for name, d in perf["batches"].items():
                lines.append(f"| {name} | {d['texts_per_s']:.0f} |")
        if "indexing" in perf:
            i = perf["indexing"]
            lines += ["", "## Indexing throughput", "",
                      f"`QaBot.open` on an empty index folder (parse, chunk, embed, FAISS, save) over "
                      f"{i['transcripts']} QMSum transcripts ({i['chars']:,} characters, "
                      f"{i['texts']:,} texts "
                      f"embedded, backend `{i['backend']}`), against sentence-transformers' `encode` of the "
                      "same texts (its defaults: batch 32, sorted by length), alternating, median of "
                      f"{len(i['ours_s'])}:", "",
                      "| | seconds | transcript chars/s |", "| --- | ---: | ---: |",
                      f"| qa_bot indexing | {min(i['ours_s']):.1f}–{max(i['ours_s']):.1f} | "
                      f"{i['ours_chars_per_s']:,.0f} |",
                      f"| plain `encode` | {min(i['plain_s']):.1f}–{max(i['plain_s']):.1f} | "
                      f"{i['plain_chars_per_s']:,.0f} |", "",
                      f"Ratio {i['ratio']:.2f}x."]
        lines.append("")

    # -- cold start -------------------------------------------------------------------------
    if cold:
        lines += ["## Cold start and memory", "",
                  "Fresh processes over the default corpus: `import qa_bot`, `qa_bot.load`, one "
                  "`bot.ask`. \"Imports\" is process start to `import qa_bot` done (the package defers "
                  "FAISS, ONNX Runtime and the model to first use, so their loading counts in \"after "
                  "imports\"). The yardstick process imports sentence-transformers, loads the model and "
                  "encodes the question.", "",
                  "| case | start to answer | imports | after imports | of which loading | first answer | "
                  "peak RSS | passages embedded |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, label in (("saved", "saved index (default encoders)"),
                           ("saved_torch", "saved index, `QA_BOT_BACKEND=torch`"),
                           ("no_index", "no index (exported model cached)"),
                           ("no_index_no_cache", "no index, no exported model (first run on a machine)"),
                           ("stock", "yardstick: sentence-transformers process")):
            d = cold[key]
            embedded = "–" if "embedded" not in d else f"{max(d['embedded'])}"
            lines.append(f"| {label} | {secs(d['total_s'])} | {secs(d['imports_s'])} | "
                         f"{secs(d['after_imports_s'])} | {secs(d['load_s'])} | "
                         f"{secs(d['first_answer_s'])} | "
                         f"{mb(d['peak_rss_mb'])} | {embedded} |")
        lines += ["", f"`qa-bot --help`: {secs(cold['help_s'])} (an empty `python -c pass`: "
                  f"{secs(cold['python_s'])}); torch imported with a saved index: "
                  f"{any(cold['saved']['torch'])}.", ""]
        if perf:
            lines += [f"Peak RSS of the warm-latency process (which also holds torch and "
                      f"sentence-transformers for the yardstick, and the FriendsQA index): "
                      f"{mb(perf['peak_rss_mb'])}.", ""]

    # -- scale ------------------------------------------------------------------------------
    if scale:
        lines += ["## Scale ladder", "", f"Vectors: {scale['vectors']}. They stand in for embeddings "
                  "to isolate the index: no model runs here. Each search asks for the retriever's 64 "
                  "candidates, one question at a time on one thread; recall@10 is the share of exact "
                  "search's top 10 found in the index's top 10. Scoped: 1,000 rows selected through "
                  "`SearchParameters(sel=IDSelectorBatch)`, as the retriever passes a transcript or "
                  "speaker scope. Memory is the index's size (its file, which FAISS loads whole).", "",
                  "| chunks | index | build | search p50 | scoped p50 | memory | recall@10 | "
                  "scoped recall@10 |",
                  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in scale["rungs"]:
            e, c = r["exact"], r["chosen"]
            lines.append(f"| {r['n']:,} | exact (yardstick) | {secs(e['build_s'])} | "
                         f"{ms(e['search_p50_ms'])} | "
                         f"{ms(e['scoped_p50_ms'])} | {mb(e['memory_mb'])} | 1 | 1 |")
            lines.append(f"| {r['n']:,} | **chosen: {c['kind']}** | {secs(c['build_s'])} | "
                         f"{ms(c['search_p50_ms'])} | {ms(c['scoped_p50_ms'])} | {mb(c['memory_mb'])} | "
                         f"{c['recall10']:.3f} | {c['scoped_recall10']:.3f} |")
            if "ivf_here" in r:
                a = r["ivf_here"]
                lines.append(f"| {r['n']:,} | (not chosen: {a['kind']}) | | {ms(a['search_p50_ms'])} | | | "
                             f"{a['recall10']:.3f} | |")
            if "ivf_uniform" in r:
                a = r["ivf_uniform"]
                lines.append(f"| {r['n']:,} | (worst case: {a['kind']} on uniform random vectors) | | "
                             f"{ms(a['search_p50_ms'])} | | | {a['recall10']:.3f} | |")
        lines += ["", "![scale](scale.png)", "", "BM25 (bm25s) as the retriever builds it when the bot "
                  "loads, over generated chunk texts (Zipf-distributed pseudo-words, 8 to 30 a "
                  "chunk) and over each chunk's three-turn context; then `Retriever.search` of a "
                  "question (both BM25 scores, the dense candidates, exact scores, fusion), all chunks "
                  "and one transcript of 1,000:", "",
                  "| chunks | text | BM25 chunks: build | memory | BM25 contexts: build | memory | "
                  "`Retriever` init | search p50 | scoped p50 |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in scale["rungs"]:
            if "bm25" in r:
                b = r["bm25"]
                lines.append(f"| {r['n']:,} | {b['chars'] / 1e6:.0f} M chars | {secs(b['chunks_build_s'])} | "
                             f"{mb(b['chunks_rss_growth_mb'])} | {secs(b['context_build_s'])} | "
                             f"{mb(b['context_rss_growth_mb'])} | {secs(b['retriever_init_s'])} | "
                             f"{ms(b['search_p50_ms'])} | {ms(b['scoped_search_p50_ms'])} |")
        lines += ["", f"Peak RSS of the ladder's process: {mb(scale.get('peak_rss_mb'))}.", ""]
    lines += restart_section(restart)

    # -- quality ----------------------------------------------------------------------------
    if quality:
        q_machine = quality.get("machine", {})
        lines += ["## Encoder quality on the public eval sets", "",
                  "The eval harness's `full` mode (`qa_bot.evaluation.evaluate`), each question scoped to "
                  "its transcript. `onnx` gives the torch model's vectors (checked below), so its row is "
                  f"the baseline. Measured {q_machine.get('when')} on {q_machine.get('cpus')} CPUs "
                  f"({q_machine.get('cpu')}): quality, not timing, so the machine's load does not "
                  "change these rows.", "",
                  "| dataset | questions | encoders | R@1 | R@3 | R@5 | ΔR@5 | MRR | no answer |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        labels = {"onnx": "float32 ONNX (= torch)", "auto": "**default**: float32 passages, int8 questions",
                  "onnx-int8": "int8 passages and questions"}
        for name, d in quality["datasets"].items():
            base = d["variants"]["onnx"]["R@5"]
            for variant, v in d["variants"].items():
                lines.append(f"| {name} | {d['questions']} | {labels[variant]} | {v['R@1']:.3f} | "
                             f"{v['R@3']:.3f} | "
                             f"{v['R@5']:.3f} | {100 * (v['R@5'] - base):+.1f} | {v['MRR']:.3f} | "
                             f"{v['no_answer']:.3f} |")
        eq = quality.get("equivalence", {})
        if eq:
            lines += ["", f"Float32 ONNX against sentence-transformers (torch), sampled eval-set texts: "
                      f"passages min cosine {eq['passages_fp32_min_cos']:.7f} (max |Δ| "
                      f"{eq['passages_fp32_max_abs']:.1e}), questions min cosine "
                      f"{eq['questions_fp32_min_cos']:.7f}. The int8 question encoder: mean cosine "
                      f"{eq['questions_int8_mean_cos']:.4f} (min {eq['questions_int8_min_cos']:.4f}) on "
                      f"questions, {eq['passages_int8_mean_cos']:.4f} "
                      f"(min {eq['passages_int8_min_cos']:.4f}) "
                      "on passages."]
        lines.append("")
    lines += CHANGES.splitlines()
    return "\n".join(lines)


CHANGES = """## What makes it fast

* **Encoder.** `qa_bot/onnx_model.py` exports the bundled model once to ONNX from its local
  safetensors (after the pinned SHA-256 check; torch's exporter, mean pooling and normalisation in
  the graph), checks the export against torch on probe sentences, and caches it under
  `~/.cache/qa_bot` (`QA_BOT_CACHE`). ONNX Runtime then runs it with the model's own tokenizer:
  no torch, no sentence-transformers in the process. Passages (the index) use the float32 export:
  the torch vectors to 1e-7, so an index built by either backend serves the other; questions
  (`encode_query`) use an int8 copy (dynamic, per-channel weights), within half a point of R@5.
  int8 for passages too cost 1.3 points of R@5 on QMSum, so it is only an option
  (`QA_BOT_BACKEND=onnx-int8`; `onnx` and `torch` are the others). Without onnxruntime, or for a
  model ONNX cannot run, `auto` falls back to sentence-transformers.
* **Threads and batches.** The int8 question encoder runs on one intra-op thread: as fast as two
  on an idle machine (table above), and much faster on a busy one, where a second thread's
  barrier waits cost more than it saves (while exploring, under a load average of 10, torch on
  2 threads took 1.2 s a question against 21 ms on one; ONNX float32 6.6 ms on two spinning
  threads against 2.6 ms on one). The float32 encoder takes every core (`QA_BOT_THREADS`),
  its threads sleeping rather than spinning between runs; batches are sorted by length, at most
  32 texts a run (the padding makes 64 and 256 slower, table above).
* **Dense index.** `qa_bot/vectors.py` keeps chunk vectors in a flat (exact) index up to 100,000
  chunks and in an IVF index over float16 vectors beyond (`IVF<2 sqrt(n)>,SQfp16`, 2048 lists at
  a million, 3/16 of them searched), chosen from the ladder above: a flat index at a million is
  1.5 GB and ~50 ms a question. The store answers the retriever's calls as before
  (`search` with a selector, `reconstruct_batch`, `reconstruct_n`); a scoped search scans every
  list but scores only the selected rows, so it stays exact. Every single-question search runs on
  one OpenMP thread (FAISS's two threads cost 9 ms instead of 1.5 ms at 26k chunks under load).
  Everything is still `.faiss` files, never pickle; an update re-uses the trained lists.
* **Lazy imports.** `import qa_bot` and `qa-bot --help` load no model, FAISS, ONNX Runtime or
  torch; with a saved index and the ONNX backend, answering never imports torch.

## Not done, or limits

* `bot.ask` embeds its question with `encode` (float32), not `encode_query` (int8, measured
  above): the latency target holds without it, and int8 changed one of the interview's answers.
* The ladder's vectors are random (Gaussian with real embeddings' covariance, real questions),
  not real embeddings of a million chunks; on uniform random vectors the same IVF finds well
  under half of the true top 10 (table above), as any index without exhaustive search would.
* At a million chunks, BM25 takes most of a minute and ~0.8 GB to build. It is saved beside the
  vectors and memory-mapped at a restart (table "Restart at a million chunks"), but still built
  whole at every write (an upload, a changed transcript), while the writer holds the folder's lock.
* A restart at a million chunks is still about a minute, not 2 s: BM25 is gone from it, but
  `index.sync` copies every saved vector into a new FAISS index even when nothing changed (about
  half of it), the million JSON Lines records are parsed into `Chunk` objects, the corpus is parsed
  and every record checked against it; and the process holds 5-7 GB (the records, the turn vectors
  as a dense array, the copies of the reassembly). `bot.ask` at a million chunks is ~5x stock
  `encode`, the same before and after (so not the memory-mapped files; not profiled yet).
"""


def restart_targets(r: dict[str, Any] | None) -> list[str]:
    """The issue 12 targets for the embedded default at a million chunks (bench/restart.py)."""
    if not r or r["n"] < 1_000_000:
        return []
    a = r["after"]
    ratio = a["turns_ask_p50_ms"] / a["stock_p50_ms"]
    return [f"| 1M chunks: restart to first answer <= 2 s (fresh process, `QaBot.open` + `ask`) | "
            f"{secs(a['restart_s'])} | before (BM25 rebuilt): "
            f"{secs(r['before']['restart_s']) if 'before' in r else '–'} | {verdict(a['restart_s'] <= 2)} |",
            f"| 1M chunks: `bot.ask` p50 <= 1.0x stock encode | {ms(a['turns_ask_p50_ms'])} ({ratio:.2f}x) | "
            f"stock `encode`: {ms(a['stock_p50_ms'])} | {verdict(ratio <= 1)} |",
            f"| 1M chunks: resident memory <= 1.5 GB (vectors and BM25) | {mb(a['peak_rss_mb'])} peak | "
            f"before: {mb(r['before']['peak_rss_mb']) if 'before' in r else '–'} | "
            f"{verdict(a['peak_rss_mb'] <= 1536)} |"]


def restart_section(r: dict[str, Any] | None) -> list[str]:
    """The scale ladder's restart subsection (bench/restart.py)."""
    if not r:
        return []
    b, a = r["build"], r["after"]
    runs = [("after: saved BM25, memory-mapped", a)] + \
        ([(f"before: BM25 rebuilt, every file hashed (`{Path(r['before']['checkout']).name}`)", r["before"])]
         if "before" in r else []) + \
        [("after, `QA_BOT_VERIFY_INDEX=full` (every file hashed)", r["verify_full"])]
    lines = ["### Restart at a million chunks", "",
             f"`bench/restart.py`: a fresh process runs `QaBot.open` on a saved index and asks one question "
             f"(the whole pipeline with the bundled model), then {len(r.get('questions', [])) or 30} more, "
             f"then the same questions in turns with stock sentence-transformers `encode` in that process. "
             f"Corpus: {b['files']:,} generated dialogue files ({b['corpus_mb']:.0f} MB), "
             f"{b['chunks']:,} chunks, {b['turn_units']:,} turns in context; random vectors "
             f"({b['chunk_index']}); index folder {mb(b['index_mb'])}, of which BM25 {mb(b['bm25_mb'])}; "
             f"built once in {b['build_s'] / 60:.0f} min. Load average (1 min) at each run's start and end "
             "in the last column.", "",
             "| run | restart to first answer | imports | open | parse corpus | read index | record check | "
             "reassemble | BM25 | first answer | `ask` p50 | peak RSS | load |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, x in runs:
        p = x["phases"]
        load_now = x.get("loads", [(x.get("load_start"), x.get("load_end"))])
        loads = ", ".join(f"{s:.1f}-{e:.1f}" for s, e in load_now if s is not None)
        lines.append(f"| {label} | {secs(x['restart_s'])} | {secs(x.get('imports_s'))} | "
                     f"{secs(x['open_s'])} | "
                     f"{secs(p.get('parse_corpus_s'))} | {secs(p.get('read_index_s'))} | "
                     f"{secs(p.get('check_records_s'))} | {secs(p.get('assemble_s'))} | "
                     f"{secs(p.get('bm25_s'))} | "
                     f"{secs(x.get('first_answer_s'))} | {ms(x.get('ask_p50_ms'))} | "
                     f"{mb(x.get('peak_rss_mb'))} | {loads} |")
    lines += ["", f"Warm `bot.ask` p50 {ms(a['turns_ask_p50_ms'])} against stock `encode` "
              f"{ms(a['stock_p50_ms'])} ({a['turns_ask_p50_ms'] / a['stock_p50_ms']:.2f}x)"
              + (f"; before: {ms(r['before']['turns_ask_p50_ms'])} against {ms(r['before']['stock_p50_ms'])}"
                 if "before" in r else "") +
              f". SHA-256 of every index file, page cache warm: {secs(r['hash_all_s'])} (what each load "
              "paid before; now only for a file whose size or time changed since it was written). "
              "Open = `QaBot.open`; read index (`index.load`) includes the BM25 files' memory maps; "
              "reassemble = `index._assemble`, which copies every saved vector into a new FAISS "
              "index even when nothing changed; BM25 = `Retriever.prepare` (a rebuild before, nothing "
              "now). Peak RSS is the process's `VmHWM`, before the stock model is loaded.", ""]
    return lines


def kept_sections(text: str) -> str:
    """The sections of an existing RESULTS.md that ``make bench`` does not write, in their order."""
    found = []
    for head in KEEP:
        if head in text:
            start = text.index(head)
            end = text.find("\n## ", start + len(head))
            found.append((start, (text[start:] if end < 0 else text[start:end]).strip("\n")))
    return "\n\n".join(section for _, section in sorted(found))


def section(text: str, head: str) -> tuple[int, int] | None:
    """Where the section opened by ``head`` (a whole line) runs in ``text``, up to the next one."""
    start = text.find(head + "\n")
    if start < 0 or (start and text[start - 1] != "\n"):
        return None
    end = text.find("\n## ", start + len(head))
    return start, len(text) if end < 0 else end + 1


def splice(old: str, new: str, parts: list[str]) -> str:
    """``old`` with what ``parts`` measure taken from ``new``: their sections, their target rows and
    their rows of the parts table; every other line of ``old`` kept."""
    for part in parts:
        heads, rows = SPLICE[part]
        for head in heads:
            found, fresh = section(old, head), section(new, head)
            if found is None or fresh is None:
                raise SystemExit(f"--splice: {head!r} is not in both the old and the new report")
            old = old[:found[0]] + new[fresh[0]:fresh[1]] + old[found[1]:]
        for prefix in (*rows, f"| {part} | "):
            lines = old.split("\n")
            at = [i for i, line in enumerate(lines) if line.startswith(prefix)]
            fresh_rows = [line for line in new.split("\n") if line.startswith(prefix)]
            if not at or not fresh_rows:
                raise SystemExit(f"--splice: no {prefix!r} row in both the old and the new report")
            lines = lines[:at[0]] + fresh_rows + [x for i, x in enumerate(lines) if i > at[0] and i not in at]
            old = "\n".join(lines)
    return old


def write_report(took: dict[str, float], parts: list[str] | None = None) -> None:
    """RESULTS.md from the results; with ``parts``, only what those parts measure is replaced."""
    out = HERE / "RESULTS.md"
    if parts is not None:
        if "perf" in parts and load("perf"):
            plot_latency(load("perf") or {}, HERE / "latency.png")
        if "scale" in parts and (load("scale") or {}).get("rungs"):
            plot_scale(load("scale") or {}, HERE / "scale.png")
        out.write_text(splice(out.read_text(encoding="utf-8"), report(took), parts), encoding="utf-8")
        print(f"wrote {out} ({', '.join(parts)} only)", file=sys.stderr)
        return
    kept = kept_sections(out.read_text(encoding="utf-8")) if out.exists() else ""
    perf, scale = load("perf"), load("scale")
    if perf:
        plot_latency(perf, HERE / "latency.png")
    if scale and scale.get("rungs"):
        plot_scale(scale, HERE / "scale.png")
    body = report(took)
    if kept:
        body = body.rstrip("\n") + "\n\n" + kept.strip("\n") + "\n"
    out.write_text(body, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated of {', '.join(PARTS)}")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="the scale ladder's rungs")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--splice", action="store_true",
                        help="rewrite only what the --only parts measure; keep the rest of RESULTS.md")
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    took: dict[str, float] = {}
    timing = WORK / "results" / "took.json"
    if not args.report_only:
        import json

        took = run_parts(parts, args.sizes)
        previous = json.loads(timing.read_text()) if timing.exists() else {}
        timing.parent.mkdir(parents=True, exist_ok=True)
        timing.write_text(json.dumps(previous | took))
    if timing.exists():
        import json

        took = json.loads(timing.read_text()) | took
    write_report(took, parts if args.splice else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
