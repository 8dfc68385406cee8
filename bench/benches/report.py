#!/usr/bin/env python3
"""Summarise criterion runs of the decode/encode/handshake benches as
Markdown tables: median per frame (and GiB/s), and the ratios that the
performance targets are stated in.

    python3 bench/benches/report.py [CRITERION_DIR ...] > /tmp/report.md

CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion, else target/criterion.
With several directories (copies of criterion/ from separate runs), each
benchmark's lowest median is used: on a shared machine, contention only ever
adds time.

Reads only criterion's own JSON (*/new/benchmark.json, */new/estimates.json).
The frame count per iteration comes from the parameter (`1024B_x4041` is
4041 frames of 1024 bytes). `*_decode_only` medians have the clock-read
overhead of one iteration (`timer/per_iteration_overhead`) subtracted.
"""
import json
import os
import sys
from collections import defaultdict

GIB = 1024**3

DECODE_FUNCS = [
    "rfc6455", "rfc6455_borrowed", "rfc6455_read_buf", "rfc6455_adapter_reads", "rfc6455_decode_only", "tungstenite", "memcpy",
    "copy_unmask_avx2", "unmask_in_place_avx2", "apply_mask_in_place", "utf8_std",
    "utf8_simdutf8",
]
DECODE_RATIOS = [
    ("rfc6455", "tungstenite"),
    ("rfc6455_borrowed", "tungstenite"),
    ("rfc6455_read_buf", "tungstenite"),
    ("rfc6455_adapter_reads", "tungstenite"),
    ("rfc6455", "memcpy"),
    ("rfc6455", "copy_unmask_avx2"),
    ("rfc6455", "unmask_in_place_avx2"),
    ("rfc6455", "utf8_simdutf8"),
]
ENCODE_FUNCS = ["rfc6455_send", "rfc6455_send_binary", "tungstenite", "memcpy", "copy_mask_avx2"]
ENCODE_RATIOS = [
    ("rfc6455_send", "tungstenite"),
    ("rfc6455_send_binary", "tungstenite"),
    ("rfc6455_send", "memcpy"),
    ("rfc6455_send", "copy_mask_avx2"),
]


def load(roots):
    results = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
                continue
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                bench = json.load(f)
            with open(os.path.join(dirpath, "estimates.json")) as f:
                est = json.load(f)
            r = {
                "group": bench["group_id"],
                "function": bench["function_id"],
                "param": bench.get("value_str"),
                "bytes": (bench.get("throughput") or {}).get("Bytes"),
                "median_ns": est["median"]["point_estimate"],
            }
            old = results.get(bench["full_id"])
            if old is None or r["median_ns"] < old["median_ns"]:
                results[bench["full_id"]] = r
    return results


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def frames(param):
    size, count = param.split("_x")
    return int(size.rstrip("B")), int(count)


def table(group, rows, funcs, ratios, overhead_ns):
    seen = {fn for by_func in rows.values() for fn in by_func}
    funcs = [fn for fn in funcs if fn in seen] + sorted(seen - set(funcs))
    ratios = [(a, b) for a, b in ratios if a in seen and b in seen]
    out = [f"### {group}", ""]
    head = ["payload × frames"] + funcs
    head += [f"{a} ÷ {b} speed" for a, b in ratios]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))

    def median(r):
        ns = r["median_ns"]
        if r["function"].endswith("_decode_only"):
            ns = max(ns - overhead_ns, 1e-3)
        return ns

    for param in sorted(rows, key=lambda p: frames(p)[0]):
        by_func = rows[param]
        size, count = frames(param)
        cells = [f"{size} B × {count}"]
        for fn in funcs:
            r = by_func.get(fn)
            if r is None:
                cells.append("")
                continue
            ns = median(r)
            g = r["bytes"] / (ns * 1e-9) / GIB if r["bytes"] else 0
            cells.append(f"{fmt_time(ns / count)} ({g:.2f})")
        for a, b in ratios:
            if a in by_func and b in by_func:
                ratio = median(by_func[b]) / median(by_func[a])
                cells.append(f"{ratio:.2f}×" if ratio >= 1 or b == "tungstenite"
                             else f"{100 * ratio:.0f}%")
            else:
                cells.append("")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)


def main():
    roots = sys.argv[1:] or [os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")]
    results = load(roots)
    groups = defaultdict(lambda: defaultdict(dict))
    for r in results.values():
        groups[r["group"]][r["param"]][r["function"]] = r
    overhead = groups.get("timer", {}).get(None, {}).get("per_iteration_overhead")
    overhead_ns = overhead["median_ns"] if overhead else 0.0

    print("Cells: median time per frame (GiB/s of wire bytes, headers included).")
    print("Ratios: how many times faster the first is (≥ 1 shown as N×, else as %).\n")
    for group in sorted(groups):
        rows = groups[group]
        if group == "decode_header":
            print(f"### {group}\n\n| benchmark | per header |\n|---|---|")
            for param in rows:
                count = int(param.rsplit("_x", 1)[1])
                for fn, r in sorted(rows[param].items()):
                    print(f"| {fn}/{param} | {fmt_time(r['median_ns'] / count)} |")
            print()
        elif group.startswith("decode_"):
            print(table(group, rows, DECODE_FUNCS, DECODE_RATIOS, overhead_ns))
        elif group.startswith("encode_"):
            print(table(group, rows, ENCODE_FUNCS, ENCODE_RATIOS, 0.0))
        else:
            print(f"### {group}\n\n| benchmark | median |\n|---|---|")
            for param in rows:
                for fn, r in sorted(rows[param].items()):
                    name = fn if param is None else f"{fn}/{param}"
                    print(f"| {name} | {fmt_time(r['median_ns'])} |")
            print()


if __name__ == "__main__":
    main()
