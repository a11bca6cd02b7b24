"""The coverage-against-radius chart as a PNG, for a planning memo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layers.i18n import labels

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")


def coverage_chart(
    curve: pd.DataFrame, out: Path, lang: str = "zh", radius_m: float | None = None
) -> str:
    """Draw household and smart-parking coverage against radius, current and proposed.

    Chinese labels need a CJK font; without one the chart is labelled in
    English.  Returns the language the chart was labelled in.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    installed = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [f for f in CJK_FONTS if f in installed]
    if lang == "zh" and not cjk:
        lang = "en"
    t = labels(lang, "parking")
    with plt.rc_context({"font.sans-serif": [*cjk, "DejaVu Sans"], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=150)
        r = curve["radius_m"]
        for who, colour in (("current", "#969696"), ("proposed", "#08519c")):
            name = t["now"] if who == "current" else t["proposed"]
            ax.plot(
                r,
                curve[f"{who}_households_covered_share"] * 100,
                color=colour,
                marker="o",
                ms=3,
                label=f"{name} · {t['households_covered_share']}",
            )
            ax.plot(
                r,
                curve[f"{who}_smart_covered_share"] * 100,
                color=colour,
                ls="--",
                label=f"{name} · {t['smart_covered_share']}",
            )
        if radius_m is not None:
            ax.axvline(radius_m, color="#e6550d", lw=1)
        ax.set_xlabel(f"{t['radius']} ({t['metres']})")
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
        ax.set_title(t["chart"])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
        plt.close(fig)
    return lang
