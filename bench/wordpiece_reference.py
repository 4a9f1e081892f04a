"""Regenerate ``tests/data/wordpiece_reference.json``: token ids from Hugging Face ``tokenizers``.

casekit's :class:`casekit.reader.WordPiece` reimplements BERT's uncased tokenizer so that the
second reader needs no Rust extension; the test compares it with the ids the reference
implementation gives for these strings (sentences of the bundled tuning vignettes plus edge
cases: accents, curly quotes, CJK, zero-width and soft-hyphen characters, very long words).

Run (needs ``pip install tokenizers``, not a casekit dependency):
``.venv/bin/python bench/wordpiece_reference.py``. It also reports how many of all bundled
vignette sentences and texts the two tokenizers disagree on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.matching import sentence_spans  # noqa: E402
from casekit.reader import MAX_TOKENS, WordPiece, model_folder  # noqa: E402

EDGE_CASES = [
    "Café naïve résumé — “quoted” ‘x’ … 10:30pm $5,000 e-mail",
    "他说 I'll 杀 you",
    "a\u200bb\u00adc\u00a0d",
    "x" * 150,
    "don't can't won't y'all ain't gonna",
    "\t\n  ",
    "",
    "HI w/ plan; +access to firearms (C-SSRS 5/6), SI/HI denied @ d/c.",
    "He said: 'I'ma end him tn fr fr' 💀💀",
    "Ms. K. called at 4:40 p.m.; she's 'terrified' of her ex-husband's .38.",
    " ".join(["word"] * 400),
]


def main() -> None:
    from tokenizers import Tokenizer

    folder = model_folder()
    reference = Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.no_padding()
    reference.enable_truncation(max_length=MAX_TOKENS)
    mine = WordPiece(folder / "vocab.txt")
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    texts = [v.text[s:e] for v in vignettes for s, e in sentence_spans(v.text)]
    texts += [v.text for v in vignettes]
    differ = sum(reference.encode(t).ids != mine.encode(t) for t in texts + EDGE_CASES)
    print(f"{differ} of {len(texts) + len(EDGE_CASES)} strings tokenised differently")
    tuning = [v for v in vignettes if v.split == "tuning"][::12]
    sample = [v.text[s:e] for v in tuning for s, e in sentence_spans(v.text)][:40] + EDGE_CASES
    cases = [{"text": t, "ids": reference.encode(t).ids} for t in sample]
    out = ROOT / "tests" / "data" / "wordpiece_reference.json"
    out.write_text(json.dumps(cases, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
