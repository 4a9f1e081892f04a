"""Recall, precision and throughput of casekit.anonymize on the labelled passages.

Run from the repository root::

    python bench/anonymity.py [--split tuning|heldout|all] [--repeat N]

The passages (data/anonymity/passages.jsonl) were written for casekit; see
data/anonymity/README.md. A predicted span counts as a hit for a gold span when the two
overlap and have the same entity type (FAX and PHONE count as each other).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.anonymize import ENTITIES, find_pii  # noqa: E402

PASSAGES = ROOT / "data" / "anonymity" / "passages.jsonl"
_SAME = {"FAX": "PHONE"}


def _kind(entity: str) -> str:
    return _SAME.get(entity, entity)


def _overlaps(a: dict, b: dict) -> bool:
    return (
        a["start"] < b["end"] and b["start"] < a["end"] and _kind(a["entity"]) == _kind(b["entity"])
    )


def evaluate(rows: list[dict]) -> dict:
    tp_gold: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    tp_pred: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    misses: list[str] = []
    false_pos: list[str] = []
    for row in rows:
        pred = [
            {"entity": f.entity, "start": f.start, "end": f.end, "text": f.text}
            for f in find_pii(row["text"])
        ]
        for g in row["entities"]:
            n_gold[g["entity"]] += 1
            if any(_overlaps(g, p) for p in pred):
                tp_gold[g["entity"]] += 1
            else:
                got = [f"{p['entity']}:{p['text']!r}" for p in pred]
                misses.append(
                    f"  {row['id']} {g['entity']} {row['text'][g['start'] : g['end']]!r}"
                    f"  (found {', '.join(got) or 'nothing'})"
                )
        for p in pred:
            n_pred[p["entity"]] += 1
            if any(_overlaps(p, g) for g in row["entities"]):
                tp_pred[p["entity"]] += 1
            else:
                false_pos.append(f"  {row['id']} {p['entity']} {p['text']!r} in {row['text']!r}")
    return {
        "tp_gold": tp_gold,
        "n_gold": n_gold,
        "tp_pred": tp_pred,
        "n_pred": n_pred,
        "misses": misses,
        "false_pos": false_pos,
    }


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def report(name: str, rows: list[dict]) -> None:
    r = evaluate(rows)
    print(f"\n== {name}: {len(rows)} passages, {sum(r['n_gold'].values())} gold spans ==")
    print(f"{'entity':<10} {'gold':>5} {'recall':>7} {'pred':>5} {'precision':>9}")
    for entity in ENTITIES:
        if r["n_gold"][entity] or r["n_pred"][entity]:
            print(
                f"{entity:<10} {r['n_gold'][entity]:>5} "
                f"{_ratio(r['tp_gold'][entity], r['n_gold'][entity]):>7} "
                f"{r['n_pred'][entity]:>5} "
                f"{_ratio(r['tp_pred'][entity], r['n_pred'][entity]):>9}"
            )
    tg, ng = sum(r["tp_gold"].values()), sum(r["n_gold"].values())
    tp, n_p = sum(r["tp_pred"].values()), sum(r["n_pred"].values())
    print(f"{'overall':<10} {ng:>5} {_ratio(tg, ng):>7} {n_p:>5} {_ratio(tp, n_p):>9}")
    print(f"misses ({len(r['misses'])}):")
    print("\n".join(r["misses"]) or "  none")
    print(f"false positives ({len(r['false_pos'])}):")
    print("\n".join(r["false_pos"]) or "  none")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tuning", "heldout", "fresh", "all"], default=None)
    parser.add_argument("--repeat", type=int, default=5, help="passes for the throughput run")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in PASSAGES.read_text(encoding="utf-8").splitlines()]

    t0 = time.perf_counter()
    find_pii("Warm-up builds the analyzer: Dr. Alvarez, 555-0100.")
    build = time.perf_counter() - t0

    splits = [args.split] if args.split else ["tuning", "heldout", "fresh", "all"]
    for split in splits:
        chosen = rows if split == "all" else [r for r in rows if r["split"] == split]
        report(split, chosen)

    t0 = time.perf_counter()
    for _ in range(args.repeat):
        for row in rows:
            find_pii(row["text"])
    elapsed = time.perf_counter() - t0
    n = args.repeat * len(rows)
    print(f"\nanalyzer build + first call: {build:.2f} s")
    print(f"throughput: {n / elapsed:.0f} passages/s ({n} passages in {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
