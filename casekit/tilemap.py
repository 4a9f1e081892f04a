"""A tile-grid map of the United States: one square per state and DC, coloured by outcome.

No shapefiles and no downloads: every jurisdiction has a fixed (row, column) in a standard
tile-grid layout, so small states are as visible as large ones. Colours come from the
Okabe-Ito palette (safe for the common forms of colour blindness); rows whose legal data is
not ``confirmed`` are hatched, so an unsettled answer never looks settled.

matplotlib is imported inside :func:`jurisdiction_map`, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from casekit.errors import CasekitError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "OUTCOME_COLORS", "TILE_GRID", "jurisdiction_map"]

#: (row, column) of each tile; row 0 is the top. The common "NPR-style" layout.
TILE_GRID: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "AK": (0, 0), "ME": (0, 11),
        "VT": (1, 10), "NH": (1, 11),
        "WA": (2, 1), "ID": (2, 2), "MT": (2, 3), "ND": (2, 4), "MN": (2, 5),
        "IL": (2, 6), "WI": (2, 7), "MI": (2, 8), "NY": (2, 9), "RI": (2, 10), "MA": (2, 11),
        "OR": (3, 1), "NV": (3, 2), "WY": (3, 3), "SD": (3, 4), "IA": (3, 5),
        "IN": (3, 6), "OH": (3, 7), "PA": (3, 8), "NJ": (3, 9), "CT": (3, 10),
        "CA": (4, 1), "UT": (4, 2), "CO": (4, 3), "NE": (4, 4), "MO": (4, 5),
        "KY": (4, 6), "WV": (4, 7), "VA": (4, 8), "MD": (4, 9), "DE": (4, 10),
        "AZ": (5, 2), "NM": (5, 3), "KS": (5, 4), "AR": (5, 5), "TN": (5, 6),
        "NC": (5, 7), "SC": (5, 8), "DC": (5, 9),
        "OK": (6, 4), "LA": (6, 5), "MS": (6, 6), "AL": (6, 7), "GA": (6, 8),
        "HI": (7, 0), "TX": (7, 4), "FL": (7, 9),
    }
)  # fmt: skip

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO: Mapping[str, str] = MappingProxyType(
    {
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
        "grey": "#999999",
    }
)

#: Fixed colours for the values casekit produces, so maps are comparable across figures.
OUTCOME_COLORS: Mapping[str, str] = MappingProxyType(
    {
        # duty
        "required": OKABE_ITO["vermillion"],
        "permitted": OKABE_ITO["sky_blue"],
        "not_triggered": OKABE_ITO["grey"],
        # duty_type
        "mandatory": OKABE_ITO["vermillion"],
        "mandatory_report": OKABE_ITO["orange"],
        "permissive": OKABE_ITO["sky_blue"],
        "none_unsettled": OKABE_ITO["grey"],
        # action
        "warn_and_notify": OKABE_ITO["vermillion"],
        "notify_police": OKABE_ITO["orange"],
        "hospitalize": OKABE_ITO["reddish_purple"],
        "report_to_authority": OKABE_ITO["yellow"],
        "treatment_plan": OKABE_ITO["bluish_green"],
        "emergency_evaluation": OKABE_ITO["blue"],
        "may_disclose": OKABE_ITO["sky_blue"],
        "assess_and_document": OKABE_ITO["grey"],
    }
)
_NO_DATA = "#FFFFFF"
_HATCH = "///"

MISSING_COLUMNS = (
    "result is missing column(s) {columns}; expected 'jurisdiction', {column!r} and 'confidence'"
)


def jurisdiction_map(
    result: pd.DataFrame,
    *,
    column: str = "duty",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw one square per state and DC, coloured by ``result[column]``.

    Parameters
    ----------
    result
        One row per jurisdiction with columns ``jurisdiction`` (US postal code or ``DC``;
        other codes such as ``generic`` are ignored), ``column`` and ``confidence``. Rows whose
        confidence is not ``confirmed`` are hatched.
    column
        The outcome to colour by (``duty``, ``action``, ``duty_type``...). Known casekit values
        have fixed colours; other values take Okabe-Ito colours in sorted order.
    ax
        Axes to draw into; a new figure is created when omitted.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CasekitError
        If ``result`` lacks one of the required columns.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch, Rectangle

    needed = ["jurisdiction", column, "confidence"]
    missing = [c for c in needed if c not in result.columns]
    if missing:
        raise CasekitError(MISSING_COLUMNS.format(columns=missing, column=column))

    values: dict[str, str] = {}
    flagged: set[str] = set()
    for code, value, confidence in zip(
        result["jurisdiction"], result[column], result["confidence"], strict=True
    ):
        code = str(code).strip().upper()
        if code in TILE_GRID:
            values[code] = str(value)
            if str(confidence) != "confirmed":
                flagged.add(code)
    colors = _colors_for(sorted(set(values.values()), key=_value_order))

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 7))
    fig = _root_figure(ax)

    for code, (row, col) in TILE_GRID.items():
        x, y = col, -row
        face = colors.get(values.get(code, ""), _NO_DATA)
        tile = Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, facecolor=face, edgecolor="white")
        tile.set_gid(f"tile:{code}")
        ax.add_patch(tile)
        if code in flagged:
            hatch = Rectangle(
                (x + 0.04, y + 0.04),
                0.92,
                0.92,
                fill=False,
                hatch=_HATCH,
                edgecolor=_text_color(to_rgb(face)),
                linewidth=0,
                alpha=0.55,
            )
            hatch.set_gid(f"hatch:{code}")
            ax.add_patch(hatch)
        text = ax.text(
            x + 0.5,
            y + 0.5,
            code,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=_text_color(to_rgb(face)),
        )
        text.set_gid(f"label:{code}")
        if code in flagged:
            text.set_bbox({"boxstyle": "round,pad=0.15", "facecolor": face, "edgecolor": "none"})

    handles: list[Any] = [
        Patch(facecolor=colors[v], edgecolor="#444444", label=_label(v))
        for v in sorted(colors, key=_value_order)
    ]
    if len(values) < len(TILE_GRID):
        handles.append(Patch(facecolor=_NO_DATA, edgecolor="#444444", label="no data"))
    if flagged:
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#444444",
                hatch=_HATCH,
                label="sources conflict or unverified",
            )
        )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(handles), 4),
        frameon=False,
        title=column.replace("_", " "),
        fontsize=9,
    )
    ax.set_xlim(-0.2, 12.2)
    ax.set_ylim(-8.2, 1.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


_ORDER = list(OUTCOME_COLORS)


def _root_figure(ax: Axes) -> Figure:
    from matplotlib.figure import Figure

    parent: Any = ax.get_figure()
    while parent is not None and not isinstance(parent, Figure):
        parent = parent.get_figure()  # a SubFigure: climb to the figure that owns it
    if parent is None:
        raise CasekitError("the axes passed as ax belong to no figure")
    return parent


def _value_order(value: str) -> tuple[int, str]:
    return (_ORDER.index(value) if value in _ORDER else len(_ORDER), value)


def _colors_for(values: list[str]) -> dict[str, str]:
    """Known values keep their fixed colour; others take unused palette colours in order."""
    colors = {v: OUTCOME_COLORS[v] for v in values if v in OUTCOME_COLORS}
    spare = [c for c in OKABE_ITO.values() if c not in colors.values()]
    for i, value in enumerate(v for v in values if v not in colors):
        colors[value] = spare[i % len(spare)] if spare else OKABE_ITO["grey"]
    return colors


_LABELS = {"none_unsettled": "none or unsettled", "not_triggered": "not triggered"}


def _label(value: str) -> str:
    return _LABELS.get(value, value.replace("_", " "))


def _text_color(rgb: tuple[float, float, float]) -> str:
    """Black or white, whichever contrasts more with ``rgb`` (WCAG relative luminance)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"
