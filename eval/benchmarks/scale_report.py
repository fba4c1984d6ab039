"""scale.py's report: the tables and goals printed from the figures of a run."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence

from common import number
from scale_texts import HALF_MAX_TOKENS, HALF_MIN_TOKENS, TOP_K, Result

GOAL_ASK_P95_MS = 250.0
GOAL_STARTUP_S = 10.0
GOAL_SIZE = 100_000


# ---------------------------------------------------------------- report


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")


def real_ingest_s(run: Result, embed_rate: float) -> float:
    """Measured ingest, minus the vector look-ups, plus embedding every chunk for real."""
    build = run["build"]
    return build["ingest_s"] - build["parts_s"].get("vectors", 0.0) + build["chunks"] / embed_rate


def serving_rss(run: Result) -> float:
    serve = run["serve"]
    return float(serve["peak_rss_mib"] + serve.get("server_peak_rss_mib", 0.0))


def ready_s(part: Result) -> float:
    """Start-up until the first answer: constructing the desk, then its first ask."""
    return float(part["construct_s"] + part["first_ask_s"])


def slope_per_10k(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope, per 10,000 chunks."""
    if len(points) < 2:
        return float("nan")
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 10_000 if sxx else float("nan")


def growth(runs: Sequence[Result], value: Callable[[Result], float]) -> tuple[str, str]:
    """Slope per 10k chunks over all sizes, and the slope between each pair of sizes."""
    points = [(r["serve"]["chunks"], value(r)) for r in runs]
    steps = [
        f"{slope_per_10k([points[i], points[i + 1]]):+,.2f}"
        for i in range(len(points) - 1)
    ]
    return f"{slope_per_10k(points):+,.2f}", " / ".join(steps)


def _idle(run: Result, key: str) -> float:
    value = (run["serve"].get("ask_after_idle") or {}).get(key)
    return float("nan") if value is None else float(value)


def _parts_table(title: str, parts: dict[str, float], total: float) -> None:
    rows = [(k, f"{v:.2f}") for k, v in parts.items() if abs(v) >= 0.005]
    rows.append(("total", f"{total:.2f}"))
    table(title, ("part", "s"), rows)


def report_header(summary: Result) -> None:
    env, vectors = summary["environment"], summary["vectors"]
    rate = vectors["embed_chunks_per_s"]
    print("\n# Scale benchmark")
    print(f"machine: {env['cpu_count']} CPUs, "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    codes = {json.dumps(r["serve"].get("code"), sort_keys=True) for r in summary["runs"]}
    print("service code measured: " + "; ".join(
        f"commit {c['commit']}, service/ sha256 {c['service_sha256']}, uncommitted changes "
        f"{c['service_uncommitted_changes']}" for c in map(json.loads, sorted(codes)) if c))
    cos = vectors["derived_vs_real_cosine"]
    print(f"texts: {vectors['source_texts']} source texts (SummEval, SQuAD, RGB, seeds) cut into "
          f"{vectors['half_chunks']} half-chunks of {HALF_MIN_TOKENS}-{HALF_MAX_TOKENS} tokens; "
          "a chunk is two of them joined by a line break, an article 3-12 chunks")
    print("vectors: each half-chunk embedded once with MiniLM "
          f"({vectors['half_chunks_embedded_now']} now, the rest from {vectors['cache']}); "
          "a chunk's vector is the re-normalised mean of its halves' vectors; on "
          f"{vectors['sample_chunks']} chunks its cosine with the real embedding is median "
          f"{cos['median']:.3f}, 5th percentile {cos['p5']:.3f}, min {cos['min']:.3f}")
    print(f"real embedding throughput: {rate:.1f} chunks/s on {vectors['sample_chunks']} chunks "
          f"of {vectors['sample_mean_tokens']:.0f} tokens (1-minute load "
          f"{vectors['load_average_1min']['before']:.1f}); 'real embedding' ingest adds "
          "chunks / this rate to the measured ingest time")
    for run in summary["runs"]:
        build = run["build"]
        if build.get("reused"):
            print(f"{run['mode']} {run['size']}: store reused from {run['store']} (built "
                  f"{build.get('built_at')}, 1-minute load "
                  f"{build['load_average_1min']['before']:.1f}); its ingest figures are from "
                  "that build")
        if build["vectors_embedded_for_real"]:
            print(f"{run['mode']} {run['size']}: {build['vectors_embedded_for_real']} chunk(s) "
                  "were not known pairs and were embedded for real during ingest")


def report(summary: Result) -> None:
    report_header(summary)
    rate = summary["vectors"]["embed_chunks_per_s"]
    runs = summary["runs"]
    rows: list[tuple[str, ...]] = []
    for run in runs:
        b, s = run["build"], run["serve"]
        memory = number(s["peak_rss_mib"])
        if "server_peak_rss_mib" in s:
            memory += f" + {number(s['server_peak_rss_mib'])} server"
        disk = number(run["disk_bytes"]["total"] / 2**20)
        if run.get("lexical_cache_bytes"):
            disk += f" + {number(run['lexical_cache_bytes'] / 2**20)}"
        rows.append((
            run["mode"], number(s["chunks"]), number(s["docs"]),
            number(b["docs_per_s"], 1), number(b["chunks_per_s"]),
            number(s["chunks"] / real_ingest_s(run, rate), 1),
            number(s["ask"]["p50_ms"]), number(s["ask"]["p95_ms"]),
            f"{s['ask_after_ingest_s'] * 1000:,.0f}",
            memory, f"{ready_s(s):.1f}", f"{ready_s(run['cold']):.1f}", disk,
        ))
    table("Scale (2 cores; ask = offline answer, top_k 8, question embedding included)", (
        "Chroma", "chunks", "articles", "ingest articles/s", "ingest chunks/s (vectors ready)",
        "ingest chunks/s (real embedding, extrapolated)", "ask p50 ms", "ask p95 ms",
        "first ask after a write ms", "peak RSS MiB (serving)",
        "start-up s (lexical cache present)", "start-up s (no lexical cache)",
        "disk MiB (store + lexical cache)"), rows)
    print("start-up: a fresh process constructing the desk on the built store and answering its "
          "first question; 'no lexical cache' is the first open (the cache removed; with the "
          "server, a freshly started one), 'present' the next open")

    for mode in dict.fromkeys(r["mode"] for r in runs):
        mine = [r for r in runs if r["mode"] == mode]
        if len(mine) < 2:
            continue
        measures: list[tuple[str, Callable[[Result], float]]] = [
            ("peak RSS serving, MiB", serving_rss),
            ("peak RSS ingest, MiB", lambda r: r["build"]["peak_rss_mib"]
             + r["build"].get("server_peak_rss_mib", 0.0)),
            ("disk (store), MiB", lambda r: r["disk_bytes"]["total"] / 2**20),
            ("disk (lexical cache), MiB", lambda r: r.get("lexical_cache_bytes", 0) / 2**20),
            ("start-up, lexical cache present, s", lambda r: ready_s(r["serve"])),
            ("start-up, no lexical cache, s", lambda r: ready_s(r["cold"])),
            ("ask p50, ms", lambda r: r["serve"]["ask"]["p50_ms"]),
            ("ask p95, ms", lambda r: r["serve"]["ask"]["p95_ms"]),
            ("ask p95 with the change check, ms", lambda r: _idle(r, "p95_ms")),
            ("first ask after a write, ms", lambda r: r["serve"]["ask_after_ingest_s"] * 1000),
        ]
        sizes = " -> ".join(number(r["serve"]["chunks"]) for r in mine)
        table(f"Growth per 10k chunks, {mode} (least squares over all sizes; then between "
              f"successive sizes {sizes})", ("measure", "per 10k chunks", "between sizes"),
              [(label, *growth(mine, fn)) for label, fn in measures])

    for run in runs:
        report_size(run)
    report_goals(runs)


def report_size(run: Result) -> None:
    s, b, cold = run["serve"], run["build"], run["cold"]
    label = f"{run['mode']} {number(s['chunks'])} chunks"
    print(f"\n### {label}")
    for name, part in (("no lexical cache", cold), ("lexical cache present", s)):
        print(f"start-up, {name}: imports {part['import_s']:.2f} s, then")
        _parts_table(f"Start-up ({name}), {label}: construct", part["construct_parts_s"],
                     part["construct_s"])
        _parts_table(f"Start-up ({name}), {label}: first ask", part["first_ask_parts_s"],
                     part["first_ask_s"])
    if "server_startup_s" in s:
        print(f"chroma run answered its heartbeat {s['server_startup_s']:.2f} s after starting")

    parts = sorted(s["ask_parts"].items(), key=lambda kv: -kv[1]["mean_ms"])
    rows = [(k, f"{v['p50_ms']:.1f}", f"{v['p95_ms']:.1f}", f"{v['mean_ms']:.1f}")
            for k, v in parts if v["mean_ms"] >= 0.05]
    rows.append(("ask (total)", f"{s['ask']['p50_ms']:.1f}", f"{s['ask']['p95_ms']:.1f}",
                 f"{s['ask']['mean_ms']:.1f}"))
    table(f"Ask by part, {label} ({s['ask']['n']} questions; {s['ask']['abstained']} "
          f"abstained; {s['ask']['distinct_passage_texts_mean']:.1f} distinct passage texts "
          f"of {TOP_K})", ("part", "p50 ms", "p95 ms", "mean ms"), rows)
    print(f"CPU time per ask (this process, all threads): p50 {s['ask']['cpu_p50_ms']:.0f} ms, "
          f"p95 {s['ask']['cpu_p95_ms']:.0f} ms; CPU/wall over the asks "
          f"{s['ask']['cpu_per_wall']:.2f}")
    idle = s.get("ask_after_idle") or {}
    if idle.get("n"):
        print(f"{idle['n']} asks, each checking the store's change records first: p50 "
              f"{idle['p50_ms']:,.0f} ms, p95 "
              f"{idle['p95_ms']:,.0f} ms; the sync itself p50 {idle['sync_p50_ms']:,.1f} ms, "
              f"max {idle['sync_max_ms']:,.1f} ms")
    full = s.get("ask_with_full_sync") or {}
    if full:
        print(f"the background re-read of every article record: "
              f"{full['recheck_s'] * 1000:,.0f} ms")
    after = s["ask_after_ingest_parts_s"]
    print(f"after one ingest the next ask took {s['ask_after_ingest_s'] * 1000:,.0f} ms, of "
          f"which the BM25 index build {after.get('bm25 index build', 0) * 1000:,.0f} ms; "
          f"after one delete {s['ask_after_delete_s'] * 1000:,.0f} ms")
    mem = s["index_memory_mib"]
    print("memory (serving): RSS after construct "
          f"{number(s['rss_after_construct_mib'])} MiB, after first ask "
          f"{number(s['rss_after_first_ask_mib'])} MiB, peak {number(s['peak_rss_mib'])} MiB "
          "(peak so far after each phase: " + ", ".join(
              f"{k} {number(v)}" for k, v in s["peak_rss_after_mib"].items())
          + "); " + ", ".join(f"{k} ~{v:,.0f} MiB" for k, v in mem.items()))
    if "server_peak_rss_mib" in s:
        print(f"Chroma server: peak RSS {number(s['server_peak_rss_mib'])} MiB, RSS at the end "
              f"{number(s['server_rss_mib'])} MiB")
    print(f"no lexical cache: peak RSS {number(cold['peak_rss_mib'])} MiB")
    ingest_parts = ", ".join(f"{k} {v:.0f} s" for k, v in b["parts_s"].items())
    print(f"ingest: {b['ingest_s']:.0f} s ({ingest_parts}); chunks/s first tenth "
          f"{b['chunks_per_s_first_tenth']:.0f}, last tenth {b['chunks_per_s_last_tenth']:.0f}"
          f"; CPU/wall {b['ingest_cpu_s'] / b['ingest_s']:.2f}; peak RSS "
          f"{number(b['peak_rss_mib'])} MiB"
          + (f" + server {number(b['server_peak_rss_mib'])} MiB"
             if "server_peak_rss_mib" in b else ""))
    disk = run["disk_bytes"]
    print(f"disk: store {disk['total'] / 2**20:,.1f} MiB (SQLite {disk['sqlite'] / 2**20:,.1f}, "
          f"vector segments {disk['vector_segments'] / 2**20:,.1f}), lexical cache "
          f"{run.get('lexical_cache_bytes', 0) / 2**20:,.1f} MiB; 1-minute load around the "
          f"asks {s['load_average_1min']['before']:.1f} -> {s['load_average_1min']['after']:.1f}")


def report_goals(runs: Sequence[Result]) -> None:
    goals: list[tuple[str, ...]] = []
    for run in runs:
        s = run["serve"]
        if s["chunks"] < GOAL_SIZE:
            continue
        idle_p95 = (s.get("ask_after_idle") or {}).get("p95_ms")
        checks = [
            (f"ask p95 < {GOAL_ASK_P95_MS:g} ms (back-to-back asks)", s["ask"]["p95_ms"],
             GOAL_ASK_P95_MS, "ms"),
            (f"ask p95 < {GOAL_ASK_P95_MS:g} ms (each with its change check)", idle_p95,
             GOAL_ASK_P95_MS, "ms"),
            (f"start-up < {GOAL_STARTUP_S:g} s (lexical cache present)", ready_s(s),
             GOAL_STARTUP_S, "s"),
            (f"start-up < {GOAL_STARTUP_S:g} s (no lexical cache)", ready_s(run["cold"]),
             GOAL_STARTUP_S, "s"),
        ]
        for goal, value, limit, unit in checks:
            if value is not None:
                goals.append((f"{run['mode']} {number(s['chunks'])} chunks: {goal}",
                               f"{value:,.{0 if unit == 'ms' else 1}f} {unit}",
                               "met" if value < limit else "not met"))
    if goals:
        table("Goals (2 cores)", ("goal", "measured", "result"), goals)
