"""Response analysis: reference values from published worked examples, and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casekit import responses as rs
from casekit.errors import CasekitError

ACTIONS = pd.DataFrame(
    {
        "id": ["warn_and_notify", "hospitalize", "assess_and_document", "maintain_confidentiality"],
        "label": ["Warn", "Hospitalize", "Assess", "Keep quiet"],
        "appropriate": [True, True, True, False],
    }
)


def long_from_counts(table: np.ndarray) -> pd.DataFrame:
    """Subjects x categories counts -> long frame with arbitrary rater ids.

    Fleiss' kappa and Krippendorff's alpha depend only on the counts per unit, so which
    rater gave which rating does not matter.
    """
    rows = []
    for i, counts in enumerate(table):
        rater = 0
        for category, n in enumerate(counts):
            for _ in range(int(n)):
                rows.append((f"r{rater}", f"s{i:02d}", f"c{category}"))
                rater += 1
    return pd.DataFrame(rows, columns=["respondent_id", "vignette_id", "response"])


def long_from_matrix(matrix: list[list[object]]) -> pd.DataFrame:
    """Raters x units reliability data (None = missing) -> long frame."""
    rows = [
        (f"rater{r}", f"u{u:02d}", str(value))
        for r, values in enumerate(matrix)
        for u, value in enumerate(values)
        if value is not None
    ]
    return pd.DataFrame(rows, columns=["respondent_id", "vignette_id", "response"])


def estimate(frame: pd.DataFrame, statistic: str) -> float:
    res = rs.interrater_agreement(frame, n_boot=0)
    return float(res.set_index("statistic").loc[statistic, "estimate"])


# --------------------------------------------------------------------------- reference values


def test_fleiss_kappa_wikipedia_worked_example() -> None:
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories;
    # kappa = 0.210 (0.20993 unrounded).
    table = np.array(
        [
            [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
        ]
    )  # fmt: skip
    assert estimate(long_from_counts(table), "fleiss_kappa") == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_kappa_fleiss_1971_diagnoses() -> None:
    # Fleiss (1971), "Measuring nominal scale agreement among many raters", Psychological
    # Bulletin 76(5): 30 patients, 6 psychiatrists, 5 diagnoses. Raw ratings as distributed
    # in R's irr package (data "diagnoses"); kappam.fleiss(diagnoses) gives 0.430 (0.4302445).
    diagnoses = [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]  # fmt: skip
    frame = long_from_matrix([list(col) for col in zip(*diagnoses, strict=True)])
    assert estimate(frame, "fleiss_kappa") == pytest.approx(0.4302445, abs=1e-6)


def test_krippendorff_alpha_reliability_data_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C
    # (nominal data, 4 observers, 12 units, missing values): alpha = 0.743.
    reliability = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    frame = long_from_matrix(reliability)
    assert estimate(frame, "krippendorff_alpha") == pytest.approx(0.743, abs=5e-4)
    # Nobody rated all 12 units, so Fleiss' kappa is undefined here and says why.
    res = rs.interrater_agreement(frame, n_boot=0).set_index("statistic")
    assert np.isnan(res.loc["fleiss_kappa", "estimate"])
    assert res.loc["fleiss_kappa", "note"] == rs.NOTE_FLEISS_COMPLETE.format(n=0, total=4)


def test_cohens_kappa_wikipedia_example() -> None:
    # Wikipedia, "Cohen's kappa", simple example: 50 proposals, yes/yes 20, yes/no 5,
    # no/yes 10, no/no 15; kappa = 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    rows = []
    for i, (a, b) in enumerate(pairs):
        rows += [("A", f"p{i}", a), ("B", f"p{i}", b)]
    frame = pd.DataFrame(rows, columns=["respondent_id", "vignette_id", "response"])
    res = rs.cohens_kappa(frame, "A", "B")
    assert res["kappa"].iloc[0] == pytest.approx(0.4)
    assert res["n"].iloc[0] == 50
    assert res["ci_low"].iloc[0] < 0.4 < res["ci_high"].iloc[0]
    with pytest.raises(CasekitError, match="'C' is not in the responses"):
        rs.cohens_kappa(frame, "A", "C")


# --------------------------------------------------------------------------- invariants

responses_strategy = st.lists(
    st.tuples(
        st.integers(0, 7),  # respondent
        st.integers(0, 4),  # vignette
        st.sampled_from(["warn_and_notify", "hospitalize", "assess_and_document", "x"]),
        st.sampled_from(["a", "b"]),
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda t: (t[0], t[1]),
)


def frame_of(rows: list[tuple[int, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"r{r}", f"V{v}", resp, g) for r, v, resp, g in rows],
        columns=["respondent_id", "vignette_id", "response", "group"],
    )


@settings(max_examples=60, deadline=None)
@given(rows=responses_strategy, by_group=st.booleans())
def test_distribution_shares_sum_to_one(
    rows: list[tuple[int, int, str, str]], by_group: bool
) -> None:
    frame = frame_of(rows)
    dist = rs.distribution(frame, by="group" if by_group else None, actions=ACTIONS)
    keys = ["vignette_id", "group"] if by_group else ["vignette_id"]
    sums = dist.groupby(keys)["share"].sum()
    assert np.allclose(sums, 1.0)
    assert (dist.groupby(keys)["n"].sum() == frame.groupby(keys).size()).all()
    assert (
        (dist["ci_low"] <= dist["share"] + 1e-12) & (dist["share"] <= dist["ci_high"] + 1e-12)
    ).all()
    # Every rubric action appears for every vignette, zero counts included.
    assert set(ACTIONS["id"]) <= set(dist["response"])


@settings(max_examples=40, deadline=None)
@given(
    answers=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=8).filter(
        lambda a: len(set(a)) >= 2
    ),
    n_raters=st.integers(2, 6),
)
def test_identical_raters_agree_perfectly(answers: list[str], n_raters: int) -> None:
    rows = [(f"r{r}", f"V{v}", answer) for r in range(n_raters) for v, answer in enumerate(answers)]
    frame = pd.DataFrame(rows, columns=["respondent_id", "vignette_id", "response"])
    res = rs.interrater_agreement(frame, n_boot=0).set_index("statistic")["estimate"]
    assert res["fleiss_kappa"] == pytest.approx(1.0)
    assert res["krippendorff_alpha"] == pytest.approx(1.0)
    assert rs.cohens_kappa(frame, "r0", "r1")["kappa"].iloc[0] == pytest.approx(1.0)
    key = pd.DataFrame({"vignette_id": [f"V{v}" for v in range(len(answers))], "action": answers})
    agree = rs.rubric_agreement(frame, key, per="all")
    assert agree["share_agree"].iloc[0] == 1.0


# --------------------------------------------------------------------------- rubric agreement

KEY = pd.DataFrame(
    {
        "vignette_id": ["V1", "V2"],
        "rubric": ["duty_to_protect"] * 2,
        "duty": ["required", "not_triggered"],
        "action": ["warn_and_notify", "assess_and_document"],
        "threat_communicated": [True, False],
    }
)
SMALL = pd.DataFrame(
    {
        "respondent_id": ["a", "b", "c", "d", "a", "b", "c", "d"],
        "vignette_id": ["V1"] * 4 + ["V2"] * 4,
        "response": [
            "warn_and_notify", "warn_and_notify", "hospitalize", "maintain_confidentiality",
            "assess_and_document", "maintain_confidentiality", "maintain_confidentiality",
            "assess_and_document",
        ],
        "profession": ["x", "y", "x", "y"] * 2,
    }
)  # fmt: skip


def test_rubric_agreement_per_vignette_respondent_and_group() -> None:
    per_v = rs.rubric_agreement(SMALL, KEY, ACTIONS).set_index("vignette_id")
    assert per_v.loc["V1", ["n", "n_agree", "n_distractor"]].tolist() == [4, 2, 1]
    assert per_v.loc["V2", "share_agree"] == 0.5
    assert per_v.loc["V2", "share_distractor"] == 0.5
    per_r = rs.rubric_agreement(SMALL, KEY, ACTIONS, per="respondent").set_index("respondent_id")
    assert per_r["n_agree"].to_dict() == {"a": 2, "b": 1, "c": 0, "d": 1}
    groups = rs.rubric_agreement(SMALL, KEY, ACTIONS, per="all", by="profession")
    assert groups.set_index("profession")["n_agree"].to_dict() == {"x": 2, "y": 2}
    no_actions = rs.rubric_agreement(SMALL, KEY)
    assert no_actions["share_distractor"].isna().all()


def test_key_problems_are_clear() -> None:
    with pytest.raises(CasekitError) as info:
        rs.rubric_agreement(SMALL, KEY.iloc[:1])
    assert str(info.value) == rs.ERR_KEY_MISSING.format(ids="V2")
    two_rubrics = pd.concat([KEY, KEY.assign(rubric="self_harm", action="hospitalize")])
    picked = rs.rubric_agreement(SMALL, two_rubrics, rubric="self_harm", per="all")
    assert picked["n_agree"].iloc[0] == 1
    default = rs.rubric_agreement(SMALL, two_rubrics, per="all")
    assert default["n_agree"].iloc[0] == 4
    with pytest.raises(CasekitError, match="group column 'cohort'"):
        rs.distribution(SMALL, by="cohort")


def test_distribution_marks_the_rubric_answer() -> None:
    dist = rs.distribution(SMALL, key=KEY, actions=ACTIONS)
    marked = dist[dist["is_rubric_answer"]]
    assert marked[["vignette_id", "response", "n"]].values.tolist() == [
        ["V1", "warn_and_notify", 2],
        ["V2", "assess_and_document", 2],
    ]


# --------------------------------------------------------------------------- bootstrap


def survey(seed: int = 3, n: int = 60, k: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.choice(["a", "b", "c"], size=k)
    noise = rng.random((n, k)) < 0.35
    answers = np.where(noise, rng.choice(["a", "b", "c"], size=(n, k)), truth[None, :])
    return pd.DataFrame(
        {
            "respondent_id": np.repeat([f"r{i}" for i in range(n)], k),
            "vignette_id": np.tile([f"V{j}" for j in range(k)], n),
            "response": answers.reshape(-1),
            "group": np.repeat(np.where(np.arange(n) < n // 2, "g1", "g2"), k),
        }
    )


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    frame = survey()
    a = rs.interrater_agreement(frame, n_boot=200, seed=1)
    b = rs.interrater_agreement(frame, n_boot=200, seed=1)
    c = rs.interrater_agreement(frame, n_boot=200, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    assert ((a["ci_low"] < a["estimate"]) & (a["estimate"] < a["ci_high"])).all()
    by_resp = rs.interrater_agreement(frame, n_boot=200, resample="respondents")
    assert (by_resp["resample"] == "respondents").all()
    assert np.allclose(by_resp["estimate"], a["estimate"])
    with pytest.raises(ValueError, match="resample must be"):
        rs.interrater_agreement(frame, resample="units")  # type: ignore[arg-type]
    grouped = rs.interrater_agreement(frame, by="group", n_boot=0)
    assert grouped["group"].tolist() == ["g1", "g1", "g2", "g2"]


# --------------------------------------------------------------------------- group tests


def test_compare_groups_uses_fisher_for_small_2x2_and_chi2_otherwise() -> None:
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    small = pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in range(8)],
            "vignette_id": ["V1"] * 8,
            "response": ["warn_and_notify"] * 4 + ["hospitalize"] * 4,
            "group": ["x", "x", "x", "y", "y", "y", "y", "x"],
        }
    )
    res = rs.compare_groups(small, "group")
    assert res["test"].iloc[0] == "fisher_exact"
    assert res["min_expected"].iloc[0] < 5

    frame = survey(n=200)
    res = rs.compare_groups(frame, "group").set_index("vignette_id")
    sub = frame[frame["vignette_id"] == "V0"]
    table = pd.crosstab(sub["response"], sub["group"]).to_numpy()
    assert res.loc["V0", "test"] == "chi2"
    assert res.loc["V0", "p_value"] == pytest.approx(chi2_contingency(table).pvalue)
    assert res.loc["V0", "cramers_v"] == pytest.approx(association(table, method="cramer"))
    assert (res["p_holm"] >= res["p_value"]).all()

    one_group = small.assign(group="x")
    assert rs.compare_groups(one_group, "group")["note"].iloc[0] == rs.NOTE_DEGENERATE.format(
        what="group"
    )
    pooled = rs.compare_groups(SMALL, "profession", key=KEY, outcome="agree", per="all")
    assert pooled["note"].iloc[0] == rs.NOTE_POOLED


# --------------------------------------------------------------------------- fact effects


def fact_data(separate: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    k, n = 12, 150
    key = pd.DataFrame(
        {
            "vignette_id": [f"V{j}" for j in range(k)],
            "action": ["warn_and_notify"] * k,
            "identifiable_victim": [j % 2 == 0 for j in range(k)],
            "imminent": [j % 3 == 0 for j in range(k)],
            "copy_of_victim": [j % 2 == 0 for j in range(k)],
            "never": [False] * k,
        }
    )
    victim = key["identifiable_victim"].to_numpy()
    if separate:
        p = np.where(victim, 1.0, 0.0)
    else:
        p = 1 / (1 + np.exp(-(-1.0 + 2.0 * victim + 0.0 * key["imminent"].to_numpy())))
    chose = rng.random((n, k)) < p[None, :]
    frame = pd.DataFrame(
        {
            "respondent_id": np.repeat([f"r{i}" for i in range(n)], k),
            "vignette_id": np.tile(key["vignette_id"], n),
            "response": np.where(chose, "warn_and_notify", "assess_and_document").reshape(-1),
        }
    )
    return frame, key


def test_fact_effects_recovers_a_known_effect_and_drops_useless_criteria() -> None:
    frame, key = fact_data(separate=False)
    res = rs.fact_effects(frame, key).set_index("term")
    assert list(res.index) == ["const", "identifiable_victim", "imminent"]
    assert res.loc["identifiable_victim", "coef"] == pytest.approx(2.0, abs=0.35)
    assert res.loc["identifiable_victim", "p_value"] < 1e-6
    assert res.loc["imminent", "or_low"] < 1 < res.loc["imminent", "or_high"]
    note = res["note"].iloc[0]
    assert rs.NOTE_DROPPED_CONSTANT.format(names="never") in note
    assert rs.NOTE_DROPPED_COLLINEAR.format(names="copy_of_victim") in note
    cross = rs.fact_crosstab(frame, key).set_index(["criterion", "fired"])
    assert (
        cross.loc[("identifiable_victim", True), "share_protective"]
        > cross.loc[("identifiable_victim", False), "share_protective"]
    )
    assert cross.loc[("never", True), "n"] == 0


def test_fact_effects_reports_perfect_separation_instead_of_crashing() -> None:
    frame, key = fact_data(separate=True)
    res = rs.fact_effects(frame, key)
    assert res["method"].iloc[0] == "ridge-penalised logit (GLM Binomial)"
    assert res["se"].isna().all()
    assert "separation" in res["note"].iloc[0]
    victim = res.set_index("term").loc["identifiable_victim", "coef"]
    assert np.isfinite(victim) and victim > 0


# --------------------------------------------------------------------------- summary


def test_summarize_responses_frame_and_attrs() -> None:
    summary = rs.summarize_responses(SMALL, KEY, ACTIONS)
    assert summary["vignette_id"].tolist() == ["V1", "V2"]
    assert summary[["n", "rubric_action"]].values.tolist() == [
        [4, "warn_and_notify"],
        [4, "assess_and_document"],
    ]
    assert summary["n_warn_and_notify"].tolist() == [2, 0]
    assert "n_treatment_plan" not in summary.columns
    agreement = rs.interrater_agreement(SMALL, n_boot=0).set_index("statistic")["estimate"]
    assert summary.attrs["fleiss_kappa"] == pytest.approx(agreement["fleiss_kappa"])
    assert summary.attrs["krippendorff_alpha"] == pytest.approx(agreement["krippendorff_alpha"])
    by = rs.summarize_responses(SMALL, KEY, ACTIONS, by="profession")
    assert by[["vignette_id", "profession", "n"]].values.tolist() == [
        ["V1", "x", 2], ["V1", "y", 2], ["V2", "x", 2], ["V2", "y", 2],
    ]  # fmt: skip
    assert by.loc[0, "top_response"] in {"warn_and_notify", "hospitalize"}


def test_criteria_of_other_rubrics_and_object_columns_are_handled() -> None:
    # score_frame over several rubrics: each row carries every rubric's criteria, <NA>
    # where the criterion belongs to another rubric.
    frame, key = fact_data(separate=False)
    multi = pd.concat(
        [
            key.assign(rubric="duty_to_protect", self_harm_intent=pd.NA),
            key.assign(rubric="self_harm", action="hospitalize", self_harm_intent=True),
        ],
        ignore_index=True,
    )
    for col in ("identifiable_victim", "imminent", "copy_of_victim", "never", "self_harm_intent"):
        multi[col] = multi[col].astype("boolean")
    multi.loc[multi["rubric"] == "self_harm", ["identifiable_victim", "imminent"]] = pd.NA
    picked = rs._key(multi, "duty_to_protect").reset_index()
    assert "self_harm_intent" not in rs.criteria_columns(picked)
    res = rs.fact_effects(frame, multi, rubric="duty_to_protect").set_index("term")
    assert list(res.index) == ["const", "identifiable_victim", "imminent"]
    # Built row by row, bools end up in object columns; they still count as criteria.
    as_object = key.astype(object)
    assert rs.criteria_columns(as_object) == rs.criteria_columns(key)
