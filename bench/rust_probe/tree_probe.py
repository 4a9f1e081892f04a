"""A compiled matcher that executes ``re``'s own parse tree, against ``re`` (a probe).

Not part of casekit. ``src/lib.rs``'s ``Tree`` is a small backtracking matcher in Rust for
the node types ``census.py`` counts, tried in ``re``'s order (alternatives first to last,
greedy repeats longest first, lazy ones shortest first), with ``re``'s shortcuts (literal
runs, a first-character test per alternative, an ASCII table per character set, one-character
repeats counted then backed off). For every criterion of duty_to_protect whose search the
trigger feeds, this script gives ``re`` and the Rust matcher the same trigger candidates and
alternatives on the same recombined vignettes, checks that they find the same spans, and
times them, with the cost of crossing into Rust (the arguments converted, nothing searched)
shown on its own. With ``--regex`` every alternative without lookaround or ``$`` is run by
the regex crate instead (anchored with ``^`` on the rest of the text).

Build as ``probe.py`` says, then ``../../.venv/bin/python tree_probe.py [N] [--regex]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1])]

import rprobe  # noqa: E402
import throughput  # noqa: E402

from casekit import matching  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402

CATEGORIES = {
    C.CATEGORY_WORD: 0,
    C.CATEGORY_NOT_WORD: 1,
    C.CATEGORY_SPACE: 2,
    C.CATEGORY_NOT_SPACE: 3,
    C.CATEGORY_DIGIT: 4,
    C.CATEGORY_NOT_DIGIT: 5,
}


def encode(data: Any) -> list[Any]:
    """``re._parser`` nodes as the nested lists ``rprobe.Tree`` reads."""
    out: list[Any] = []
    for op, av in data:
        if op is C.LITERAL:
            out.append(["l", chr(av)])
        elif op is C.NOT_LITERAL:
            out.append(["n", chr(av)])
        elif op is C.IN:
            negate, chars, ranges, cats = False, [], [], []
            for inner, arg in av:
                if inner is C.NEGATE:
                    negate = True
                elif inner is C.LITERAL:
                    chars.append(chr(arg))
                elif inner is C.RANGE:
                    ranges.append((chr(arg[0]), chr(arg[1])))
                elif inner is C.CATEGORY:
                    cats.append(CATEGORIES[arg])
                else:
                    raise ValueError(f"set member {inner}")
            out.append(["s", negate, chars, ranges, cats])
        elif op is C.BRANCH:
            out.append(["b", [encode(branch) for branch in av[1]]])
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, body = av
            out.append(["r", low, min(high, 2**32 - 1), op is C.MAX_REPEAT, encode(body)])
        elif op is C.SUBPATTERN:
            out.extend(encode(av[3]))
        elif op is C.AT and av in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            out.append(["B", av is C.AT_BOUNDARY])
        elif op is C.AT and av is C.AT_END:
            out.append(["e"])
        elif op in (C.ASSERT, C.ASSERT_NOT):
            direction, body = av
            width = 0 if direction == 1 else body.getwidth()[0]
            out.append(["k", width, direction == 1, op is C.ASSERT_NOT, encode(body)])
        else:
            raise ValueError(f"node {op} {av}")
    return out


def rust_syntax(nodes: list[Any], at_word_start: bool) -> str | None:
    """The encoded tree in the regex crate's syntax, or ``None`` if it needs lookaround or
    ``$`` (which that crate lacks). A leading ``\\b`` is exact only where the match starts
    after a non-word character, as a key found at a word start does."""
    out = []
    for k, node in enumerate(nodes):
        tag = node[0]
        if tag == "l":
            c = node[1]
            out.append("\\" + c if c in "\\.+*?()|[]{}^$#&-~" else ("\\n" if c == "\n" else c))
        elif tag == "n":
            out.append(f"[^{_class_char(node[1])}]")
        elif tag == "s":
            _, negate, chars, ranges, cats = node
            body = "".join(_class_char(c) for c in chars)
            body += "".join(f"{_class_char(a)}-{_class_char(b)}" for a, b in ranges)
            body += "".join(("\\w", "\\W", "\\s", "\\S", "\\d", "\\D")[c] for c in cats)
            out.append(f"[{'^' if negate else ''}{body}]")
        elif tag == "b":
            parts = [rust_syntax(alt, at_word_start and k == 0) for alt in node[1]]
            if any(p is None for p in parts):
                return None
            out.append("(?:" + "|".join(parts) + ")")  # type: ignore[arg-type]
        elif tag == "r":
            _, low, high, greedy, body = node
            inner = rust_syntax(body, False)
            if inner is None:
                return None
            bound = f"{{{low},}}" if high >= 2**32 - 1 else f"{{{low},{high}}}"
            out.append(f"(?:{inner}){bound}{'' if greedy else '?'}")
        elif tag == "B":
            if k == 0 and not at_word_start:
                return None
            out.append("\\b" if node[1] else "\\B")
        else:
            return None
    return "".join(out)


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\]^-[&~" else ("\\n" if c == "\n" else c)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 2000
    # as the matcher searches them: lower-cased (a text whose length that changes is left out)
    texts = [
        v.text.lower() for v in throughput.make_corpus(n) if len(v.text.lower()) == len(v.text)
    ]
    rubric = load_rubric("duty_to_protect")
    matcher = matching.compile_rubric(rubric)
    trigger = matcher._trigger
    found = [trigger.candidates(t) for t in texts]
    slots = [
        (i, target.search)
        for i, target in enumerate(matcher.targets)
        if target.search.mode == matching._TRIGGERED
    ]
    print(
        f"{len(texts)} vignettes; {len(slots)} of {len(matcher.targets)} criterion searches "
        "are trigger-fed and compared"
    )
    use_regex = "--regex" in sys.argv
    translated = total = 0
    trees = []
    for i, search in slots:
        # the search's own compiled alternatives, in its order (the trigger names them)
        index = {fn: a for a, fn in enumerate(search.alternatives)}
        encoded = [encode(sre_parse.parse(fn.__self__.pattern).data) for fn in search.alternatives]
        syntax = [rust_syntax(e, True) for e in encoded] if use_regex else [None] * len(encoded)
        translated += sum(x is not None for x in syntax)
        total += len(syntax)
        tree = rprobe.Tree(encoded, ["^" + x if x else None for x in syntax])
        trees.append((i, search, tree, index))

    print(f"alternatives run by the regex crate: {translated} of {total}")

    def python() -> list[Any]:
        return [
            [
                [m.span() for m in s.finditer(t, cand[i], tries[i], 0, len(t))]
                for i, s, _, _ in trees
            ]
            for t, (cand, tries) in zip(texts, found, strict=True)
        ]

    # What the Rust side is given: the text, and per search the candidates and the numbers of
    # the alternatives to try at each (a compiled trigger would produce these itself).
    prepared = [
        (
            rprobe.Text(t),
            [
                (
                    cand[i],
                    [None if alts is None else [index[a] for a in alts] for alts in tries[i]],
                )
                for i, _, _, index in trees
            ],
        )
        for t, (cand, tries) in zip(texts, found, strict=True)
    ]

    def rust() -> list[Any]:
        return [
            [tree.find_at(text, c, w) for (_, _, tree, _), (c, w) in zip(trees, per, strict=True)]
            for text, per in prepared
        ]

    def crossing() -> list[Any]:
        return [
            [
                tree.convert_only(text, c, w)
                for (_, _, tree, _), (c, w) in zip(trees, per, strict=True)
            ]
            for text, per in prepared
        ]

    timings = {}
    results = {}
    runs = (("python re", python), ("rust tree", rust), ("crossing only", crossing))
    for name, fn in runs * 2:
        start = time.perf_counter()
        results[name] = fn()
        took = (time.perf_counter() - start) / len(texts) * 1e6
        timings[name] = min(timings.get(name, took), took)
    for name, us in timings.items():
        print(f"{name}: {us:.1f} us per vignette (anchored matches at the trigger's candidates)")
    py = [[[sp for sp in spans if sp[1] > sp[0]] for spans in v] for v in results["python re"]]
    same = sum(a == b for a, b in zip(py, results["rust tree"], strict=True))
    print(f"identical spans on {same} of {len(texts)} vignettes")
    for a, b in zip(py, results["rust tree"], strict=True):
        if a != b:
            for (i, _, _, _), x, y in zip(trees, a, b, strict=True):
                if x != y:
                    print("first difference:", matcher.targets[i].criterion.id, x[:5], y[:5])
                    break
            break


if __name__ == "__main__":
    main()
