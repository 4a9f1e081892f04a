"""Figures for seminar polls and surveys (matplotlib, imported lazily).

Every function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show``,
so the same code serves notebooks, Voilà and scripts (Agg). Colours are fixed per action
across all figures (:data:`ACTION_COLOURS`, Okabe-Ito, colour-blind safe); the rubric's
distractors (actions with ``appropriate: false``) are greys with hatching so they read as
"wrong" even in greyscale print. Fonts are at least 11 pt for a projector.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casekit.response_tables import ResponseTable, actions_frame
from casekit.responses import (
    _frame,
    _key,
    criteria_columns,
    distribution,
    interrater_agreement,
    rubric_agreement,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ACTION_COLOURS",
    "DISTRACTOR_HATCHES",
    "action_style",
    "plot_agreement",
    "plot_criteria_heatmap",
    "plot_distribution",
    "plot_distribution_by_group",
]

#: One colour per action id, the same in every figure. Okabe & Ito (2008) palette for the
#: appropriate actions (plus Tol's indigo for the eighth); greys for the distractors.
ACTION_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "warn_and_notify": "#D55E00",  # vermillion: the textbook answer stands out
        "notify_police": "#0072B2",  # blue
        "hospitalize": "#CC79A7",  # reddish purple
        "report_to_authority": "#56B4E9",  # sky blue
        "treatment_plan": "#009E73",  # bluish green
        "emergency_evaluation": "#E69F00",  # orange
        "may_disclose": "#F0E442",  # yellow
        "assess_and_document": "#332288",  # indigo (Tol)
        "inform_family": "#BBBBBB",
        "advise_client_self_manage": "#999999",
        "contact_victim_lawyer": "#DDDDDD",
        "maintain_confidentiality": "#777777",
    }
)
#: Hatching of the distractors, so they differ from each other without colour.
DISTRACTOR_HATCHES: Mapping[str, str] = MappingProxyType(
    {
        "inform_family": "//",
        "advise_client_self_manage": "\\\\",
        "contact_victim_lawyer": "xx",
        "maintain_confidentiality": "..",
    }
)
# Responses outside the mapping (ratings, other rubrics) cycle through Tol's muted palette.
EXTRA_COLOURS = ("#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255")
RUBRIC_EDGE = "#000000"
FONT: dict[Any, Any] = {
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
}
RUBRIC_LEGEND = "rubric answer"
ERR_NO_DATA = "no responses to plot"


def action_style(action: str, appropriate: bool = True, *, position: int = 0) -> dict[str, Any]:
    """Face colour, hatch and text colour for one action, consistent across figures.

    Parameters
    ----------
    action : str
        The action id.
    appropriate : bool
        ``False`` for a distractor: grey and hatched even when not in the mapping.
    position : int
        Used only for ids outside :data:`ACTION_COLOURS`, to pick a stable extra colour.
    """
    colour = ACTION_COLOURS.get(action)
    hatch = DISTRACTOR_HATCHES.get(action, "")
    if colour is None:
        colour = "#AAAAAA" if not appropriate else EXTRA_COLOURS[position % len(EXTRA_COLOURS)]
        hatch = "//" if not appropriate else ""
    elif not appropriate and not hatch:
        hatch = "//"
    return {"color": colour, "hatch": hatch, "text": _text_colour(colour)}


def _text_colour(colour: str) -> str:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _wrap(text: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _action_table(actions: Any, responses: Sequence[str]) -> pd.DataFrame:
    """id/label/appropriate for the rubric's actions plus any other observed response."""
    table = actions_frame(actions) if actions is not None else actions_frame([])
    extra = [r for r in responses if r not in set(table["id"])]
    if extra:
        table = pd.concat(
            [table, pd.DataFrame({"id": extra, "label": extra, "appropriate": True})],
            ignore_index=True,
        )
    if actions is None:
        # Without rubric metadata, the bundled mapping still knows the distractors.
        table["appropriate"] = ~table["id"].isin(DISTRACTOR_HATCHES.keys())
        table["label"] = table["id"].str.replace("_", " ")
    return table


def _styles(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        str(a): action_style(str(a), bool(ok), position=i)
        for i, (a, ok) in enumerate(zip(table["id"], table["appropriate"], strict=True))
    }


def _stacked_bars(
    ax: Axes,
    dist: pd.DataFrame,
    order: list[str],
    table: pd.DataFrame,
    styles: Mapping[str, Mapping[str, Any]],
    *,
    show_values: bool = True,
) -> None:
    """One horizontal stacked bar per vignette; the rubric answer segment outlined."""
    shares = dist.pivot_table(
        index="vignette_id", columns="response", values="share", aggfunc="sum", fill_value=0.0
    )
    shares = shares.reindex(index=order, columns=table["id"], fill_value=0.0)
    rubric = (
        dist.drop_duplicates("vignette_id").set_index("vignette_id")["rubric_action"]
        if "rubric_action" in dist.columns
        else None
    )
    y = np.arange(len(order))[::-1]  # first vignette at the top
    left = np.zeros(len(order))
    for action in shares.columns:
        width = shares[action].to_numpy()
        if not width.any():
            continue
        style = styles[action]
        ax.barh(
            y, width, left=left, height=0.72, color=style["color"], hatch=style["hatch"],
            edgecolor="white", linewidth=0.8,
        )  # fmt: skip
        if show_values:
            for yi, li, wi in zip(y, left, width, strict=True):
                if wi >= 0.08:
                    ax.text(
                        li + wi / 2, yi, f"{wi:.0%}", ha="center", va="center", fontsize=11,
                        color=style["text"],
                        bbox=None if not style["hatch"] else {
                            "boxstyle": "round,pad=0.1", "fc": style["color"], "ec": "none",
                        },
                    )  # fmt: skip
        if rubric is not None:
            for yi, li, wi, vid in zip(y, left, width, order, strict=True):
                if rubric.get(vid) == action and wi > 0:
                    ax.barh(
                        yi, wi, left=li, height=0.72, fill=False, edgecolor=RUBRIC_EDGE,
                        linewidth=2.6, zorder=3,
                    )  # fmt: skip
        left += width
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"])
    ax.set_yticks(y)
    if rubric is not None:
        labels = table.set_index("id")["label"]
        ax.set_yticklabels(
            [
                f"{vid}\n" + _wrap(f"rubric: {labels.get(rubric.get(vid), rubric.get(vid))}", 34)
                for vid in order
            ]
        )
        # Mark the rubric answer beside the bar too: an outline on a tiny segment is easy
        # to miss, and a zero share has no segment at all.
        agree = shares.apply(lambda r: r.get(rubric.get(r.name), 0.0), axis=1)
        for yi, vid in zip(y, order, strict=True):
            ax.text(
                1.01, yi, f"{agree[vid]:.0%}", transform=ax.get_yaxis_transform(),
                ha="left", va="center", fontsize=11, fontweight="bold",
            )  # fmt: skip
    else:
        ax.set_yticklabels(order)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend(
    fig: Figure,
    table: pd.DataFrame,
    styles: Mapping[str, Mapping[str, Any]],
    used: set[str],
    *,
    rubric: bool,
    ncol: int = 3,
) -> Any:
    from matplotlib.patches import Patch

    handles = [
        Patch(
            facecolor=styles[a]["color"],
            hatch=styles[a]["hatch"],
            edgecolor="white",
            label=_wrap(label + ("" if ok else " (distractor)"), 30),
        )
        for a, label, ok in zip(table["id"], table["label"], table["appropriate"], strict=True)
        if a in used
    ]
    if rubric:
        handles.append(
            Patch(facecolor="white", edgecolor=RUBRIC_EDGE, linewidth=2.6, label=RUBRIC_LEGEND)
        )
    return fig.legend(
        handles=handles, loc="lower center", ncol=ncol, frameon=False,
        bbox_to_anchor=(0.5, 0.01), handlelength=2.2, handleheight=1.4,
    )  # fmt: skip


def _make_room(fig: Figure, legend: Any, body: float, *, top: float, below_axes: float) -> float:
    """Grow the figure so the legend fits under the axes; returns the new height.

    ``body`` is the height (inches) wanted for the axes area, ``top`` the space above it
    and ``below_axes`` the space between axes and legend (tick labels, x label).
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend_h = legend.get_window_extent(renderer).height / fig.dpi
    height = top + body + below_axes + legend_h + 0.15
    fig.set_figheight(height)
    fig.subplots_adjust(top=1 - top / height, bottom=(legend_h + below_axes + 0.15) / height)
    return height


def plot_distribution(
    data: pd.DataFrame | ResponseTable,
    key: pd.DataFrame | None = None,
    actions: Any = None,
    *,
    vignettes: Sequence[str] | None = None,
    title: str = "How the group answered each case",
    rubric: str | None = None,
) -> Figure:
    """Horizontal stacked bars: share of each action per vignette, rubric answer marked.

    The rubric's answer is outlined in black, named under the vignette id, and its share
    is printed in bold to the right of the bar.

    Parameters
    ----------
    data : DataFrame or ResponseTable
        Long responses.
    key : DataFrame, optional
        One row per vignette with the rubric's ``action``.
    actions : optional
        The rubric's actions (labels for the legend, distractor flags).
    vignettes : sequence of str, optional
        Which vignettes, in which order (default: all, sorted).
    """
    import matplotlib.pyplot as plt

    frame = _frame(data)
    if frame.empty:
        raise ValueError(ERR_NO_DATA)
    dist = distribution(frame, actions=actions, key=key, rubric=rubric)
    order = list(vignettes) if vignettes is not None else sorted(dist["vignette_id"].unique())
    table = _action_table(actions, list(dist["response"].unique()))
    styles = _styles(table)
    used = set(dist.loc[dist["n"] > 0, "response"])
    with plt.rc_context(FONT):
        fig, ax = plt.subplots(figsize=(12, 8))
        _stacked_bars(ax, dist, order, table, styles)
        n = dist.groupby("vignette_id")["total"].first()
        n_text = (
            f"n = {int(n.min())}" if n.min() == n.max() else f"n = {int(n.min())}-{int(n.max())}"
        )
        ax.set_title(f"{title} ({n_text} per case)", loc="left")
        ax.set_xlabel("Share of respondents")
        if key is not None:
            ax.text(
                1.01, 1.0, "chose\nrubric", transform=ax.transAxes, ha="left", va="bottom",
                fontsize=11,
            )  # fmt: skip
        legend = _legend(fig, table, styles, used, rubric=key is not None)
        fig.subplots_adjust(left=0.25, right=0.93)
        _make_room(fig, legend, 0.62 * len(order), top=0.75, below_axes=0.8)
    return fig


def plot_distribution_by_group(
    data: pd.DataFrame | ResponseTable,
    by: str,
    key: pd.DataFrame | None = None,
    actions: Any = None,
    *,
    vignettes: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    title: str | None = None,
    rubric: str | None = None,
) -> Figure:
    """Small multiples: the stacked-bar distribution once per group, side by side.

    Parameters
    ----------
    by : str
        The group column (profession, state, cohort…).
    groups : sequence of str, optional
        Which groups and their order (default: all, sorted; at most 6 are readable).
    """
    import matplotlib.pyplot as plt

    frame = _frame(data)
    if frame.empty:
        raise ValueError(ERR_NO_DATA)
    dist = distribution(frame, by=by, actions=actions, key=key, rubric=rubric)
    order = list(vignettes) if vignettes is not None else sorted(dist["vignette_id"].unique())
    names = list(groups) if groups is not None else sorted(dist[by].dropna().unique())
    table = _action_table(actions, list(dist["response"].unique()))
    styles = _styles(table)
    used = set(dist.loc[(dist["n"] > 0) & dist[by].isin(names), "response"])
    with plt.rc_context(FONT):
        fig, axes = plt.subplots(
            1, len(names), figsize=(3.4 * len(names) + 3.2, 8), sharey=True, squeeze=False
        )
        for ax, name in zip(axes[0], names, strict=True):
            sub = dist[dist[by] == name]
            _stacked_bars(ax, sub, order, table, styles, show_values=False)
            n = int(sub.groupby("vignette_id")["total"].first().max())
            ax.set_title(f"{str(name).replace('_', ' ')}\n(n = {n})", fontsize=12)
            ax.set_xticks([0, 0.5, 1.0])
            ax.set_xticklabels(["0", "50%", "100%"])
            if ax is not axes[0][0]:
                ax.tick_params(axis="y", length=0)
            # The bold per-bar rubric shares would sit between panels and read as belonging
            # to the next one; the outline carries the answer here.
            for text in ax.texts:
                text.set_visible(False)
        fig.suptitle(
            title or f"Answers by {by.replace('_', ' ')} (bold outline = rubric answer)",
            x=0.02, ha="left",
        )  # fmt: skip
        legend = _legend(fig, table, styles, used, rubric=key is not None, ncol=4)
        fig.subplots_adjust(left=2.9 / fig.get_figwidth(), right=0.97, wspace=0.14)
        height = _make_room(fig, legend, 0.62 * len(order), top=1.2, below_axes=0.85)
        fig.supxlabel(
            "Share of respondents in the group",
            y=(legend.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi + 0.2)  # type: ignore[attr-defined]
            / height,
        )
    return fig


def plot_agreement(
    data: pd.DataFrame | ResponseTable,
    key: pd.DataFrame,
    actions: Any = None,
    *,
    agreement: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    title: str = "Agreement with the rubric",
    rubric: str | None = None,
) -> Figure:
    """Share choosing the rubric's answer per vignette (Wilson 95% CI), kappa/alpha noted.

    Parameters
    ----------
    agreement : DataFrame, optional
        A precomputed :func:`~casekit.responses.interrater_agreement` frame; computed with
        ``n_boot`` and ``seed`` when not given.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    frame = _frame(data)
    if frame.empty:
        raise ValueError(ERR_NO_DATA)
    per = rubric_agreement(frame, key, actions, rubric=rubric).sort_values(
        "share_agree", ascending=True, kind="stable"
    )
    overall = rubric_agreement(frame, key, actions, per="all", rubric=rubric).iloc[0]
    if agreement is None:
        agreement = interrater_agreement(frame, n_boot=n_boot, seed=seed)
    stats = agreement.set_index("statistic")
    k = _key(key, rubric)
    table = _action_table(actions, list(k["action"].unique()))
    styles = _styles(table)
    labels = table.set_index("id")["label"]
    with plt.rc_context(FONT):
        fig, ax = plt.subplots(figsize=(11, 1.8 + 0.5 * len(per) + 1.2))
        y = np.arange(len(per))
        colours = [styles[a]["color"] for a in k["action"].reindex(per["vignette_id"])]
        ax.hlines(y, per["agree_low"], per["agree_high"], color="#444444", linewidth=2)
        ax.scatter(per["share_agree"], y, s=90, c=colours, edgecolors="black", zorder=3)
        if per["share_distractor"].notna().any():
            ax.scatter(
                per["share_distractor"], y, s=60, marker="x", color="#555555", zorder=3,
                label="chose a distractor",
            )  # fmt: skip
        ax.axvline(overall["share_agree"], color="#888888", linestyle="--", linewidth=1.2)
        ax.set_yticks(y)
        ax.set_yticklabels(per["vignette_id"])
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"])
        ax.set_xlabel("Share choosing the rubric's answer (95% Wilson interval)")
        ax.set_title(title, loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.8)
        ax.set_axisbelow(True)

        def fmt(stat: str, name: str) -> str:
            row = stats.loc[stat]
            text = f"{name} = {row['estimate']:.2f}"
            if np.isfinite(row["ci_low"]):
                text += f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
            return text

        boot = stats["resample"].iloc[0]
        note = (
            f"Agreement among respondents\n{fmt('fleiss_kappa', 'Fleiss κ')}\n"
            f"{fmt('krippendorff_alpha', 'Krippendorff α')}"
            + (f"\n95% bootstrap over {boot}" if boot else "")
            + f"\nOverall rubric agreement {overall['share_agree']:.0%} (dashed)"
        )
        ax.text(
            1.02, 1.0, note, transform=ax.transAxes, ha="left", va="top", fontsize=11,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#F7F7F7", "ec": "#BBBBBB"},
        )  # fmt: skip
        rubric_actions = [a for a in table["id"] if a in set(k["action"])]
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=9,
                markerfacecolor=styles[a]["color"],
                markeredgecolor="black",
                label=_wrap(f"rubric: {labels[a]}", 28),
            )
            for a in rubric_actions
        ]
        if per["share_distractor"].notna().any():
            handles.append(
                Line2D([], [], marker="x", linestyle="", color="#555555", markersize=8,
                       label="chose a distractor")
            )  # fmt: skip
        ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(1.02, 0.0), frameon=False,
            borderaxespad=0,
        )  # fmt: skip
        fig.subplots_adjust(left=0.1, right=0.66, top=1 - 0.6 / fig.get_figheight(),
                            bottom=0.9 / fig.get_figheight())  # fmt: skip
    return fig


def plot_criteria_heatmap(
    key: pd.DataFrame,
    criteria: Sequence[str] | None = None,
    *,
    vignettes: Sequence[str] | None = None,
    title: str = "Which criteria fired in each case",
    rubric: str | None = None,
) -> Figure:
    """Vignettes x criteria grid: filled where the criterion fired; duty and action beside.

    Parameters
    ----------
    key : DataFrame
        ``score_frame`` output (or any frame with ``vignette_id`` and boolean criterion
        columns; ``duty`` and ``action`` are shown when present).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    k = _key(key, rubric)
    crit = list(criteria) if criteria is not None else criteria_columns(k.reset_index())
    order = list(vignettes) if vignettes is not None else list(k.index)
    grid = k.loc[order, crit].fillna(False).to_numpy(dtype=bool)
    with plt.rc_context(FONT):
        width = 3.0 + 0.95 * len(crit) + 3.8
        height = 2.6 + 0.36 * len(order)
        fig, ax = plt.subplots(figsize=(width, height))
        ax.imshow(
            grid.astype(int), cmap=ListedColormap(["#F2F2F2", "#0072B2"]), vmin=0, vmax=1,
            aspect="auto", interpolation="nearest",
        )  # fmt: skip
        ax.set_xticks(np.arange(len(crit)))
        ax.set_xticklabels([c.replace("_", " ") for c in crit], rotation=35, ha="left")
        ax.xaxis.tick_top()
        ax.set_yticks(np.arange(len(order)))
        ax.set_yticklabels(order)
        ax.set_xticks(np.arange(-0.5, len(crit)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(order)), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        ax.tick_params(axis="x", length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if "duty" in k.columns or "action" in k.columns:
            for i, vid in enumerate(order):
                parts = [
                    str(k.at[vid, c]).replace("_", " ")
                    for c in ("duty", "action")
                    if c in k.columns
                ]
                ax.text(len(crit) - 0.3, i, " · ".join(parts), va="center", ha="left", fontsize=11)
            header = " · ".join(c for c in ("duty", "action") if c in k.columns)
            ax.text(len(crit) - 0.3, -0.9, header, va="bottom", ha="left", fontsize=11,
                    fontweight="bold")  # fmt: skip
        fig.suptitle(title, x=0.01, ha="left")
        fig.legend(
            handles=[Patch(facecolor="#0072B2", label="fired"),
                     Patch(facecolor="#F2F2F2", edgecolor="#BBBBBB", label="did not fire")],
            loc="lower left", ncol=2, frameon=False, bbox_to_anchor=(0.01, 0.0),
        )  # fmt: skip
        # Top margin fits the title and the rotated criterion names.
        fig.subplots_adjust(
            left=1.3 / width, right=1 - 3.8 / width, top=1 - 2.1 / height, bottom=0.6 / height
        )
    return fig


from casekit.tilemap import jurisdiction_map  # noqa: E402,F401
