"""Write the reports' figures from ``bench/results/*.json``: ``python -m bench.render``.

The prose lives in the Markdown files (RESULTS.md, THRESHOLD.md, RANKING.md); each figure or table
stands between ``<!-- bench:NAME -->`` and ``<!-- /bench -->`` and is replaced here, the whitespace
around it kept. The charts (latency.png, scale.png, threshold_hist.png) come from the same results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bench.common import BENCH, RESULTS
from bench.load_test import HEAD as LOAD_HEAD
from bench.load_test import row as load_row

PHASES = ("parse_corpus_s", "read_index_s", "check_records_s", "assemble_s", "bm25_s")
MARKER = re.compile(r"(<!-- bench:([\w.-]+) -->)(\s*)(.*?)(\s*)(<!-- /bench -->)", re.S)


def ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"


def secs(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s"


def mb(v: float | None) -> str:
    return "–" if v is None else f"{v / 1024:.2f} GB" if v >= 1024 else f"{v:.0f} MB"


def yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def table(head: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; a column whose name starts with ">" is right-aligned."""
    lines = [[h.lstrip(">") for h in head], ["---:" if h[:1] == ">" else "---" for h in head], *rows]
    return "\n".join(re.sub(r"(?<=\|)  (?=\|)", " ", "| " + " | ".join(map(str, r)) + " |") for r in lines)


def targets(r: dict[str, Any]) -> str:
    """The targets table: each target beside its yardstick, measured in the same run."""
    perf, cold, top, restart = r["perf"], r["coldstart"], r["scale"]["rungs"][-1], r["restart"]
    rows = [[f"warm `bot.ask` p50 <= 1.0x stock encode ({label})", f"{ms(x)} ({x / s:.2f}x)",
             f"sentence-transformers `encode`, same question: {ms(s)}", yes(x <= s)]
            for key, label in (("ask_default", "default corpus"), ("ask_friendsqa", "FriendsQA corpus"))
            for x, s in [(perf[key]["ask"]["p50"], perf[key]["stock"]["p50"])]]
    i, saved, c, e = perf["indexing"], cold["saved"], top["chosen"], top["exact"]
    rows += [["indexing >= 0.9x plain `encode`", f"{i['ours_chars_per_s']:,.0f} chars/s ({i['ratio']:.2f}x)",
              f"`encode` of the same {i['texts']:,} texts: {i['plain_chars_per_s']:,.0f} chars/s",
              yes(i["ratio"] >= 0.9)],
             ["restart with a saved index: zero embeddings",
              f"embedded {saved['embedded']} passages (the question only)", "–",
              yes(saved["embedded"] == 0 and saved["calls"] == 1)],
             ["first answer within 2 s after imports",
              f"{secs(saved['after_imports_s'])} (process start to answer {secs(saved['total_s'])})",
              f"stock process, start to one encoded question: {secs(cold['stock']['total_s'])}",
              yes(saved["after_imports_s"] <= 2)]]
    if top["n"] >= 1_000_000:
        rows += [["1M chunks: search p50 <= 10 ms", f"{ms(c['search_p50_ms'])} ({c['kind']})",
                  f"exact: {ms(e['search_p50_ms'])}", yes(c["search_p50_ms"] <= 10)],
                 ["1M chunks: index memory <= 1 GB", mb(c["memory_mb"]), f"exact: {mb(e['memory_mb'])}",
                  yes(c["memory_mb"] <= 1024)],
                 ["1M chunks: recall@10 >= 0.95 vs exact", f"{c['recall10']:.3f}", "exact: 1",
                  yes(c["recall10"] >= 0.95)]]
    a, before = restart["after"], restart.get("before", {})
    if restart["n"] >= 1_000_000:
        rows += [["1M chunks: restart to first answer <= 2 s (fresh process, `QaBot.open` + `ask`)",
                  secs(a["restart_s"]), f"{before.get('short', 'before')}: {secs(before.get('restart_s'))}",
                  yes(a["restart_s"] <= 2)],
                 ["1M chunks: `bot.ask` p50 <= 1.0x stock encode",
                  f"{ms(a['turns_ask_p50_ms'])} ({a['ask_ratio']:.2f}x)",
                  f"stock `encode`: {ms(a['stock_p50_ms'])}", yes(a["ask_ratio"] <= 1)],
                 ["1M chunks: resident memory <= 1.5 GB (vectors and BM25)",
                  f"{mb(a['peak_rss_mb'])} peak", f"before: {mb(before.get('peak_rss_mb'))}",
                  yes(a["peak_rss_mb"] <= 1536)]]
    worst = min(d["variants"]["auto"]["R@5"] - d["variants"]["onnx"]["R@5"]
                for d in r["quality"]["datasets"].values())
    rows.append(["no speed-up costs > 1 point of R@5",
                 f"default encoders: {100 * worst:+.1f} points at worst", "torch (= float32 ONNX)",
                 yes(worst >= -0.01)])
    return table(["target", "measured", "yardstick (same run)", "holds"], rows)


def perf_md(perf: dict[str, Any]) -> dict[str, str]:
    i, b = perf["indexing"], perf["backend"]
    cases = (("ask_default", "default (one interview)"), ("ask_friendsqa", "FriendsQA, all"),
             ("ask_friendsqa_scoped", "FriendsQA, one transcript"))
    return {
        "encoders": f"passages `{b['passages']}`, questions `{b['questions']}`",
        "latency": table(["corpus", ">chunks", "dense index", ">`bot.ask` p50", ">p95", ">encode",
                          ">encode_query", ">search", ">assemble", ">stock `encode` p50", ">p95", ">ratio"], [
            [label, f"{d['chunks']:,}", d["dense_index"], ms(d["ask"]["p50"]), ms(d["ask"]["p95"]),
             *(ms(d[k]["p50"]) for k in ("encode", "encode_query", "search", "assemble", "stock")),
             ms(d["stock"]["p95"]), f"{d['ask']['p50'] / d['stock']['p50']:.2f}x"]
            for key, label in cases for d in [perf[key]]]),
        "encoder-latency": table(["encoder", ">p50", ">p95"],
                                 [[k, ms(d["p50"]), ms(d["p95"])] for k, d in perf["encoders"].items()]),
        "batches": table(["setting", ">texts/s"],
                         [[k, f"{d['texts_per_s']:.0f}"] for k, d in perf["batches"].items()]),
        "indexing.corpus": f"{i['transcripts']} QMSum transcripts ({i['chars']:,} characters, "
                           f"{i['texts']:,} texts embedded, backend `{i['backend']}`)",
        "indexing": table(["", ">seconds", ">transcript chars/s"], [
            [label, f"{min(t):.1f}–{max(t):.1f}", f"{rate:,.0f}"] for label, t, rate in (
                ("qa_bot indexing", i["ours_s"], i["ours_chars_per_s"]),
                ("plain `encode`", i["plain_s"], i["plain_chars_per_s"]))]) + f"\n\nRatio {i['ratio']:.2f}x.",
        "perf.rss": mb(perf["peak_rss_mb"])}


def coldstart_md(cold: dict[str, Any]) -> dict[str, str]:
    cases = (("saved", "saved index (default encoders)"),
             ("saved_torch", "saved index, `QA_BOT_BACKEND=torch`"),
             ("no_index", "no index (exported model cached)"),
             ("no_index_no_cache", "no index, no exported model (first run on a machine)"),
             ("stock", "yardstick: sentence-transformers process"))
    times = ("total_s", "imports_s", "after_imports_s", "load_s", "first_answer_s")
    return {"coldstart": table(["case", ">start to answer", ">imports", ">after imports", ">of which loading",
                                ">first answer", ">peak RSS", ">passages embedded"], [
        [label, *(secs(d[k]) for k in times), mb(d["peak_rss_mb"]), d.get("embedded", "–")]
        for key, label in cases for d in [cold[key]]]) + (
        f"\n\n`qa-bot --help`: {secs(cold['help_s'])} (an empty `python -c pass`: "
        f"{secs(cold['python_s'])}); torch imported with a saved index: {cold['saved']['torch']}.")}


def scale_md(scale: dict[str, Any]) -> dict[str, str]:
    rows = []
    for rung in scale["rungs"]:
        n, e, c = f"{rung['n']:,}", rung["exact"], rung["chosen"]
        rows += [[n, "exact (yardstick)", secs(e["build_s"]), ms(e["search_p50_ms"]), ms(e["scoped_p50_ms"]),
                  mb(e["memory_mb"]), 1, 1],
                 [n, f"**chosen: {c['kind']}**", secs(c["build_s"]), ms(c["search_p50_ms"]),
                  ms(c["scoped_p50_ms"]), mb(c["memory_mb"]), f"{c['recall10']:.3f}",
                  f"{c['scoped_recall10']:.3f}"]]
        rows += [[n, label.format(x["kind"]), "", ms(x["search_p50_ms"]), "", "", f"{x['recall10']:.3f}", ""]
                 for key, label in (("ivf_here", "(not chosen: {})"),
                                    ("ivf_uniform", "(worst case: {} on uniform random vectors)"))
                 if (x := rung.get(key))]
    return {"scale.vectors": scale["vectors"], "scale.rss": mb(scale["peak_rss_mb"]),
            "scale": table([">chunks", "index", ">build", ">search p50", ">scoped p50", ">memory",
                            ">recall@10", ">scoped recall@10"], rows),
            "bm25": table([">chunks", ">text", ">BM25 chunks: build", ">memory", ">BM25 contexts: build",
                           ">memory", ">`Retriever` init", ">search p50", ">scoped p50"], [
                [f"{x['n']:,}", f"{b['chars'] / 1e6:.0f} M chars", secs(b["chunks_build_s"]),
                 mb(b["chunks_rss_growth_mb"]), secs(b["context_build_s"]), mb(b["context_rss_growth_mb"]),
                 secs(b["retriever_init_s"]), ms(b["search_p50_ms"]), ms(b["scoped_search_p50_ms"])]
                for x in scale["rungs"] for b in [x["bm25"]]])}


def restart_md(restart: dict[str, Any]) -> dict[str, str]:
    a, b, before = restart["after"], restart["build"], restart.get("before")
    runs = [("after: saved BM25, memory-mapped", a)]
    if before:
        runs.append((before.get("label", f"before (`{before['checkout']}`)"), before))
    runs.append(("after, `QA_BOT_VERIFY_INDEX=full` (every file hashed)", restart["verify_full"]))
    was = f"; before: {ms(before['turns_ask_p50_ms'])} against {ms(before['stock_p50_ms'])}" if before else ""
    return {
        "restart.corpus": f"{b['files']:,} generated dialogue files ({b['corpus_mb']:.0f} MB), "
                          f"{b['chunks']:,} chunks, {b['turn_units']:,} turns in context; random vectors "
                          f"({b['chunk_index']}); index folder {mb(b['index_mb'])}, of which BM25 "
                          f"{mb(b['bm25_mb'])}; built once in {b['build_s'] / 60:.0f} min",
        "restart": table(["run", ">restart to first answer", ">imports", ">open", ">parse corpus",
                          ">read index", ">record check", ">reassemble", ">BM25", ">first answer",
                          ">`ask` p50", ">peak RSS", ">load"], [
            [label, secs(x["restart_s"]), secs(x["imports_s"]), secs(x["open_s"]),
             *(secs(x["phases"].get(k)) for k in PHASES), secs(x["first_answer_s"]),
             ms(x.get("ask_p50_ms")), mb(x["peak_rss_mb"]),
             ", ".join(f"{s:.1f}-{e:.1f}" for s, e in x["loads"])]
            for label, x in runs]),
        "restart.ask": f"{ms(a['turns_ask_p50_ms'])} against stock `encode` {ms(a['stock_p50_ms'])} "
                       f"({a['ask_ratio']:.2f}x){was}",
        "restart.hash": secs(restart["hash_all_s"])}


def quality_md(quality: dict[str, Any]) -> dict[str, str]:
    q, eq = quality["machine"], quality["equivalence"]
    labels = {"onnx": "float32 ONNX (= torch)", "auto": "**default**: float32 passages, int8 questions",
              "onnx-int8": "int8 passages and questions"}
    return {
        "quality.machine": f"{q['when']} on {q['cpus']} CPUs ({q['cpu']})",
        "quality": table(["dataset", ">questions", "encoders", ">R@1", ">R@3", ">R@5", ">ΔR@5", ">MRR",
                          ">no answer"], [
            [name, d["questions"], labels[k], *(f"{v[m]:.3f}" for m in ("R@1", "R@3", "R@5")),
             f"{100 * (v['R@5'] - d['variants']['onnx']['R@5']):+.1f}", f"{v['MRR']:.3f}",
             f"{v['no_answer']:.3f}"]
            for name, d in quality["datasets"].items() for k, v in d["variants"].items()]),
        "quality.equivalence": (
            f"passages min cosine {eq['passages_fp32_min_cos']:.7f} (max |Δ| "
            f"{eq['passages_fp32_max_abs']:.1e}), questions min cosine {eq['questions_fp32_min_cos']:.7f}. "
            f"The int8 question encoder: mean cosine {eq['questions_int8_mean_cos']:.4f} (min "
            f"{eq['questions_int8_min_cos']:.4f}) on questions, {eq['passages_int8_mean_cos']:.4f} (min "
            f"{eq['passages_int8_min_cos']:.4f}) on passages")}


def load_md(load: dict[str, Any]) -> dict[str, str]:
    s, m = load["main"], load["machine"]
    result = f"**{s['errors']} errors**" if s["errors"] else "no errors"
    return {"load": (
        f"{s['clients']} concurrent `gradio_client` clients (in {s['processes']} processes) asking the "
        f"app's `/ask` API on loopback for {s['duration_s']:g} s, each asking again as soon as it has its "
        "answer, over the bundled corpus with the real model; half-way through, one more client adds a "
        f"transcript. Measured {m['when'][:10]} on {m['cpus']} CPUs ({m['cpu']}), load average "
        f"{load['load_start']:.1f} at the start, Python {m['python']}; `{load['command']}`.\n\n"
        f"{LOAD_HEAD}\n{load_row(s)}\n\nResult: {result}; p95 latency {s['p95_ms']} ms. Upload under "
        f"load: {s['upload']}.\n\nCPU time during the run: the app {s['app_cpu_s']:g} s, the clients (on "
        f"the same machine) {s['client_cpu_s']:g} s, of {s['elapsed_s'] * m['cpus']:.0f} s available: "
        f"{1000 * s['app_cpu_s'] / s['requests']:.0f} ms of the app's CPU per question against "
        f"{1000 * s['client_cpu_s'] / s['requests']:.0f} ms of the clients'. The latencies are mostly "
        "time spent waiting for a CPU, so they bound the app's from above.")}


def results_md(r: dict[str, Any]) -> dict[str, str]:
    m = r["perf"]["machine"]
    return {"machine": f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}", "targets": targets(r),
            "parts": table(["part", "when", ">load at start", ">load at end", ">took"], [
                [k, r[k]["machine"]["when"], f"{r[k]['load_start']:.1f}", f"{r[k]['load_end']:.1f}",
                 f"{r[k]['took']:.0f} s" if r[k].get("took") else "–"]
                for k in ("quality", "perf", "coldstart", "scale", "restart")]),
            **perf_md(r["perf"]), **coldstart_md(r["coldstart"]), **scale_md(r["scale"]),
            **restart_md(r["restart"]), **quality_md(r["quality"]), **load_md(r["load"])}


def ladder_md(r: dict[str, Any]) -> dict[str, str]:
    def pair(x: dict[str, float]) -> str:
        return f"{x['p50']:.1f} / {x['p95']:.1f} ms"

    return {"ladder": table([">chunks", "store", ">load (1 min)", ">insert rows/s", ">BM25 first build",
                             ">dense p50 / p95", ">recall@10", ">dense, 1 transcript p50 / p95", ">recall@10",
                             ">dense, 1 speaker (20%) p50 / p95", ">recall@10", ">lexical p50 / p95",
                             ">lexical, 1 transcript p50 / p95", ">RSS of the store",
                             ">restart: first dense / BM25", ">disk"], [
        [f"{x['chunks']:,}", x["backend"], f"{x['load'][0]:.1f}-{x['load'][1]:.1f}", f"{x['insert_per_s']:,}",
         f"{x['lexical_build_s']:.1f} s", pair(x["dense"]), f"{x['dense']['recall@10']:.3f}",
         pair(x["dense_transcript"]), f"{x['dense_transcript']['recall@10']:.3f}", pair(x["dense_speaker"]),
         f"{x['dense_speaker']['recall@10']:.3f}", pair(x["lexical"]), pair(x["lexical_transcript"]),
         f"{x['python_mb'] + x['engine_mb']:,} MB" + (f" ({x['python_mb']:,} + {x['engine_mb']:,} engine)"
                                                     if x["engine_mb"] else ""),
         f"{x['restart_first_dense_s']:.1f} s / {x['restart_lexical_s']:.1f} s" if "disk_mb" in x else "–",
         f"{x['disk_mb']:,} MB" if "disk_mb" in x else "–"] for x in r["store_ladder"]["rows"]])}


def threshold_md(r: dict[str, Any]) -> dict[str, str]:
    t = r["threshold"]
    return {"weights": t["weights"],
            "summary": f"**recommended no_answer_threshold = {t['threshold']:.3f}: balanced accuracy "
                       f"{t['balanced']:.3f}, positives wrongly refused {t['pos_refused']:.3f}, negatives "
                       f"wrongly answered {t['neg_answered']:.3f} (current {t['current']:g}: balanced "
                       f"accuracy {t['current_balanced']:.3f}).** Every threshold from {t['near'][0]:.3f} to "
                       f"{t['near'][1]:.3f} comes within 0.005 of that balanced accuracy.",
            "tables": "\n\n".join(f"At the {which} threshold {t[key]:{fmt}}:\n\n" + table(
                ["group", ">questions", ">wrong"], [[g, n, f"{what} {rate:.3f}"] for g, n, what, rate in
                                                    t[key + "_rows"]])
                for which, key, fmt in (("recommended", "threshold", ".3f"), ("current", "current", "g"))),
            "correct": ", ".join(f"{k} {v:.3f}" for k, v in t["correct"].items())}


def ranking_md(r: dict[str, Any]) -> dict[str, str]:
    x, sets = r["ranking"], r["ranking"]["datasets"]
    return {"questions": ", ".join(f"{d} {x['counts'][d]}" for d in sets),
            "ranking": table(["features", *(f">{d} {m}" for d in sets for m in ("R@1", "R@5")),
                              "weights (on the base score's scale)"], [
                [name, *(f"{v[d][m]:.3f}" for d in sets for m in ("R@1", "R@5")),
                 ", ".join(f"{k} {w / (v['weights'].get('base') or 1):+.2f}"
                           for k, w in v["weights"].items())]
                for name, v in x["results"].items()])}


def within(row: dict[str, Any], seconds: float, limit_mb: float) -> bool:
    return "timed_out" not in row and row["seconds"] <= seconds and row["peak_mb"] <= limit_mb


def upload_cap(rows: list[dict[str, Any]], seconds: float, limit_mb: float) -> float:
    """The largest size up to which every kind was measured, and within both limits."""
    best = 0.0
    for size in sorted({r["mb"] for r in rows}):
        at = [r for r in rows if r["mb"] == size]
        if {r["kind"] for r in at} != {r["kind"] for r in rows} or not all(within(r, seconds, limit_mb)
                                                                           for r in at):
            break
        best = size
    return best


def uploads_md(r: dict[str, Any]) -> dict[str, str]:
    u, m = r["uploads"], r["uploads"]["machine"]
    rows, seconds, limit = u["rows"], u["seconds"], u["mb"]
    quiet = [x for x in rows if "timed_out" not in x and x["embed_s"] > 1 and x["load"] < 2]
    kinds = {k: [x for x in quiet if x["kind"] == k] for k in sorted({x["kind"] for x in quiet})}
    rates = {k: sum(x["passages"] for x in xs) / sum(x["embed_s"] for x in xs) for k, xs in kinds.items()}
    return {"machine": f"{m['cpus']} cores, {m['cpu']}, Python {m['python']}, {m['when']}",
            "uploads": table(["kind", ">MB", ">turns", ">passages", ">seconds", ">parse s", ">embed s",
                              ">rest s", ">CPU s", ">passages/s", ">peak MB", ">before MB", ">load",
                              f"within {seconds:g} s, {limit / 1000:g} GB"], [
                [x["kind"], f"{x['mb']:g}", "", "", f"> {x['timed_out']:.0f}", *[""] * 8, "no"]
                if "timed_out" in x else
                [x["kind"], f"{x['mb']:g}", f"{x['turns']:,}", f"{x['passages']:,}", f"{x['seconds']:.1f}",
                 f"{x['parse_s']:.1f}", f"{x['embed_s']:.1f}", f"{x['rest_s']:.1f}", f"{x['cpu_s']:.0f}",
                 f"{x['passages'] / x['embed_s']:.0f}", f"{x['peak_mb']:.0f}", f"{x['base_mb']:.0f}",
                 f"{x['load']:.1f}", "yes" if within(x, seconds, limit) else "no"] for x in rows]),
            "cap": f"**Cap: {upload_cap(rows, seconds, limit):g} MB** (`QA_BOT_MAX_UPLOAD_MB`, the default "
                   "of `Settings.max_upload_mb`): the largest size at which both kinds were added within "
                   f"{seconds:g} s and {limit:,.0f} MB of peak RSS on this machine.",
            "rates": ", ".join(f"{rate:.0f} passages/s for {kind}" for kind, rate in rates.items()) or "–"}


REPORTS: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "RESULTS.md": results_md, "SCALE.md": ladder_md, "THRESHOLD.md": threshold_md, "RANKING.md": ranking_md,
    "UPLOADS.md": uploads_md}


def fill(text: str, blocks: dict[str, str]) -> str:
    """``text`` with every marked figure replaced; an unknown name is an error, not a stale figure."""
    def one(m: re.Match[str]) -> str:
        if m[2] not in blocks:
            raise SystemExit(f"no figure named {m[2]!r}")
        return m[1] + m[3] + blocks[m[2]] + m[5] + m[6]

    return MARKER.sub(one, text)


def plot_latency(perf: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    cases = (("ask_default", "default corpus"), ("ask_friendsqa", "FriendsQA corpus"),
             ("ask_friendsqa_scoped", "FriendsQA, one transcript"))
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for n, (key, _) in enumerate(cases):
        d, left = perf[key], 0.0
        for part, color in (("encode", "#4c72b0"), ("search", "#dd8452"), ("assemble", "#55a868")):
            ax.barh(n * 3 + 1, d[part]["p50"], left=left, color=color, label=None if n else part)
            left += d[part]["p50"]
        ax.barh(n * 3, d["stock"]["p50"], color="#999999",
                label=None if n else "sentence-transformers encode (yardstick)")
        ax.barh(n * 3 + 1.9, d["ask"]["p50"], color="#222222", height=0.35,
                label=None if n else "bot.ask, whole")
    ax.set_yticks([n * 3 + 1 for n in range(len(cases))], [label for _, label in cases])
    ax.set_xlabel("p50 latency, ms (warm)")
    ax.set_title("bot.ask, by part, against stock sentence-transformers on the same question")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(BENCH / "latency.png", dpi=110)


def plot_scale(scale: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    n = [r["n"] for r in scale["rungs"]]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for key, label, style in (("exact", "exact (flat)", "o--"), ("chosen", "chosen index", "s-")):
        for ax, field in zip(axes, ("search_p50_ms", "memory_mb", "recall10"), strict=True):
            ax.plot(n, [r[key].get(field, 1.0) for r in scale["rungs"]], style, label=label)
    for ax, limit, title in zip(axes, (10, 1024, 0.95), ("search p50 (ms)", "index memory (MB)",
                                                         "recall@10 vs exact"), strict=True):
        ax.axhline(limit, color="red", lw=0.8, ls=":", label="target" if limit < 1 else "target at 1M")
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].set_ylim(0.8, 1.01)
    fig.tight_layout()
    fig.savefig(BENCH / "scale.png", dpi=110)


def plot_threshold(t: dict[str, Any]) -> None:
    """The relevance histogram, when the results hold the scores (bench/tune_threshold.py writes them)."""
    import matplotlib.pyplot as plt
    import numpy as np

    groups = t["scores"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bins = list(np.linspace(min(min(s) for s in groups.values()), 1.0, 50))
    for name, s in groups.items():
        style = ({"alpha": 0.45} if name.startswith("positive") else
                 {"histtype": "step", "linewidth": 1.6, "linestyle": "--" if name.startswith("(") else "-"})
        ax.hist(s, bins=bins, density=True, label=name, **style)
    ax.axvline(t["threshold"], color="k", label=f"recommended {t['threshold']:.3f}")
    ax.axvline(t["current"], color="k", linestyle=":", label=f"current {t['current']:.2f}")
    ax.set_xlabel("relevance of the top answer")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(BENCH / "threshold_hist.png", dpi=110)


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    r = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json"))}
    for name, blocks in REPORTS.items():
        path = BENCH / name
        path.write_text(fill(path.read_text(encoding="utf-8"), blocks(r)), encoding="utf-8")
    plot_latency(r["perf"])
    plot_scale(r["scale"])
    if "scores" in r["threshold"]:
        plot_threshold(r["threshold"])


if __name__ == "__main__":
    main()
