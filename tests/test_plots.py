"""Figures: built headless (Agg), checked by what they draw, saved for a human to look at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from casekit import plots
from casekit.datasets import make_responses
from casekit.response_tables import read_responses

ROOT = Path(__file__).resolve().parents[1]
FIGS = Path(os.environ.get("CASEKIT_FIG_DIR", "/tmp/casekit-figs"))
ACTIONS = pd.DataFrame(
    {
        "id": list(make_responses.ACTIONS),
        "label": [a.replace("_", " ").capitalize() for a in make_responses.ACTIONS],
        "appropriate": [True] * 8 + [False] * 4,
    }
)


@pytest.fixture(scope="module")
def survey() -> tuple[pd.DataFrame, pd.DataFrame]:
    cases = make_responses.load_cases()
    table = read_responses(
        ROOT / "data" / "responses" / "survey_wide.csv",
        vignette_ids=[c["id"] for c in cases],
        actions=ACTIONS,
    )
    # A key from the gold annotation keeps these tests independent of the matcher.
    used = set(table.data["vignette_id"])
    key = pd.DataFrame(
        {
            "vignette_id": [c["id"] for c in cases if c["id"] in used],
            "duty": [c["duty"] for c in cases if c["id"] in used],
            "action": [c["answer"] for c in cases if c["id"] in used],
        }
    )
    rng = np.random.default_rng(0)
    for crit in ("threat_communicated", "identifiable_victim", "imminent"):
        key[crit] = rng.random(len(key)) < 0.5
    return table.data, key


def save(fig: matplotlib.figure.Figure, name: str) -> None:
    FIGS.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGS / name, dpi=80)


def min_font_size(fig: matplotlib.figure.Figure) -> float:
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    return min(sizes)


def test_palette_is_fixed_and_distractors_are_hatched_greys() -> None:
    assert set(make_responses.ACTIONS) <= set(plots.ACTION_COLOURS)
    appropriate = [plots.ACTION_COLOURS[a] for a in make_responses.ACTIONS[:8]]
    assert len(set(appropriate)) == 8
    for action in make_responses.ACTIONS[8:]:
        style = plots.action_style(action, appropriate=False)
        r, g, b = matplotlib.colors.to_rgb(style["color"])
        assert r == g == b  # grey
        assert style["hatch"]
    unknown = plots.action_style("something_else", appropriate=False)
    assert unknown["hatch"] and unknown["color"] == "#AAAAAA"


def test_distribution_figure_marks_the_rubric_answer(survey: tuple) -> None:
    data, key = survey
    vignettes = sorted(data["vignette_id"].unique())[:6]
    fig = plots.plot_distribution(data, key, ACTIONS, vignettes=vignettes, title="Survey")
    save(fig, "distribution.png")
    (ax,) = fig.axes
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == vignettes
    # The first vignette's rubric answer segment has the thick outline.
    outlined = [p for p in ax.patches if not p.get_fill() and p.get_linewidth() > 2]
    assert len(outlined) == sum(
        (
            data[data["vignette_id"] == v]["response"]
            == key.set_index("vignette_id").at[v, "action"]
        ).any()
        for v in vignettes
    )
    legend = fig.legends[0]
    assert plots.RUBRIC_LEGEND in [t.get_text() for t in legend.get_texts()]
    warn_bars = [p for p in ax.patches if p.get_fill() and to_hex(p.get_facecolor()) == "#d55e00"]
    assert warn_bars, "warn_and_notify segments use their fixed colour"
    assert min_font_size(fig) >= 11
    plt.close(fig)


def test_small_multiples_one_panel_per_group(survey: tuple) -> None:
    data, key = survey
    fig = plots.plot_distribution_by_group(data, "profession", key, ACTIONS)
    save(fig, "by_group.png")
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes]
    assert titles == sorted(p.replace("_", " ") for p in data["profession"].unique())
    assert min_font_size(fig) >= 11
    plt.close(fig)


def test_agreement_figure_annotates_kappa_and_alpha(survey: tuple) -> None:
    data, key = survey
    fig = plots.plot_agreement(data, key, ACTIONS, n_boot=50)
    save(fig, "agreement.png")
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Fleiss κ" in text and "Krippendorff α" in text and "bootstrap over vignettes" in text
    assert min_font_size(fig) >= 11
    plt.close(fig)


def test_criteria_heatmap_shows_what_fired(survey: tuple) -> None:
    _, key = survey
    fig = plots.plot_criteria_heatmap(key)
    save(fig, "heatmap.png")
    image = fig.axes[0].images[0].get_array()
    expected = key[["threat_communicated", "identifiable_victim", "imminent"]].to_numpy(int)
    assert np.array_equal(np.asarray(image), expected)
    assert min_font_size(fig) >= 11
    plt.close(fig)


def test_empty_responses_raise_a_clear_error() -> None:
    empty = pd.DataFrame(columns=["respondent_id", "vignette_id", "response"])
    with pytest.raises(ValueError, match=plots.ERR_NO_DATA):
        plots.plot_distribution(empty)


def test_importing_core_modules_does_not_import_matplotlib() -> None:
    code = (
        "import sys, casekit.responses, casekit.response_tables, casekit.plots; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
