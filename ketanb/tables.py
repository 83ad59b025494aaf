"""Numbers and tables as a reader wants them: percentages, intervals, readable headers.

The one home of how a result is written in the reports and the index:
``23/45 (51.1%; 95% CI 37.0-65.0)``, p-values, percentage points.
"""
from __future__ import annotations

import html
import math
import re

import pandas as pd

from .input.contract import REASON_LABELS
from .input.read import SYNTHETIC_HEADLINE, SYNTHETIC_NOTICE

__all__ = ["pct", "num", "ratio", "patients", "pval", "p_is", "points", "format_proportion", "data_notice", "pooled_notice", "readable",
           "flow_table", "show", "cohort_text", "outcome_text", "nrs_change_table", "subgroup_effects",
           "subgroup_text", "harms_text"]


def _missing(x) -> bool:
    return x is None or bool(pd.isna(x))


def pct(p, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.5111 -> ``51.1%``; ``-`` when missing."""
    return "-" if _missing(p) else f"{100 * p:.{decimals}f}%"


def num(x, decimals: int = 1) -> str:
    """A number with ``decimals`` decimals, ``-`` when missing (or infinite)."""
    return "-" if _missing(x) or not math.isfinite(x) else f"{x:.{decimals}f}"


def ratio(x) -> str:
    """A ratio such as an odds ratio: two decimals (0.49, 391.99), two significant digits below
    0.01 (0.0031, not 0.00), ``-`` when missing or infinite."""
    if not _missing(x) and 0 < abs(x) < 0.01:
        return f"{x:.2g}"
    return num(x, 2)


def patients(n: int, noun: str = "patient") -> str:
    """``1 patient``, ``2 patients``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def pval(p) -> str:
    """A p-value: three decimals, ``<0.001`` below, ``not computable`` when missing."""
    if _missing(p):
        return "not computable"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p) -> str:
    """A p-value in a sentence: ``p = 0.537``, ``p < 0.001``, ``p not computable``."""
    text = pval(p)
    return f"p {text}" if text.startswith(("<", "not")) else f"p = {text}"


def points(d) -> str:
    """A difference of proportions in percentage points: 0.123 -> ``+12.3 pp``."""
    return "-" if _missing(d) else f"{100 * d:+.1f} pp"


def format_proportion(block: dict, events: str = "favorable", confidence: float = 0.95, n: int | None = None) -> str:
    """``23/45 (51.1%; 95% CI 37.0-65.0)``; ``0/0 (not estimable)`` for an empty denominator,
    ``3/3 (too few patients for a percentage)`` without a proportion, ``n = 74, not shown`` without a count.

    ``block`` holds ``events``, ``proportion``, ``ci_low``, ``ci_high`` and ``n`` (or pass ``n``).
    """
    k, n = block[events], block["n"] if n is None else n
    if _missing(k):                                   # withheld (contract section 5): the count alone
        return f"n = {n}, not shown"
    if not n:
        return f"{k}/{n} (not estimable)"
    if _missing(block.get("proportion")):             # too few patients for a proportion: counts only
        return f"{int(k)}/{n} (too few patients for a percentage)"
    return (f"{k}/{n} ({100 * block['proportion']:.1f}%; {100 * confidence:g}% CI "
            f"{100 * block['ci_low']:.1f}-{100 * block['ci_high']:.1f})")


def data_notice(synthetic: bool, source: str):
    """A Markdown banner saying which data a notebook ran on, loudly when synthetic."""
    from IPython.display import Markdown

    if synthetic:
        return Markdown(f"> **{SYNTHETIC_HEADLINE}** {SYNTHETIC_NOTICE}")
    return Markdown(f"> Data: the extract `{source}` (not the synthetic extract made by ketanb.synthetic).")


def pooled_notice(synthetic: bool):
    """The banner of the pooled report: loud when at least one site ran on synthetic data."""
    from IPython.display import Markdown

    if synthetic:
        return Markdown(f"> **{SYNTHETIC_HEADLINE}** At least one site ran on synthetic data made by "
                        "ketanb.synthetic; no row of it describes a real patient.")
    return Markdown("> Data: the sites' own extracts (none made by ketanb.synthetic).")


def readable(frame: pd.DataFrame, *, proportions=("proportion", "ci_low", "ci_high"), confidence: float = 0.95,
             events: str = "favorable", labels: dict | None = None) -> pd.DataFrame:
    """A results table for a report: no index, proportions as ``x/n (p%; CI)``, readable headers.

    The columns ``n``, ``events``, ``proportion``, ``ci_low``, ``ci_high``,
    when all present, become one column ``events`` (e.g. "favorable") with
    the formatted proportion; a risk difference (percentage points) or odds
    ratio and its interval become one column, ``fisher_p`` a p-value; other
    float columns are rounded to 1 decimal,
    booleans become yes/no, and ``labels`` renames columns (underscores
    become spaces otherwise).
    """
    out = frame.reset_index(drop=True).copy()
    needed = ["n", events, *proportions]
    if all(c in out for c in needed):
        out[events] = [format_proportion(row, events, confidence) for row in out[needed].to_dict("records")]
        out = out.drop(columns=[c for c in needed if c not in ("n", events)])
    level = f"{100 * confidence:g}%"
    for estimate, low, high, label, write in (("risk_difference", "rd_ci_low", "rd_ci_high", "risk difference", points),
                                              ("odds_ratio", "or_ci_low", "or_ci_high", "odds ratio", ratio)):
        if all(c in out for c in (estimate, low, high)):        # an effect and its interval in one column
            out[estimate] = [write(e) if _missing(lo) else f"{write(e)} ({write(lo)} to {write(hi)})"
                             for e, lo, hi in zip(out[estimate], out[low], out[high])]
            out = out.drop(columns=[low, high]).rename(columns={estimate: f"{label} ({level} CI)"})
    if "fisher_p" in out:
        out["fisher_p"] = out["fisher_p"].map(lambda p: "" if _missing(p) else pval(p))
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "yes", False: "no"})
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda x: num(x))
    labels = {"median_reduction_pct": "median reduction (%)", "fisher_p": "Fisher p", **(labels or {})}
    return out.rename(columns={c: labels.get(c, str(c).replace("_", " ")) for c in out.columns})


def flow_table(flow: dict) -> pd.DataFrame:
    """The participant flow as a table: treated, each exclusion reason, included."""
    rows = [("treated", flow["treated"])]
    rows += [(f"excluded: {REASON_LABELS[reason]}", n) for reason, n in flow["excluded"].items()]
    rows += [("included", flow["included"])]
    return pd.DataFrame(rows, columns=["step", "patients"])


def show(frame: pd.DataFrame, caption: str):
    """A table for a report: titled, without the index column.

    The table's HTML id comes from its caption (pandas would draw a random one,
    and a rebuilt report would differ from the committed one); shown as HTML,
    whose plain-text form, unlike a Styler's, names no memory address.
    """
    from IPython.display import HTML

    slug = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")[:40]
    styled = frame.style.format(escape="html").format_index(escape="html", axis=1)  # a group named "<b>" is text
    return HTML(styled.hide(axis="index").set_caption(html.escape(caption)).set_uuid(slug).to_html())


def _markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)


def cohort_text(flow: dict):
    """The participant flow in one sentence, numbers from the ``cohort`` section."""
    excluded = sum(flow["excluded"].values())
    reasons = "; ".join(f"{REASON_LABELS[r]}: {n}" for r, n in flow["excluded"].items() if n) or "none"
    return _markdown(f"**Result.** {flow['treated']} patients were treated; {excluded} were excluded ({reasons}) "
                     f"and {flow['included']} were treated according to the protocol and analysed.")


def outcome_text(summary: dict, params):
    """The main result in words, numbers from the ``outcome`` section."""
    c = summary["nrs_change"]
    level = f"{100 * params.confidence:g}%"
    if c["median_change"] is not None:
        interval = "no interval" if _missing(c["ci_low"]) else f"{level} CI {num(c['ci_low'])} to {num(c['ci_high'])}"
        change = (f" Pain changed by a median of {num(c['median_change'])} NRS points (Hodges-Lehmann estimate "
                  f"{num(c['hodges_lehmann'])}, {interval}; Wilcoxon signed-rank {p_is(c['wilcoxon_p'])}; "
                  f"{patients(c['n'])} with both NRS values).")
    elif c["n"]:                                  # fewer than min_group_size: their own scores (reading q)
        change = (f" The change in pain of the {patients(c['n'])} with both NRS values is not shown (fewer than "
                  f"{params.min_group_size}: it would be their own scores).")
    else:
        change = ""
    return _markdown(f"**Result.** A favorable outcome (at least {params.responder_threshold:g}% less pain, no stop "
                     f"for lack of effect) in {format_proportion(summary, confidence=params.confidence)}; "
                     f"{patients(summary['missing_followup'], 'included patient')} had no follow-up NRS "
                     f"(counted: {params.missing_followup}).{change}")


def nrs_change_table(block: dict, confidence: float) -> pd.DataFrame:
    """The ``outcome.nrs_change`` block as a two-column table."""
    level = f"{100 * confidence:g}%"
    rows = [("patients with both NRS values", str(block["n"])),
            ("median baseline NRS", num(block["median_baseline"])),
            ("median follow-up NRS", num(block["median_followup"])),
            ("median change (follow-up - baseline)", num(block["median_change"])),
            (f"Hodges-Lehmann estimate ({level} CI)",
             num(block["hodges_lehmann"], 2) if _missing(block["ci_low"]) else
             f"{num(block['hodges_lehmann'], 2)} ({num(block['ci_low'], 2)} to {num(block['ci_high'], 2)})"),
            ("interval method", block["ci_method"] or "-"),
            ("Wilcoxon signed-rank p", pval(block["wilcoxon_p"]))]
    return pd.DataFrame(rows, columns=["quantity", "value"])


def subgroup_effects(table: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """The subgroup table with each group's comparison with the reference group beside it."""
    keys = ["risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "fisher_p"]
    versus = [summary["groups"][g].get("vs_reference", {}) for g in table["group"]]
    out = table.drop(columns=["n_followup"]).copy()
    for key in keys:
        out[key] = pd.array([v.get(key) for v in versus], dtype="Float64")
    out.insert(1, "reference", table["group"] == summary["reference"])
    return out


def subgroup_text(summary: dict, params):
    """The subgroup comparison in words, with the caution it needs."""
    pooled = (f" {summary['pooled_values']} value(s) held by fewer than {patients(summary['min_group_size'])} "
              "were pooled so that no result points at a patient." if summary["pooled_values"] else "")
    return _markdown(f"**Result (exploratory).** Across the groups of {params.group_by.replace('_', ' ')}: exact "
                     f"Fisher-Freeman-Halton {p_is(summary['fisher_freeman_halton_p'])}, Kruskal-Wallis on the "
                     f"percent reduction {p_is(summary['kruskal_wallis_p'])}; {patients(summary['unclassified'])} "
                     f"unclassified.{pooled} Several tests on small groups: a p-value above 0.05 does not show equal "
                     f"efficacy; the intervals say how large a difference the data leave possible.")


def harms_text(summary: dict, confidence: float):
    """Side effects and serious complications as numbers with bounds."""
    level = f"{100 * confidence:g}%"
    parts = []
    for population, label in (("treated", "treated"), ("included", "included")):
        s = summary[population]
        serious = s["serious_patients"]
        if s["events"] is None:                  # withheld (ketanb.side_effects.side_effect_summary)
            parts.append(f"the side effects of the {patients(s['patients'], label + ' patient')} are not shown "
                         "(with so few excluded patients they would be theirs by subtraction)")
            continue
        parts.append(f"{format_proportion(s['any'], 'patients', confidence, n=s['patients'])} of the "
                     f"{patients(s['patients'], label + ' patient')} had at least one side effect; {serious['patients']} had a serious one "
                     f"({level} CI {pct(serious['ci_low'])} to {pct(serious['ci_high'])}, Clopper-Pearson)")
    return _markdown("**Result.** " + "; ".join(parts) + ".")
