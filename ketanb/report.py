"""Small helpers that turn results into the text and tables the notebooks show."""
from __future__ import annotations

import pandas as pd

__all__ = ["data_notice", "format_proportion", "proportion_frame", "flow_table", "table_view"]


def data_notice(synthetic: bool, source: str):
    """A Markdown banner saying which data a notebook ran on, loudly when synthetic."""
    from IPython.display import Markdown

    if synthetic:
        return Markdown("> **SYNTHETIC DATA.** This run uses the synthetic extract shipped with the "
                        "project (`ketanb.synthetic`). It reproduces the published counts, but no row "
                        "describes a real patient.")
    return Markdown(f"> Data: the extract at `{source}` (not synthetic).")


def format_proportion(events: int, n: int, proportion, ci_low, ci_high, confidence: float = 0.95) -> str:
    """``23/45 (51.1%; 95% CI 37.0-65.0%)``; ``0/0 (not estimable)`` for an empty denominator."""
    if not n:
        return f"{events}/{n} (not estimable)"
    return (f"{events}/{n} ({100 * proportion:.1f}%; {100 * confidence:g}% CI "
            f"{100 * ci_low:.1f}-{100 * ci_high:.1f}%)")


def proportion_frame(summary: dict, *, events_key: str = "favorable", label: str = "") -> pd.DataFrame:
    """One-row table of a proportion with its CI, percentages rounded to 0.1."""
    return pd.DataFrame([{
        "": label, "n": summary["n"], events_key: summary[events_key],
        "%": None if summary["proportion"] is None else round(100 * summary["proportion"], 1),
        "CI low %": None if summary["ci_low"] is None else round(100 * summary["ci_low"], 1),
        "CI high %": None if summary["ci_high"] is None else round(100 * summary["ci_high"], 1),
    }]).set_index("")


def flow_table(flow: dict) -> pd.DataFrame:
    """The participant flow as a table: treated, each exclusion reason, included."""
    rows = [("treated", flow["treated"])]
    rows += [(f"excluded: {reason}", n) for reason, n in flow["excluded"].items()]
    rows += [("included", flow["included"])]
    return pd.DataFrame(rows, columns=["step", "patients"]).set_index("step")


def table_view(frame: pd.DataFrame, index: list[str], decimals: int = 3) -> pd.DataFrame:
    """A results table as a reader wants it in a report: labelled rows, rounded, blanks for missing."""
    view = frame.set_index(index).round(decimals)
    return view.astype(object).where(view.notna(), "")
