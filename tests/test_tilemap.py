"""Tests for casekit.tilemap.jurisdiction_map."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgb

from casekit.errors import CasekitError
from casekit.law import decide, load_jurisdictions
from casekit.model import US_JURISDICTIONS
from casekit.tilemap import OUTCOME_COLORS, TILE_GRID, jurisdiction_map

FLAGGED = {"GA", "HI", "TX"}


@pytest.fixture
def result() -> pd.DataFrame:
    duty = {code: "required" for code in US_JURISDICTIONS}
    duty.update(
        {"TX": "permitted", "CT": "permitted", "HI": "not_triggered", "KS": "not_triggered"}
    )
    rows = [
        {
            "jurisdiction": code,
            "duty": value,
            "confidence": "conflicting_sources" if code in FLAGGED else "confirmed",
        }
        for code, value in duty.items()
    ]
    rows.append({"jurisdiction": "generic", "duty": "required", "confidence": "confirmed"})
    return pd.DataFrame(rows)


def patches_by(ax, prefix: str) -> dict:
    return {
        p.get_gid().split(":", 1)[1]: p
        for p in ax.patches
        if p.get_gid() and p.get_gid().startswith(prefix)
    }


def test_layout_covers_every_state_once():
    assert set(TILE_GRID) == set(US_JURISDICTIONS)
    assert len(set(TILE_GRID.values())) == 51


def test_tiles_colours_hatching_and_legend(result, tmp_path):
    fig = jurisdiction_map(result, title="Duty")
    ax = fig.axes[0]
    tiles = patches_by(ax, "tile:")
    assert len(tiles) == 51 and set(tiles) == set(US_JURISDICTIONS)
    assert to_hex(tiles["CA"].get_facecolor()) == OUTCOME_COLORS["required"].lower()
    assert to_hex(tiles["TX"].get_facecolor()) == OUTCOME_COLORS["permitted"].lower()
    assert to_hex(tiles["KS"].get_facecolor()) == OUTCOME_COLORS["not_triggered"].lower()
    assert len({to_hex(t.get_facecolor()) for t in tiles.values()}) == 3

    hatches = patches_by(ax, "hatch:")
    assert set(hatches) == FLAGGED
    assert all(h.get_hatch() for h in hatches.values())
    assert not any(t.get_hatch() for t in tiles.values())

    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["required", "permitted", "not triggered", "sources conflict or unverified"]
    assert legend.legend_handles[-1].get_hatch()
    assert ax.get_title() == "Duty"

    texts = {t.get_gid(): t for t in ax.texts if t.get_gid()}
    assert texts["label:CA"].get_text() == "CA"
    # Contrasting text: dark on the light sky blue, and never the tile's own colour.
    assert texts["label:TX"].get_color() == "black"
    for code, tile in tiles.items():
        assert to_rgb(texts[f"label:{code}"].get_color()) != to_rgb(tile.get_facecolor())

    path = tmp_path / "map.png"
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000
    plt.close(fig)


def test_missing_states_drawn_as_no_data(result):
    partial = result[~result["jurisdiction"].isin(["CA", "NY"])]
    fig = jurisdiction_map(partial)
    ax = fig.axes[0]
    tiles = patches_by(ax, "tile:")
    assert len(tiles) == 51
    assert to_hex(tiles["CA"].get_facecolor()) == "#ffffff"
    assert "no data" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)


def test_other_columns_and_unknown_values_get_palette_colours():
    rows = [
        {"jurisdiction": code, "group": "a" if i % 2 else "b", "confidence": "confirmed"}
        for i, code in enumerate(US_JURISDICTIONS)
    ]
    fig = jurisdiction_map(pd.DataFrame(rows), column="group")
    tiles = patches_by(fig.axes[0], "tile:")
    assert len({to_hex(t.get_facecolor()) for t in tiles.values()}) == 2
    assert not patches_by(fig.axes[0], "hatch:")
    plt.close(fig)


def test_draws_into_given_axes(result):
    fig, (left, right) = plt.subplots(1, 2)
    assert jurisdiction_map(result, ax=right) is fig
    assert len(patches_by(right, "tile:")) == 51 and not left.patches
    plt.close(fig)


def test_real_decisions_map(tmp_path):
    fired = frozenset({"threat_communicated", "serious_violence", "identifiable_victim"})
    rows = [
        {"jurisdiction": code, "action": decide(row, fired).action, "confidence": row.confidence}
        for code, row in load_jurisdictions().items()
    ]
    fig = jurisdiction_map(pd.DataFrame(rows), column="action")
    hatched = set(patches_by(fig.axes[0], "hatch:"))
    expected = {c for c, r in load_jurisdictions().items() if r.confidence != "confirmed"}
    assert hatched == expected - {"generic"}
    fig.savefig(tmp_path / "actions.png", dpi=60)
    plt.close(fig)


def test_missing_column_is_a_clear_error(result):
    with pytest.raises(CasekitError, match="'action'"):
        jurisdiction_map(result, column="action")


def test_import_does_not_load_matplotlib():
    code = "import sys, casekit.tilemap, casekit.law; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
