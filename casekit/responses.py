"""How respondents answered: distributions, agreement, group differences, fact effects.

Every function takes the long response frame (``respondent_id, vignette_id, response`` +
optional group columns; a :class:`~casekit.response_tables.ResponseTable` works too) and,
where the rubric matters, a *key* frame with one row per vignette: ``vignette_id``, the
rubric's recommended ``action``, ``duty`` and one boolean column per criterion id — the
shape of ``casekit.scoring.score_frame`` (rows of other rubrics are filtered out by
``rubric=``). Actions are described by anything :func:`~casekit.response_tables.actions_frame`
accepts, e.g. ``load_rubric("duty_to_protect").actions``.

Every function returns a tidy DataFrame. Statistics come from statsmodels, scipy and
krippendorff rather than hand-written formulas (DESIGN §6).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from casekit.errors import CasekitError
from casekit.response_tables import ResponseTable, actions_frame

__all__ = [
    "PROTECTIVE_ACTIONS",
    "cohens_kappa",
    "compare_groups",
    "distribution",
    "fact_crosstab",
    "fact_effects",
    "interrater_agreement",
    "responses_report",
    "rubric_agreement",
    "summarize_responses",
]

#: Actions that break confidentiality to protect someone (the outcome of
#: :func:`fact_effects`).
PROTECTIVE_ACTIONS: frozenset[str] = frozenset(
    {
        "warn_and_notify",
        "notify_police",
        "hospitalize",
        "report_to_authority",
        "emergency_evaluation",
    }
)
# Key-frame columns that are not criteria.
KEY_COLUMNS = frozenset(
    {"vignette_id", "rubric", "jurisdiction", "duty", "action", "rule", "title", "answer"}
)

ERR_COLUMNS = (
    "response frame lacks column(s) {missing}; expected respondent_id, vignette_id, response"
)
ERR_KEY_COLUMNS = (
    "key frame lacks column(s) {missing}; expected vignette_id and action (score_frame output)"
)
ERR_KEY_RUBRIC = "key frame holds several rubrics ({rubrics}); pass rubric= to choose one"
ERR_KEY_DUPLICATE = "key frame lists vignette(s) {ids} more than once for rubric {rubric!r}"
ERR_KEY_MISSING = "no rubric answer in the key for vignette(s) {ids}; score those vignettes first"
ERR_GROUP = "group column {column!r} is not in the responses; available: {available}"
ERR_PER = "per must be one of {allowed}; got {per!r}"
ERR_RESAMPLE = "resample must be 'vignettes' or 'respondents'; got {resample!r}"
ERR_RATER = "respondent {rater!r} is not in the responses"
ERR_NO_CRITERIA = "the key frame has no boolean criterion columns"
ERR_NO_RESPONSES = "{file}: no usable responses ({excluded} row(s) excluded)"

NOTE_FLEISS_COMPLETE = (
    "Fleiss' kappa uses the {n} of {total} respondents who answered every vignette"
)
NOTE_SEPARATION = (
    "perfect or quasi-perfect separation ({detail}): ridge-penalised estimates "
    "(alpha={alpha}) without standard errors"
)
NOTE_DROPPED_CONSTANT = "criteria with no variation across the answered vignettes: {names}"
NOTE_DROPPED_COLLINEAR = "criteria collinear with earlier ones across these vignettes: {names}"
NOTE_POOLED = (
    "pooled over vignettes: each respondent contributes several answers, so the test "
    "treats dependent answers as independent; prefer per-vignette tests"
)
NOTE_DEGENERATE = "only one {what} with answers; no test"


# --------------------------------------------------------------------------- helpers


def _frame(data: pd.DataFrame | ResponseTable) -> pd.DataFrame:
    frame = data.data if isinstance(data, ResponseTable) else data
    missing = [c for c in ("respondent_id", "vignette_id", "response") if c not in frame.columns]
    if missing:
        raise CasekitError(ERR_COLUMNS.format(missing=", ".join(missing)))
    return frame


def _by(frame: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    for col in cols:
        if col not in frame.columns:
            raise CasekitError(ERR_GROUP.format(column=col, available=", ".join(frame.columns)))
    return cols


def _key(key: pd.DataFrame, rubric: str | None = None) -> pd.DataFrame:
    """One row per vignette, indexed by vignette_id."""
    missing = [c for c in ("vignette_id", "action") if c not in key.columns]
    if missing:
        raise CasekitError(ERR_KEY_COLUMNS.format(missing=", ".join(missing)))
    frame = key
    if "rubric" in frame.columns:
        rubrics = list(pd.unique(frame["rubric"]))
        if rubric is not None:
            frame = frame[frame["rubric"] == rubric]
        elif len(rubrics) > 1:
            if "duty_to_protect" in rubrics:
                frame = frame[frame["rubric"] == "duty_to_protect"]
            else:
                raise CasekitError(ERR_KEY_RUBRIC.format(rubrics=", ".join(map(str, rubrics))))
    dup = frame["vignette_id"][frame["vignette_id"].duplicated()]
    if len(dup):
        raise CasekitError(
            ERR_KEY_DUPLICATE.format(ids=", ".join(map(str, dup.unique())), rubric=rubric)
        )
    return frame.set_index("vignette_id")


def _with_key(frame: pd.DataFrame, key: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(frame["vignette_id"]) - set(key.index))
    if missing:
        raise CasekitError(ERR_KEY_MISSING.format(ids=", ".join(map(str, missing))))
    out = frame.copy()
    out["rubric_action"] = key["action"].reindex(out["vignette_id"]).to_numpy()
    return out


def criteria_columns(key: pd.DataFrame) -> list[str]:
    """The boolean criterion columns of a key frame, in their order.

    Columns that are entirely missing (criteria of another rubric in ``score_frame``
    output) are left out.
    """

    def is_flag(col: pd.Series) -> bool:
        if col.isna().all():
            return False  # another rubric's criterion (score_frame leaves it <NA>)
        if pd.api.types.is_bool_dtype(col.dtype):
            return True
        # Frames built row by row (e.g. row.to_frame().T) hold bools as objects.
        values = col.dropna()
        kinds = values.map(type)
        return col.dtype == object and len(values) > 0 and bool(kinds.isin([bool, np.bool_]).all())

    return [c for c in key.columns if c not in KEY_COLUMNS and is_flag(key[c])]


def _wilson(count: Any, nobs: Any, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    low = np.full(count.shape, np.nan)
    high = np.full(count.shape, np.nan)
    ok = nobs > 0
    if ok.any():
        lo, hi = proportion_confint(count[ok], nobs[ok], alpha=1 - confidence, method="wilson")
        low[ok], high[ok] = lo, hi
    return low, high


def _categories(frame: pd.DataFrame, actions: Any) -> list[str]:
    seen = frame["response"].value_counts().index.astype(str).tolist()
    if actions is None:
        return seen
    ids = actions_frame(actions)["id"].tolist()
    return ids + [c for c in seen if c not in ids]


# --------------------------------------------------------------------------- distributions


def distribution(
    data: pd.DataFrame | ResponseTable,
    *,
    by: str | Sequence[str] | None = None,
    actions: Any = None,
    key: pd.DataFrame | None = None,
    rubric: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Counts and shares of each response per vignette (and group), with Wilson intervals.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Long responses.
    by : str or list of str, optional
        Group columns (e.g. ``"profession"``).
    actions : optional
        The rubric's actions; when given every action gets a row (zero counts included) in
        the rubric's order, so shares of each vignette sum to 1 over the same categories.
    key : DataFrame, optional
        Adds ``rubric_action`` and ``is_rubric_answer``.
    confidence : float
        Level of the Wilson score intervals.

    Returns
    -------
    DataFrame
        ``vignette_id, [by...], response, n, total, share, ci_low, ci_high`` (+ key columns).

    Examples
    --------
    >>> df = pd.DataFrame({"respondent_id": ["a", "b", "c"], "vignette_id": ["V1"] * 3,
    ...                    "response": ["warn", "warn", "keep"]})
    >>> distribution(df)[["response", "n", "share"]].round(3).to_dict("list")
    {'response': ['warn', 'keep'], 'n': [2, 1], 'share': [0.667, 0.333]}
    """
    frame = _frame(data)
    groups = ["vignette_id", *_by(frame, by)]
    cats = _categories(frame, actions)
    counts = (
        frame.groupby([*groups, "response"], observed=True, sort=False)
        .size()
        .unstack("response", fill_value=0)
        .reindex(columns=cats, fill_value=0)
        .sort_index()
    )
    counts.columns.name = "response"
    total = counts.sum(axis=1)
    long = counts.stack().rename("n").reset_index()  # type: ignore[call-overload]
    long["total"] = np.repeat(total.to_numpy(), len(cats))
    long["share"] = long["n"] / long["total"]
    long["ci_low"], long["ci_high"] = _wilson(long["n"], long["total"], confidence)
    long["n"] = long["n"].astype(int)
    if key is not None:
        k = _key(key, rubric)
        long = _with_key(long, k)
        long["is_rubric_answer"] = long["response"] == long["rubric_action"]
    return long


def rubric_agreement(
    data: pd.DataFrame | ResponseTable,
    key: pd.DataFrame,
    actions: Any = None,
    *,
    per: Literal["vignette", "respondent", "all"] = "vignette",
    by: str | Sequence[str] | None = None,
    rubric: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of answers that match the rubric's action, and share choosing a distractor.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Long responses.
    key : DataFrame
        One row per vignette with the rubric's ``action`` (``score_frame`` output).
    actions : optional
        The rubric's actions; a distractor is an action with ``appropriate`` false. Without
        ``actions`` the distractor columns are NaN.
    per : {"vignette", "respondent", "all"}
        The unit each row summarises.
    by : str or list of str, optional
        Group columns, crossed with ``per``.

    Returns
    -------
    DataFrame
        ``[per], [by...], n, n_agree, share_agree, agree_low, agree_high, n_distractor,
        share_distractor, distractor_low, distractor_high``.
    """
    allowed = ("vignette", "respondent", "all")
    if per not in allowed:
        raise ValueError(ERR_PER.format(allowed=allowed, per=per))
    frame = _with_key(_frame(data), _key(key, rubric))
    groups = _by(frame, by)
    unit = {"vignette": ["vignette_id"], "respondent": ["respondent_id"], "all": []}[per]
    keys = [*unit, *groups]
    work = pd.DataFrame(
        {"agree": (frame["response"] == frame["rubric_action"]).to_numpy()}, index=frame.index
    )
    if actions is not None:
        acts = actions_frame(actions)
        distractors = set(acts.loc[~acts["appropriate"], "id"])
        work["distractor"] = frame["response"].isin(distractors).to_numpy()
    else:
        work["distractor"] = np.nan
    for col in keys:
        work[col] = frame[col].to_numpy()
    if keys:
        grouped = work.groupby(keys, observed=True, sort=True)
        out = grouped.agg(
            n=("agree", "size"), n_agree=("agree", "sum"), n_distractor=("distractor", "sum")
        ).reset_index()
    else:
        out = pd.DataFrame(
            {
                "n": [len(work)],
                "n_agree": [work["agree"].sum()],
                "n_distractor": [work["distractor"].sum()],
            }
        )
    out["share_agree"] = out["n_agree"] / out["n"]
    out["agree_low"], out["agree_high"] = _wilson(out["n_agree"], out["n"], confidence)
    if actions is None:
        out["n_distractor"] = np.nan
    out["share_distractor"] = out["n_distractor"] / out["n"]
    out["distractor_low"], out["distractor_high"] = _wilson(
        out["n_distractor"].fillna(0), np.where(out["n_distractor"].isna(), 0, out["n"]), confidence
    )
    out["n_agree"] = out["n_agree"].astype(int)
    return out[
        [
            *keys,
            "n",
            "n_agree",
            "share_agree",
            "agree_low",
            "agree_high",
            "n_distractor",
            "share_distractor",
            "distractor_low",
            "distractor_high",
        ]
    ]


# --------------------------------------------------------------------------- inter-rater


def _rating_matrix(frame: pd.DataFrame, categories: Sequence[str] | None) -> tuple[np.ndarray, int]:
    """Respondents x vignettes matrix of category codes (-1 = no answer)."""
    r_codes, _ = pd.factorize(frame["respondent_id"], sort=True)
    v_codes, _ = pd.factorize(frame["vignette_id"], sort=True)
    if categories is None:
        c_codes, cats = pd.factorize(frame["response"], sort=True)
        n_cat = len(cats)
    else:
        lookup = {c: i for i, c in enumerate(categories)}
        c_codes = np.asarray(frame["response"].map(lookup).fillna(-1), dtype=np.int64)
        n_cat = len(categories)
    matrix = np.full(
        (r_codes.max() + 1 if len(r_codes) else 0, v_codes.max() + 1 if len(v_codes) else 0), -1
    )
    matrix[r_codes, v_codes] = c_codes
    return matrix, n_cat


def _value_counts(matrix: np.ndarray, n_cat: int) -> np.ndarray:
    """Vignettes x categories counts from a respondents x vignettes code matrix."""
    n_vig = matrix.shape[1]
    v_idx = np.broadcast_to(np.arange(n_vig), matrix.shape)
    ok = matrix >= 0
    flat = v_idx[ok] * n_cat + matrix[ok]
    return np.bincount(flat, minlength=n_vig * n_cat).reshape(n_vig, n_cat)


def _fleiss(matrix: np.ndarray, n_cat: int) -> float:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    if matrix.shape[0] < 2 or matrix.shape[1] < 1:
        return float("nan")
    # aggregate_raters wants subjects x raters: vignettes are the subjects.
    table, _ = aggregate_raters(matrix.T, n_cat=n_cat)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(fleiss_kappa(table, method="fleiss"))


def _alpha(counts: np.ndarray) -> float:
    import krippendorff

    pairable = counts[counts.sum(axis=1) >= 2]
    if pairable.shape[0] == 0 or np.count_nonzero(pairable.sum(axis=0)) < 2:
        return float("nan")  # one category only: expected disagreement is 0
    return float(krippendorff.alpha(value_counts=pairable, level_of_measurement="nominal"))


def interrater_agreement(
    data: pd.DataFrame | ResponseTable,
    *,
    by: str | Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    n_boot: int = 1000,
    resample: Literal["vignettes", "respondents"] = "vignettes",
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Agreement among respondents: Fleiss' kappa and Krippendorff's alpha (nominal).

    Vignettes are the rated units, respondents the raters. Fleiss' kappa needs the same
    raters on every unit, so it uses only respondents who answered every vignette (the
    ``note`` says how many); Krippendorff's alpha uses every answer (it allows missing data).

    Intervals are percentile bootstrap intervals. ``resample="vignettes"`` (default) draws
    vignettes with replacement: agreement is a property of how respondents sort *cases*, and
    with a handful of cases and many respondents most of the uncertainty comes from which
    cases were chosen; this is also the unit Krippendorff's own bootstrap resamples.
    ``resample="respondents"`` draws respondents instead and answers a narrower question
    (how stable is agreement on *these* cases across samples of respondents); its
    intervals are narrower.

    Parameters
    ----------
    data : DataFrame or ResponseTable
    by : str or list of str, optional
        Compute separately per group.
    categories : sequence of str, optional
        The response categories (default: those observed). Answers outside them are
        treated as missing.
    n_boot : int
        Bootstrap replicates; 0 skips the intervals.
    resample : {"vignettes", "respondents"}
    seed : int
        Seed of the bootstrap generator (results are reproducible).

    Returns
    -------
    DataFrame
        ``[by...], statistic, estimate, ci_low, ci_high, n_vignettes, n_respondents,
        n_responses, resample, n_boot, note``; one row per statistic (and group).
    """
    if resample not in ("vignettes", "respondents"):
        raise ValueError(ERR_RESAMPLE.format(resample=resample))
    frame = _frame(data)
    groups = _by(frame, by)
    if groups:
        parts = []
        for values, sub in frame.groupby(groups, observed=True, sort=True):
            res = interrater_agreement(
                sub, categories=categories, n_boot=n_boot, resample=resample, seed=seed,
                confidence=confidence,
            )  # fmt: skip
            values = values if isinstance(values, tuple) else (values,)
            for col, val in zip(groups, values, strict=True):
                res.insert(groups.index(col), col, [val] * len(res))
            parts.append(res)
        return pd.concat(parts, ignore_index=True)

    matrix, n_cat = _rating_matrix(frame, categories)
    complete = matrix[(matrix >= 0).all(axis=1)]
    counts = _value_counts(matrix, n_cat)
    kappa = _fleiss(complete, n_cat)
    alpha = _alpha(counts)
    note = ""
    if len(complete) < len(matrix):
        note = NOTE_FLEISS_COMPLETE.format(n=len(complete), total=len(matrix))

    k_low = k_high = a_low = a_high = float("nan")
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boot_k = np.empty(n_boot)
        boot_a = np.empty(n_boot)
        if resample == "vignettes":
            idx = rng.integers(0, matrix.shape[1], size=(n_boot, matrix.shape[1]))
            for b in range(n_boot):
                boot_k[b] = _fleiss(complete[:, idx[b]], n_cat)
                boot_a[b] = _alpha(counts[idx[b]])
        else:
            idx = rng.integers(0, matrix.shape[0], size=(n_boot, matrix.shape[0]))
            complete_rows = np.asarray((matrix >= 0).all(axis=1))
            for b in range(n_boot):
                sample = matrix[idx[b]]
                boot_k[b] = _fleiss(sample[complete_rows[idx[b]]], n_cat)
                boot_a[b] = _alpha(_value_counts(sample, n_cat))
        tail = (1 - confidence) / 2 * 100
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicates
            k_low, k_high = np.nanpercentile(boot_k, [tail, 100 - tail])
            a_low, a_high = np.nanpercentile(boot_a, [tail, 100 - tail])
    base = {
        "n_vignettes": matrix.shape[1],
        "n_respondents": matrix.shape[0],
        "n_responses": int((matrix >= 0).sum()),
        "resample": resample if n_boot > 0 else "",
        "n_boot": n_boot,
    }
    return pd.DataFrame(
        [
            {"statistic": "fleiss_kappa", "estimate": kappa, "ci_low": k_low, "ci_high": k_high,
             **base, "note": note},
            {"statistic": "krippendorff_alpha", "estimate": alpha, "ci_low": a_low,
             "ci_high": a_high, **base, "note": ""},
        ]
    )  # fmt: skip


def cohens_kappa(
    data: pd.DataFrame | ResponseTable,
    rater_a: str,
    rater_b: str,
    *,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Cohen's kappa between two respondents over the vignettes both answered.

    Uses :func:`statsmodels.stats.inter_rater.cohens_kappa` on the square contingency
    table; the interval is its asymptotic 95% interval.

    Returns
    -------
    DataFrame
        One row: ``rater_a, rater_b, n, kappa, se, ci_low, ci_high``.
    """
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

    frame = _frame(data)
    for rater in (rater_a, rater_b):
        if not (frame["respondent_id"] == rater).any():
            raise CasekitError(ERR_RATER.format(rater=rater))
    a = frame.loc[frame["respondent_id"] == rater_a].set_index("vignette_id")["response"]
    b = frame.loc[frame["respondent_id"] == rater_b].set_index("vignette_id")["response"]
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
    cats = list(categories) if categories is not None else sorted(set(both["a"]) | set(both["b"]))
    table = (
        pd.crosstab(both["a"], both["b"]).reindex(index=cats, columns=cats, fill_value=0).to_numpy()
    )
    if len(both) == 0:
        kappa = se = low = high = float("nan")
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            res = sm_cohens_kappa(table)
        kappa, se = float(res.kappa), float(res.std_kappa)
        low, high = float(res.kappa_low), float(res.kappa_upp)
    return pd.DataFrame(
        [{"rater_a": rater_a, "rater_b": rater_b, "n": len(both), "kappa": kappa, "se": se,
          "ci_low": low, "ci_high": high}]
    )  # fmt: skip


# --------------------------------------------------------------------------- groups


def compare_groups(
    data: pd.DataFrame | ResponseTable,
    by: str,
    *,
    key: pd.DataFrame | None = None,
    outcome: Literal["response", "agree"] = "response",
    per: Literal["vignette", "all"] = "vignette",
    rubric: str | None = None,
) -> pd.DataFrame:
    """Do groups answer differently? Chi-square test of independence with Cramér's V.

    For each vignette (or pooled, ``per="all"``) the table is outcome x group. 2x2 tables
    with any expected count below 5 use Fisher's exact test. Empty rows/columns are dropped
    first. Holm-adjusted p-values across vignettes are in ``p_holm``.

    Parameters
    ----------
    by : str
        The group column (profession, state, cohort…).
    key : DataFrame, optional
        Needed for ``outcome="agree"`` (answer matches the rubric or not).
    outcome : {"response", "agree"}

    Returns
    -------
    DataFrame
        ``vignette_id, test, statistic, dof, p_value, p_holm, cramers_v, n, n_groups,
        n_categories, min_expected, note``.
    """
    from scipy.stats import chi2_contingency, fisher_exact
    from scipy.stats.contingency import association, expected_freq
    from statsmodels.stats.multitest import multipletests

    frame = _frame(data)
    _by(frame, by)
    if outcome == "agree":
        if key is None:
            raise CasekitError(ERR_KEY_COLUMNS.format(missing="vignette_id, action"))
        frame = _with_key(frame, _key(key, rubric))
        frame = frame.assign(
            outcome=np.where(frame["response"] == frame["rubric_action"], "agree", "differ")
        )
    else:
        frame = frame.assign(outcome=frame["response"])
    frame = frame[frame[by].notna()]
    units: Iterable[tuple[str, pd.DataFrame]]
    units = (
        [(str(v), sub) for v, sub in frame.groupby("vignette_id", sort=True)]
        if per == "vignette"
        else [("(all)", frame)]
    )
    rows = []
    for unit, sub in units:
        table = pd.crosstab(sub["outcome"], sub[by])
        table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
        row: dict[str, Any] = {
            "vignette_id": unit, "test": "", "statistic": np.nan, "dof": np.nan,
            "p_value": np.nan, "cramers_v": np.nan, "n": int(table.to_numpy().sum()),
            "n_groups": table.shape[1], "n_categories": table.shape[0], "min_expected": np.nan,
            "note": NOTE_POOLED if per == "all" else "",
        }  # fmt: skip
        if table.shape[0] < 2 or table.shape[1] < 2:
            what = "response" if table.shape[0] < 2 else "group"
            row["note"] = NOTE_DEGENERATE.format(what=what)
            rows.append(row)
            continue
        observed = table.to_numpy()
        expected = expected_freq(observed)
        row["min_expected"] = float(expected.min())
        row["cramers_v"] = float(association(observed, method="cramer"))
        if observed.shape == (2, 2) and expected.min() < 5:
            res = fisher_exact(observed)
            row.update(
                test="fisher_exact", statistic=float(res.statistic), p_value=float(res.pvalue)
            )
        else:
            res = chi2_contingency(observed)
            row.update(
                test="chi2", statistic=float(res.statistic), dof=int(res.dof),
                p_value=float(res.pvalue),
            )  # fmt: skip
        rows.append(row)
    out = pd.DataFrame(rows)
    p = out["p_value"].to_numpy()
    ok = ~np.isnan(p)
    out["p_holm"] = np.nan
    if ok.any():
        out.loc[ok, "p_holm"] = multipletests(p[ok], method="holm")[1]
    cols = ["vignette_id", "test", "statistic", "dof", "p_value", "p_holm", "cramers_v", "n",
            "n_groups", "n_categories", "min_expected", "note"]  # fmt: skip
    return out[cols]


# --------------------------------------------------------------------------- facts


def _protective(frame: pd.DataFrame, protective: Iterable[str]) -> np.ndarray:
    return frame["response"].isin(set(protective)).to_numpy()


def fact_crosstab(
    data: pd.DataFrame | ResponseTable,
    key: pd.DataFrame,
    *,
    protective: Iterable[str] = PROTECTIVE_ACTIONS,
    criteria: Sequence[str] | None = None,
    rubric: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share choosing a protective action when each criterion fired vs. did not.

    Returns
    -------
    DataFrame
        ``criterion, fired, n_vignettes, n, n_protective, share_protective, ci_low,
        ci_high``; two rows per criterion.
    """
    frame = _frame(data)
    k = _key(key, rubric)
    crit = list(criteria) if criteria is not None else criteria_columns(k.reset_index())
    if not crit:
        raise CasekitError(ERR_NO_CRITERIA)
    _with_key(frame, k)
    chose = _protective(frame, protective)
    rows = []
    fired_by_row = k[crit].reindex(frame["vignette_id"]).fillna(False).to_numpy(dtype=bool)
    answered = k.index.isin(frame["vignette_id"].unique())
    for j, name in enumerate(crit):
        for fired in (True, False):
            sel = fired_by_row[:, j] == fired
            rows.append(
                {
                    "criterion": name,
                    "fired": fired,
                    "n_vignettes": int(
                        ((k[name].fillna(False).to_numpy(dtype=bool) == fired) & answered).sum()
                    ),
                    "n": int(sel.sum()),
                    "n_protective": int(chose[sel].sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["share_protective"] = np.where(
        out["n"] > 0, out["n_protective"] / out["n"].clip(lower=1), np.nan
    )
    out["ci_low"], out["ci_high"] = _wilson(out["n_protective"], out["n"], confidence)
    return out


def fact_effects(
    data: pd.DataFrame | ResponseTable,
    key: pd.DataFrame,
    *,
    protective: Iterable[str] = PROTECTIVE_ACTIONS,
    criteria: Sequence[str] | None = None,
    rubric: str | None = None,
    penalty: float = 1.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Logistic regression of "chose a protective action" on the criteria that fired.

    The model is ``Logit(protective ~ 1 + criteria)`` with standard errors clustered by
    respondent (each respondent answers several vignettes). Criteria vary only between
    vignettes, so with few vignettes the estimates are vignette-level contrasts: read them
    together with :func:`fact_crosstab`.

    Criteria that never vary are dropped, as are criteria collinear with earlier ones (the
    ``note`` says which). When the outcome is perfectly (or quasi-perfectly) separated —
    e.g. everyone warns whenever ``identifiable_victim`` fired — maximum likelihood does not
    exist; the function then reports ridge-penalised estimates (GLM Binomial,
    ``fit_regularized(L1_wt=0, alpha=penalty)``) with NaN standard errors and says so in
    ``method`` and ``note`` rather than failing.

    Returns
    -------
    DataFrame
        ``term, coef, se, z, p_value, odds_ratio, or_low, or_high, method, note``; one row
        per term (``const`` first). ``attrs`` holds ``n``, ``n_clusters`` and ``notes``.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    frame = _frame(data)
    k = _key(key, rubric)
    crit = list(criteria) if criteria is not None else criteria_columns(k.reset_index())
    if not crit:
        raise CasekitError(ERR_NO_CRITERIA)
    _with_key(frame, k)
    y = _protective(frame, protective).astype(float)
    x_all = k[crit].reindex(frame["vignette_id"]).fillna(False).to_numpy(dtype=float)
    notes = []
    constant = [c for j, c in enumerate(crit) if np.ptp(x_all[:, j]) == 0]
    if constant:
        notes.append(NOTE_DROPPED_CONSTANT.format(names=", ".join(constant)))
    kept: list[str] = []
    collinear: list[str] = []
    design = np.ones((len(y), 1))
    for j, c in enumerate(crit):
        if c in constant:
            continue
        trial = np.column_stack([design, x_all[:, j]])
        if np.linalg.matrix_rank(trial) > design.shape[1]:
            design, kept = trial, [*kept, c]
        else:
            collinear.append(c)
    if collinear:
        notes.append(NOTE_DROPPED_COLLINEAR.format(names=", ".join(collinear)))
    terms = ["const", *kept]
    groups, _ = pd.factorize(frame["respondent_id"])
    method = "logit, cluster-robust SE by respondent"
    separation = ""
    params = se = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            res = sm.Logit(y, design).fit(
                disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups}
            )
        params, se = np.asarray(res.params), np.asarray(res.bse)
        # Quasi-separation: the optimiser "converges" to huge coefficients or NaN SEs.
        if (
            not res.mle_retvals.get("converged", True)
            or np.any(~np.isfinite(se))
            or np.any(np.abs(params) > 15)
        ):
            separation = "coefficients diverge"
    except (PerfectSeparationError, PerfectSeparationWarning):
        separation = "an outcome is perfectly predicted"
    except np.linalg.LinAlgError:
        separation = "singular information matrix"
    if separation:
        glm = sm.GLM(y, design, family=sm.families.Binomial())
        fit = glm.fit_regularized(alpha=penalty, L1_wt=0.0)
        params, se = np.asarray(fit.params), np.full(len(terms), np.nan)
        method = "ridge-penalised logit (GLM Binomial)"
        notes.append(NOTE_SEPARATION.format(detail=separation, alpha=penalty))
    from scipy.stats import norm

    assert params is not None and se is not None  # set on every path above
    z = params / se
    crit_z = norm.ppf(0.5 + confidence / 2)
    out = pd.DataFrame(
        {
            "term": terms,
            "coef": params,
            "se": se,
            "z": z,
            "p_value": 2 * norm.sf(np.abs(z)),
            "odds_ratio": np.exp(params),
            "or_low": np.exp(params - crit_z * se),
            "or_high": np.exp(params + crit_z * se),
            "method": method,
            "note": "; ".join(notes),
        }
    )
    out.attrs.update(n=len(y), n_clusters=int(groups.max() + 1) if len(groups) else 0, notes=notes)
    return out


# --------------------------------------------------------------------------- summary


def summarize_responses(
    table: pd.DataFrame | ResponseTable,
    key: pd.DataFrame,
    actions: Any = None,
    *,
    by: str | Sequence[str] | None = None,
    rubric: str | None = None,
) -> pd.DataFrame:
    """One row per vignette (and group): n, counts per action, agreement with the rubric.

    The frame behind ``casekit responses``. Overall agreement among respondents is in
    ``attrs``: ``fleiss_kappa``, ``krippendorff_alpha``, ``n_respondents``,
    ``n_responses`` and ``agreement_note`` (no bootstrap: the command stays fast).

    Returns
    -------
    DataFrame
        ``vignette_id, [by...], n, rubric_action, share_rubric, rubric_low, rubric_high,
        share_distractor, top_response, top_share`` then ``n_<action>`` for every action
        (rubric order, unused actions omitted).
    """
    frame = _frame(table)
    groups = _by(frame, by)
    cats = _categories(frame, actions)
    agree = rubric_agreement(frame, key, actions, per="vignette", by=groups, rubric=rubric)
    k = _key(key, rubric)
    counts = (
        frame.groupby(["vignette_id", *groups, "response"], observed=True)
        .size()
        .unstack("response", fill_value=0)
    )
    counts = counts.reindex(columns=[c for c in cats if c in counts.columns], fill_value=0)
    top = counts.idxmax(axis=1)
    top_share = counts.max(axis=1) / counts.sum(axis=1)
    counts.columns = [f"n_{c}" for c in counts.columns]
    action_cols = list(counts.columns)
    counts = counts.assign(top_response=top, top_share=top_share).reset_index()
    out = agree.rename(
        columns={
            "share_agree": "share_rubric",
            "agree_low": "rubric_low",
            "agree_high": "rubric_high",
        }
    )
    out.insert(len(groups) + 2, "rubric_action", k["action"].reindex(out["vignette_id"]).to_numpy())
    out = out.merge(counts, on=["vignette_id", *groups], how="left")
    out = out[
        ["vignette_id", *groups, "n", "rubric_action", "share_rubric", "rubric_low", "rubric_high",
         "share_distractor", "top_response", "top_share", *action_cols]
    ]  # fmt: skip
    overall = interrater_agreement(frame, categories=cats, n_boot=0)
    est = overall.set_index("statistic")["estimate"]
    out.attrs.update(
        fleiss_kappa=float(est["fleiss_kappa"]),
        krippendorff_alpha=float(est["krippendorff_alpha"]),
        n_respondents=int(overall["n_respondents"].iloc[0]),
        n_responses=int(overall["n_responses"].iloc[0]),
        agreement_note=str(overall["note"].iloc[0]),
    )
    return out


def responses_report(
    responses: str | Path,
    vignettes: str | Path,
    *,
    by: str | None = None,
    rubric: str = "duty_to_protect",
) -> pd.DataFrame:
    """Everything ``casekit responses FILE --vignettes PATH`` prints, as one frame.

    Reads the vignette set (file or folder), scores it with ``rubric`` to get each case's
    recommended action, reads the response file (any layout :func:`read_responses`
    understands; responses matched to the rubric's action ids and labels) and returns
    :func:`summarize_responses`.

    Returns
    -------
    DataFrame
        The :func:`summarize_responses` frame. ``attrs["summary"]`` is a small ordered dict
        for the command line footer (respondents, responses, excluded rows, Fleiss' kappa,
        Krippendorff's alpha, and a note when kappa used complete respondents only);
        ``attrs["excluded"]`` the number of excluded rows and ``attrs["exclusions"]`` the
        exclusion report as a list of records.

    Raises
    ------
    DataFormatError
        When either file is malformed (names file, line and field).
    """
    from casekit.io import read_vignettes, vignettes_to_frame
    from casekit.response_tables import read_responses
    from casekit.rules import load_rubric
    from casekit.scoring import score_frame

    cases = read_vignettes(vignettes)
    key = score_frame(vignettes_to_frame(cases), [rubric])
    actions = load_rubric(rubric).actions
    table = read_responses(responses, vignette_ids=[v.id for v in cases], actions=actions)
    if table.data.empty:
        raise CasekitError(ERR_NO_RESPONSES.format(file=responses, excluded=len(table.excluded)))
    out = summarize_responses(table, key, actions, by=by, rubric=rubric)
    summary: dict[str, Any] = {
        "respondents": out.attrs["n_respondents"],
        "responses": out.attrs["n_responses"],
        "excluded rows": len(table.excluded),
        "Fleiss' kappa": round(out.attrs["fleiss_kappa"], 3),
        "Krippendorff's alpha (nominal)": round(out.attrs["krippendorff_alpha"], 3),
    }
    if out.attrs["agreement_note"]:
        summary["note"] = out.attrs["agreement_note"]
    excluded = table.excluded.astype(object).where(table.excluded.notna(), None)
    out.attrs.update(
        summary=summary, excluded=len(table.excluded), exclusions=excluded.to_dict("records")
    )
    return out
