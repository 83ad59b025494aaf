"""Numbers and tables as a reader wants them: percentages, intervals, readable headers.

The one home of how a result is written in the reports, the index and the figures' labels:
``23/45 (51.1 %; 95 % CI 37.0 % to 65.0 %)``. Percentages with one decimal and a space before
the sign, intervals written "a to b" (:func:`interval`, :func:`with_interval`), the level of an
interval as ``95 %`` (:func:`confidence_text`), a count with its percentage as ``23/45 (51.1 %)``
(:func:`count_text`), differences of proportions in percentage points, NRS scores and changes
with two decimals (:data:`NRS_DECIMALS`), odds ratios with two, p-values and tau² with three,
codes as words (:func:`words`); the same decimals wherever one quantity appears.
"""
from __future__ import annotations

import html
import math
import re

import pandas as pd

from ..disclosure import disclose, few_excluded
from ..input.contract import REASON_LABELS, TREATED_MEANS
from ..params import as_written
from .notices import run_banner

__all__ = ["SIGNIFICANCE_LEVEL", "pct", "percent", "parameter_percent", "num", "nrs", "statistic", "tau2", "ratio", "words", "patients", "pval", "p_is", "points", "confidence_text", "ci_label", "count_text",
           "interval", "with_interval", "estimate", "format_proportion", "study_line", "literal", "data_notice", "readable", "flow_table",
           "show", "treated_note", "cohort_text", "framing", "framing_text", "outcome_text",
           "nrs_change_table", "kruskal_wallis_text", "subgroup_text", "HARMS_DEFINITIONS",
           "harms_definitions", "harms_sentences", "harms_text", "limitations", "limitations_text"]


def _missing(x) -> bool:
    return x is None or bool(pd.isna(x))


def pct(p, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.5111 -> ``51.1 %`` (a space before the sign); ``-`` when missing."""
    return "-" if _missing(p) else f"{100 * p:.{decimals}f} %"


def percent(x, decimals: int = 1) -> str:
    """A number that is already a percentage: 55.0 -> ``55.0 %``; ``-`` when missing."""
    return "-" if _missing(x) else f"{x:.{decimals}f} %"


def parameter_percent(value) -> str:
    """A parameter given in percent (a threshold of 50, a level of 95) as it was written: ``50 %``,
    ``37.5 %``."""
    value = float(value)
    return percent(value, 0 if value.is_integer() else 1)


def num(x, decimals: int = 1) -> str:
    """A number with ``decimals`` decimals, ``-`` when missing (or infinite)."""
    return "-" if _missing(x) or not math.isfinite(x) else f"{x:.{decimals}f}"


#: Decimals of a score on the NRS (0-10) and of a change in it. Scores are recorded in half points, so
#: medians and Hodges-Lehmann estimates (means of two values) fall on quarter points: two decimals
#: write them exactly, everywhere (-3.75, never -3.8 in one place and -3.75 in another).
NRS_DECIMALS = 2

#: Decimals of a test statistic (Kruskal-Wallis H).
STATISTIC_DECIMALS = 2
#: Decimals of tau², the variance between sites of a pooling (logit scale).
TAU2_DECIMALS = 3

#: The level below which a p-value is called "significant" in the texts (the conventional 5 %), and the
#: one the texts warn about: a p-value above it is no evidence of equal efficacy.
SIGNIFICANCE_LEVEL = 0.05


def nrs(x) -> str:
    """A score on the NRS or a change in it, in NRS points: -3.75 -> ``-3.75``; ``-`` when missing."""
    return num(x, NRS_DECIMALS)


def statistic(x) -> str:
    """A test statistic: 0.0140 -> ``0.01``; ``-`` when missing."""
    return num(x, STATISTIC_DECIMALS)


def tau2(x) -> str:
    """tau² of a pooling: 0.16234 -> ``0.162``; ``-`` when missing."""
    return num(x, TAU2_DECIMALS)


def ratio(x) -> str:
    """A ratio such as an odds ratio: two decimals (0.49, 391.99), two significant digits below
    0.01 (0.0031, not 0.00), ``-`` when missing or infinite."""
    if not _missing(x) and 0 < abs(x) < 0.01:
        return f"{x:.2g}"
    return num(x, 2)


def words(code) -> str:
    """A code or column name as words: ``pain_mechanism`` -> ``pain mechanism``."""
    return str(code).replace("_", " ")


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
    return "p < 0.001" if text == "<0.001" else f"p {text}" if text.startswith("not") else f"p = {text}"


def points(d) -> str:
    """A difference of proportions in percentage points: 0.123 -> ``+12.3 pp``."""
    return "-" if _missing(d) else f"{100 * d:+.1f} pp"


def confidence_text(confidence: float) -> str:
    """A confidence level as a percentage: 0.95 -> ``95 %``, 0.975 -> ``97.5 %`` (the one home of this text)."""
    return f"{100 * confidence:g} %"


def ci_label(confidence: float) -> str:
    """The name of an interval at level ``confidence``: 0.95 -> ``95 % CI``."""
    return f"{confidence_text(confidence)} CI"


def count_text(k, n, proportion=None) -> str:
    """A count of patients out of ``n`` with its percentage: ``23/45 (51.1 %)``; ``3/3`` without a
    proportion (too few patients, or none); ``n = 3`` without a count (withheld)."""
    if _missing(k):
        return f"n = {int(n)}"
    return f"{int(k)}/{int(n)}" if _missing(proportion) else f"{int(k)}/{int(n)} ({pct(proportion)})"


def interval(low, high, write=num) -> str:
    """An interval, each limit written by ``write``: ``37.0 % to 65.0 %``, ``-47.2 pp to +16.4 pp``;
    ``no interval`` when a limit is missing. The one way ketanb writes an interval ("a to b", never "a-b")."""
    if _missing(low) or _missing(high):
        return "no interval"
    return f"{write(low)} to {write(high)}"


def with_interval(value, low, high, write=num) -> str:
    """A value with its interval in brackets: ``0.49 (0.12 to 1.90)``; the value alone when a limit is missing."""
    if _missing(low) or _missing(high):
        return write(value)
    return f"{write(value)} ({interval(low, high, write)})"


def estimate(value, low, high, confidence: float, write=num, method: str | None = None) -> str:
    """An estimate with its interval: ``-3.75 (95 % CI -4.50 to -3.00)``, the method after a comma if given."""
    if _missing(low) or _missing(high):
        return write(value)
    return f"{write(value)} ({ci_label(confidence)} {interval(low, high, write)}{', ' + method if method else ''})"


def format_proportion(block: dict, events: str = "favorable", confidence: float = 0.95, n: int | None = None,
                      method: str | None = None) -> str:
    """``23/45 (51.1 %; 95 % CI 37.0 % to 65.0 %)``; ``0/0 (not estimable)`` for an empty denominator,
    ``3/3 (too few patients for a percentage)`` without a proportion, ``n = 74, not shown`` without a count.

    ``block`` holds ``events``, ``proportion``, ``ci_low``, ``ci_high`` and ``n`` (or pass ``n``);
    ``method`` (``Clopper-Pearson``) is named after the interval.
    """
    k, n = block[events], block["n"] if n is None else n
    if _missing(k):                                   # withheld (contract section 5): the count alone
        return f"n = {n}, not shown"
    if not n:
        return f"{k}/{n} (not estimable)"
    if _missing(block.get("proportion")):             # too few patients for a proportion: counts only
        return f"{int(k)}/{n} (too few patients for a percentage)"
    return (f"{k}/{n} ({pct(block['proportion'])}; {ci_label(confidence)} "
            f"{interval(block['ci_low'], block['ci_high'], pct)}{', ' + method if method else ''})")


def study_line(study: dict, title: bool = True) -> str:
    """The study a run belongs to in one sentence (the ``study`` block of the parameters), no Markdown.

    ``Ketamine in Zottegem (The pain team; Acta X, May 2025): a retrospective cohort, AZ Zottegem, Belgium,
    2018-2022.``; without ``title`` (under a heading that gives it): ``A retrospective cohort, AZ Zottegem,
    Belgium, 2018-2022 (The pain team; Acta X, May 2025).``
    """
    who = "; ".join(part for part in (study.get("authors"), study.get("publication")) if part)
    where = ", ".join(part for part in (study.get("centre"), study.get("period")) if part)
    design = f"a retrospective cohort{f', {where}' if where else ''}"
    if title:
        return f"{study['title']}{f' ({who})' if who else ''}: {design}."
    return f"{design[0].upper()}{design[1:]}{f' ({who})' if who else ''}."


def data_notice(synthetic: bool, source: str, study: dict | None = None):
    """A Markdown banner saying which study (:func:`study_line`) and which data a notebook ran on, loudly
    when synthetic. The study's words and the extract's name are shown as written (:func:`literal`)."""
    from IPython.display import Markdown

    head = f"*Study: {literal(study_line(study))}*\n\n" if study else ""
    return Markdown(head + run_banner(synthetic, literal(source)))


def readable(frame: pd.DataFrame, *, proportions=("proportion", "ci_low", "ci_high"), confidence: float = 0.95,
             events: str = "favorable", labels: dict | None = None) -> pd.DataFrame:
    """A results table for a report: no index, proportions as ``x/n (p %; CI)``, readable headers.

    The columns ``n``, ``events``, ``proportion``, ``ci_low``, ``ci_high``,
    when all present, become one column ``events`` (e.g. "favorable") with
    the formatted proportion; a risk difference (percentage points) or odds
    ratio and its interval become one column, ``fisher_p`` a p-value; the
    median reduction in pain and its quartiles (``median_reduction_pct``,
    ``reduction_q1``, ``reduction_q3``) one column ``median [Q1 to Q3]``;
    other float columns are rounded to 1 decimal,
    booleans become yes/no, and ``labels`` renames columns (underscores
    become spaces otherwise).
    """
    out = frame.reset_index(drop=True).copy()
    needed = ["n", events, *proportions]
    if all(c in out for c in needed):
        out[events] = [format_proportion(row, events, confidence) for row in out[needed].to_dict("records")]
        out = out.drop(columns=[c for c in needed if c not in ("n", events)])
    level = ci_label(confidence)
    for effect, low, high, label, write in (("risk_difference", "rd_ci_low", "rd_ci_high", "risk difference", points),
                                            ("odds_ratio", "or_ci_low", "or_ci_high", "odds ratio", ratio)):
        if all(c in out for c in (effect, low, high)):        # an effect and its interval in one column
            out[effect] = [with_interval(e, lo, hi, write) for e, lo, hi in zip(out[effect], out[low], out[high])]
            out = out.drop(columns=[low, high]).rename(columns={effect: f"{label} ({level})"})
    if all(c in out for c in ("median_reduction_pct", "reduction_q1", "reduction_q3")):
        out["median_reduction_pct"] = [percent(m) if _missing(q1) else f"{percent(m)} [{interval(q1, q3, percent)}]"
                                       for m, q1, q3 in zip(out["median_reduction_pct"], out["reduction_q1"],
                                                            out["reduction_q3"])]
        out = out.drop(columns=["reduction_q1", "reduction_q3"]).rename(
            columns={"median_reduction_pct": "reduction in pain, median [Q1 to Q3]"})
    if "fisher_p" in out:
        out["fisher_p"] = out["fisher_p"].map(lambda p: "" if _missing(p) else pval(p))
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "yes", False: "no"})
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda x: num(x))
    labels = {"median_reduction_pct": "median reduction (%)", "fisher_p": "Fisher p",
              "n_followup": "n with follow-up NRS", **(labels or {})}
    return out.rename(columns={c: labels.get(c, words(c)) for c in out.columns})


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


def literal(text) -> str:
    """``text`` as literal Markdown: shown as written, never read as markup, a link or HTML.

    For every name that reaches a report's Markdown from outside the code: the extract's folder, the
    ``study`` block, a group (a value of the extract), a column, a pooled site. HTML's special characters
    are escaped (``<script>`` is text), Markdown's punctuation is backslash-escaped (``[x](javascript:...)``
    is no link, a backtick opens no code span, ``$x$`` no formula where Jupyter typesets mathematics), and a
    control character, a line break among them, is written as its escape (``\\n``, ``\\x1b``), so that it
    can neither start a block of its own nor reach a reader's terminal.
    """
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: repr(m.group())[1:-1], str(text))
    escaped = html.escape(shown, quote=False)            # & < >: no tag can open, so a quote needs no escape
    return re.sub(r"([\\`*_\[\]~|$])", r"\\\1", escaped)   # the markup that works inside a line; $: mathematics


def _markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)


#: What "treated" means wherever the number appears (the contract's denominator, section 3).
def treated_note(flow: dict) -> str:
    """What "treated" means, with the patients treated outside the study period counted among them."""
    outside = flow["excluded"].get("outside_study_period", 0)
    among = (f"; the {patients(outside)} whose first infusion fell outside the study period are among them, "
             "and their infusions are counted" if outside else "")
    return f"{TREATED_MEANS[0].upper()}{TREATED_MEANS[1:]}{among}."


def cohort_text(flow: dict):
    """The participant flow in one sentence, numbers from the ``cohort`` section."""
    excluded = sum(flow["excluded"].values())
    reasons = "; ".join(f"{REASON_LABELS[r]}: {n}" for r, n in flow["excluded"].items() if n) or "none"
    return _markdown(f"**Result.** {flow['treated']} patients were treated; {excluded} were excluded ({reasons}) "
                     f"and {flow['included']} were treated according to the protocol and analysed. "
                     f"{treated_note(flow)}")


def framing(outcome: dict, sensitivity: dict, flow: dict, confidence: float, min_group_size: int = 1,
            synthetic: bool = False) -> str:
    """The main (per-protocol) estimate beside the all-treated one, and in words why they differ.

    Plain text (no Markdown), for the index and report 02. The number of excluded patients with a
    favorable outcome (all treated minus the included under the same rule, missing follow-up
    unfavorable) is given only when the excluded patients may be described
    (:func:`ketanb.disclosure.few_excluded`, contract section 5). ``synthetic``: the extract is
    ketanb.synthetic's, whose excluded patients never reach the threshold (said when none did).
    """
    everyone, included = sensitivity["all_treated"], sensitivity["missing_followup"]["nonresponder"]
    excluded = flow["treated"] - flow["included"]
    text = (f"Per protocol (the main analysis), the included patients: "
            f"{format_proportion(outcome, confidence=confidence)}. All treated, every patient of the extract "
            f"whatever the dates of their infusions (the contract's denominator): "
            f"{format_proportion(everyone, confidence=confidence)}. The two differ by their denominator: the all-treated analysis adds the "
            f"{patients(excluded, 'excluded patient')}, judged on their own NRS values, a missing or zero "
            "baseline or a missing follow-up counting as unfavorable.")
    if excluded and not few_excluded(flow["included"], flow["treated"], min_group_size) \
            and None not in (everyone["favorable"], included["favorable"]):
        k = everyone["favorable"] - included["favorable"]
        text += (" Not one of them had a favorable outcome, so the all-treated proportion is the per-protocol count "
                 "of favorable outcomes spread over every treated patient." if k == 0 else
                 f" {k} of them had a favorable outcome.")
        if k == 0 and synthetic:
            text += (" In the synthetic extract this holds by construction: the generator gives an excluded patient "
                     "no follow-up NRS or one whose reduction stays below the threshold.")
    return (text + " The per-protocol estimate describes patients selected by how their treatment went; the "
            "all-treated one counts every patient who started the treatment.")


def framing_text(outcome: dict, sensitivity: dict, flow: dict, params, synthetic: bool = False):
    """:func:`framing` as a paragraph of a report."""
    return _markdown("**Two denominators.** " + framing(outcome, sensitivity, flow, params.confidence,
                                                        params.min_group_size, synthetic))


#: How each ``missing_followup`` mode counts an included patient without a follow-up NRS, in words.
MISSING_FOLLOWUP_WORDS = {
    "nonresponder": "a missing follow-up NRS counts as unfavorable",
    "exclude": "a patient without a follow-up NRS is left out of the denominator",
    "favorable": "a missing follow-up NRS counts as favorable (the best case)",
}


def favorable_rule(threshold: float | None = None, missing_followup: str | None = None, *,
                   side_effect_stops_unfavorable: bool = False) -> str:
    """:func:`ketanb.outcomes.is_favorable` in words: the one home of every description of the rule.

    The index, the reports, the tables' texts and the figures' labels and captions take their words
    from here, so that changing the rule means changing ``is_favorable`` and this function, nothing
    else (a test renders them with another threshold and with this function replaced, and another
    checks that the two agree). The words live with the other report text, so that writing the index
    needs no statistics.

    Parameters
    ----------
    threshold : float, optional
        The responder threshold (percent); None: "the threshold" (a figure drawn at every threshold).
    missing_followup : {"nonresponder", "exclude", "favorable"}, optional
        Add how a missing follow-up NRS is counted; None: say nothing of it.
    side_effect_stops_unfavorable : bool
        As in :func:`ketanb.outcomes.is_favorable`.

    Returns
    -------
    str
        Plain text without a capital or a full stop, e.g. ``an NRS pain reduction of at least 50 % from
        baseline, without stopping for lack of effect; a missing follow-up NRS counts as unfavorable``.
    """
    amount = "the threshold" if threshold is None else f"{as_written(threshold)} %"   # the parameter as written
    stops = "lack of effect or side effects" if side_effect_stops_unfavorable else "lack of effect"
    text = f"an NRS pain reduction of at least {amount} from baseline, without stopping for {stops}"
    if missing_followup is not None:
        text += f"; {MISSING_FOLLOWUP_WORDS[missing_followup]}"
    return text


def outcome_text(summary: dict, params):
    """The main result in words, numbers from the ``outcome`` section."""
    c = summary["nrs_change"]
    if c["median_change"] is not None:
        change = (f" Pain changed by a median of {nrs(c['median_change'])} NRS points (Hodges-Lehmann estimate "
                  f"{estimate(c['hodges_lehmann'], c['ci_low'], c['ci_high'], params.confidence, nrs)}; Wilcoxon "
                  f"signed-rank {p_is(c['wilcoxon_p'])}; {patients(c['n'])} with both NRS values).")
    elif c["n"] and not disclose({"with both NRS values": c["n"]}, params.min_group_size).whole:   # reading q
        change = (f" The change in pain of the {patients(c['n'])} with both NRS values is not shown (fewer than "
                  f"{params.min_group_size}: it would be their own scores).")
    else:
        change = ""
    rule = favorable_rule(params.responder_threshold, params.missing_followup)
    return _markdown(f"**Result.** A favorable outcome ({rule}) in "
                     f"{format_proportion(summary, confidence=params.confidence)}; "
                     f"{patients(summary['missing_followup'], 'included patient')} had no follow-up NRS."
                     f"{change}")


def nrs_change_table(block: dict, confidence: float) -> pd.DataFrame:
    """The ``outcome.nrs_change`` block as a two-column table."""
    rows = [("patients with both NRS values", str(block["n"])),
            ("median baseline NRS", nrs(block["median_baseline"])),
            ("median follow-up NRS", nrs(block["median_followup"])),
            ("median change (follow-up - baseline)", nrs(block["median_change"])),
            (f"Hodges-Lehmann estimate ({ci_label(confidence)})",
             with_interval(block["hodges_lehmann"], block["ci_low"], block["ci_high"], nrs)),
            ("interval method", block["ci_method"] or "-"),
            ("Wilcoxon signed-rank p", pval(block["wilcoxon_p"]))]
    return pd.DataFrame(rows, columns=["quantity", "value"])


def kruskal_wallis_text(summary: dict) -> str:
    """``Kruskal-Wallis H = 0.01, df = 2, n = 40, p = 0.993`` from the ``subgroups`` section, saying how many
    of the groups it compares when a group's reductions in pain are withheld (``kruskal_wallis_groups``)."""
    tested, groups = summary.get("kruskal_wallis_groups"), summary.get("groups") or {}
    over = ("" if tested is None or len(tested) == len(groups) else
            f" (over {len(tested)} of the {len(groups)} groups: a group whose responder curve is withheld is left out)"
            if tested else " (every group's responder curve is withheld, so no group's reductions are compared)")
    if summary.get("kruskal_wallis_h") is None:
        return f"Kruskal-Wallis {p_is(summary['kruskal_wallis_p'])}{over}"
    return (f"Kruskal-Wallis H = {statistic(summary['kruskal_wallis_h'])}, df = {summary['kruskal_wallis_df']}, "
            f"n = {summary['kruskal_wallis_n']}, {p_is(summary['kruskal_wallis_p'])}{over}")


def subgroup_text(summary: dict, params):
    """The subgroup comparison in words, with the caution it needs."""
    pooled = (f" {summary['pooled_values']} value(s) held by fewer than {patients(summary['min_group_size'])} "
              "were pooled so that no result points at a patient." if summary["pooled_values"] else "")
    return _markdown(f"**Result (exploratory).** Across the groups of {literal(words(params.group_by))}: exact "
                     f"Fisher-Freeman-Halton {p_is(summary['fisher_freeman_halton_p'])}; "
                     f"{kruskal_wallis_text(summary)} on the percent reduction in pain (patients with a follow-up "
                     f"NRS); {patients(summary['unclassified'])} unclassified.{pooled} Several tests on small groups: "
                     f"a p-value above {SIGNIFICANCE_LEVEL:g} does not show equal efficacy; the intervals say how large a difference "
                     "the data leave possible.")


#: What "serious" and the severity grades mean (the contract's column ``serious`` and ``severity``).
HARMS_DEFINITIONS = (
    "A side effect is serious when it is a major complication: life-threatening, leading to admission to "
    "hospital, or causing lasting harm (the data contract's definition, column serious = yes). Serious is "
    "not a severity grade: severity is recorded on a three-level scale, mild, moderate or severe, as the "
    "clinician wrote it in the chart; the contract names the three grades without defining them further, "
    "so they are the clinicians' judgement, not a standardised scale such as CTCAE.")


def harms_definitions():
    """:data:`HARMS_DEFINITIONS` as a paragraph of a report."""
    return _markdown(f"**Definitions.** {HARMS_DEFINITIONS}")


def harms_sentences(summary: dict, confidence: float, flow: dict | None = None) -> list[str]:
    """Side effects, serious ones and stops for side effects per population, as plain sentences."""
    parts = []
    for population in ("treated", "included"):
        s = summary[population]
        label = f"{population} patient"
        if s["events"] is None:                  # withheld (ketanb.side_effects.side_effect_summary)
            parts.append(f"The side effects of the {patients(s['patients'], label)} are not shown "
                         "(with so few excluded patients they would be theirs by subtraction).")
            continue
        serious, stopped = s["serious_patients"], s["stopped_for_side_effects"]
        n = s["patients"]
        parts.append(f"{format_proportion(s['any'], 'patients', confidence, n=n)} of the {patients(n, label)} "
                     f"had at least one side effect, over {patients(s['infusions'], 'infusion')}; "
                     f"{format_proportion(serious, 'patients', confidence, n=n, method='Clopper-Pearson')} had a "
                     f"serious one; {format_proportion(stopped, 'patients', confidence, n=n, method='Clopper-Pearson')} "
                     "stopped the treatment for side effects.")
    if flow is not None:
        parts.append(treated_note(flow))
    return parts


def harms_text(summary: dict, confidence: float, flow: dict | None = None):
    """Side effects, serious complications and stops for side effects as numbers with bounds."""
    return _markdown("**Result.** " + " ".join(harms_sentences(summary, confidence, flow)))


def limitations(r: dict, confidence: float) -> list[str]:
    """The limitations of the study, one plain sentence or two each: the one home of this text.

    Parameters
    ----------
    r : dict
        Holds the ``cohort``, ``sensitivity`` and ``subgroups`` sections of results.json.
    confidence : float

    Returns
    -------
    list of str
        Plain text (no Markdown), used by the index and report 03.
    """
    flow, everyone, sub = r["cohort"], r["sensitivity"]["all_treated"], r["subgroups"]
    excluded = flow["treated"] - flow["included"]
    items = [
        "Single-arm design: there is no comparator group, so the improvement cannot be attributed to ketamine. "
        "Regression to the mean (patients tend to start a treatment when their pain is at its worst) and the "
        "placebo response both lower a second pain score without any effect of the drug.",
        f"Per-protocol selection: the main estimate describes the {patients(flow['included'], 'patient')} treated "
        f"according to the protocol; the {patients(excluded, 'excluded patient')} may differ from them (report 03 "
        f"compares them), and over every treated patient the favorable outcome is "
        f"{format_proportion(everyone, confidence=confidence)}.",
        "Undefined follow-up timing: the extract records one follow-up NRS per patient, without a fixed time after "
        "the infusions, so outcomes measured after different delays are pooled and how long the effect lasts is "
        "unknown.",
        "Confounding: treatment and group were not assigned at random and nothing is adjusted for; differences "
        "between subgroups, or between included and excluded patients, may come from other characteristics "
        "(age, pain duration, other treatments).",
        "A retrospective chart review of one centre: side effects were recorded as noted in the files, so mild ones "
        "may be under-reported, and follow-up NRS values are missing for some patients (the sensitivity analyses "
        "bound their effect).",
    ]
    compared = [(name, g["vs_reference"]) for name, g in sub["groups"].items()
                if g.get("vs_reference") and not _missing(g["vs_reference"]["rd_ci_low"])]
    subgroups = (f"Subgroups: the groups of {words(sub['group_by'])} hold few patients each and the "
                 "comparisons are exploratory.")
    if compared:
        name, v = max(compared, key=lambda item: item[1]["rd_ci_high"] - item[1]["rd_ci_low"])
        subgroups += (f" The widest interval, {name} against {sub['reference']}, runs from "
                      f"{interval(v['rd_ci_low'], v['rd_ci_high'], points)} ({ci_label(confidence)}, risk difference "
                      f"{points(v['risk_difference'])}): it leaves room for large differences either way, so a "
                      f"p-value above {SIGNIFICANCE_LEVEL:g} cannot support \"no difference\" between the groups.")
    else:
        subgroups += f" A p-value above {SIGNIFICANCE_LEVEL:g} cannot support \"no difference\" between the groups."
    items.insert(4, subgroups)
    return items


def limitations_text(r: dict, confidence: float):
    """:func:`limitations` as a list in a report: plain text, shown as written (:func:`literal`; it names groups)."""
    return _markdown("\n".join(f"- {literal(item)}" for item in limitations(r, confidence)))
