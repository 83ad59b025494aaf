"""The data contract (docs/data-contract.md) as data: files, columns, codes, the tolerance.

Everything validation checks is declared here once, so that the checks, the
error messages and the documentation cannot drift apart.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "ColumnSpec", "TABLES", "TABLE_FILES", "PAIN_MECHANISMS", "DISCONTINUATION",
    "EVENTS", "SEVERITIES", "FORMULATIONS", "EXCLUSION_REASONS", "REASON_LABELS", "IDENTIFYING_COLUMNS",
    "IDENTIFYING_TEXT", "TOLERANCE", "identifier_kind", "folded_column_name", "MAX_COLUMNS", "MAX_NAME_CHARS",
    "MAX_CELL_CHARS", "UNPRINTED_CATEGORIES", "UNPRINTED_RANGES", "UNPRINTED_PATTERN", "MAX_NAME_LENGTH", "prints",
    "visible", "code_point", "NORMAL_FORM", "composed_name", "DATE_FORMATS", "DATE_FORMAT_HINT", "OTHER_TEXT",
    "UNCLASSIFIED", "TREATED_MEANS",
]

#: Absolute tolerance of every comparison with a dose (mg) or a responder threshold
#: (percentage points), so that floating-point rounding never flips a result:
#: 7.4 -> 3.7 is a 49.99999999999999 % reduction, which counts as 50 %.
TOLERANCE = 1e-9

PAIN_MECHANISMS = ("neuropathic", "nociceptive", "nociplastic")
DISCONTINUATION = ("lack_of_effect", "side_effects", "other")
FORMULATIONS = ("racemic", "esketamine")
EVENTS = ("nausea", "vomiting", "dizziness", "drowsiness", "hallucinations", "dissociation",
          "nightmares", "anxiety", "headache", "blurred_vision", "hypertension", "tachycardia",
          "other")
SEVERITIES = ("mild", "moderate", "severe")
SEXES = ("F", "M")
YES_NO = ("yes", "no")

#: The group of a free-text value held by fewer than ``min_group_size`` patients (section 5): its
#: values are reported together under this name (:func:`ketanb.disclosure.pool_rare_text`).
OTHER_TEXT = "other"
#: The group of the patients whose group_by value is empty (or written "unclassified").
UNCLASSIFIED = "unclassified"
#: Who the treated patients are (section 3), in the words of every table and text that counts them.
TREATED_MEANS = ("treated means every patient of the extract, whatever the dates of their infusions: "
                 "the contract's denominator, included + excluded")

#: Exclusion reasons in the order of precedence of the contract, section 3.
EXCLUSION_REASONS = ("outside_study_period", "not_racemic", "no_test_dose",
                     "off_protocol_dose", "test_dose_only", "no_baseline_nrs")

#: The exclusion reasons in words (flow figure, flow table, report sentences, index).
REASON_LABELS = {
    "outside_study_period": "first infusion outside the study period",
    "not_racemic": "not racemic ketamine",
    "no_test_dose": "no test dose",
    "off_protocol_dose": "dose off protocol",
    "test_dose_only": "test dose only",
    "no_baseline_nrs": "no baseline NRS",
}

#: Column names that look like direct identifiers, in English, Dutch and French; an extract holding
#: one is refused. A header matches when, ignoring case, accents and separators (space, ``_``, ``-``,
#: ``.``), it is one of these, alone or with a word of IDENTIFIER_PERSON_WORDS before or after it and
#: one of IDENTIFIER_NUMBER_WORDS after it: ``Patient naam``, ``date_de_naissance``, ``INSZ-nummer``.
IDENTIFYING_COLUMNS = {
    "a name": ("name", "first name", "given name", "last name", "surname", "family name", "full name",
               "maiden name", "middle name", "initials", "naam", "voornaam", "achternaam", "familienaam",
               "meisjesnaam", "roepnaam", "voorletters", "initialen", "nom", "prenom", "nom de famille",
               "nom de jeune fille", "initiales"),
    "a birth date": ("birth date", "date of birth", "dob", "birthday", "born", "geboortedatum",
                     "geboorte datum", "geboortedag", "geboren", "date de naissance", "date naissance",
                     "naissance", "ne le"),
    "a national register number": ("national number", "national register number", "national register",
                                   "national id", "rijksregisternummer", "rijksregister", "rrn", "insz", "inss",
                                   "niss", "nn", "numero national", "registre national", "ssn",
                                   "social security number", "sis", "bsn", "eid", "identity card",
                                   "identiteitskaart", "carte d'identite", "passport", "paspoort", "passeport"),
    "a medical record number": ("medical record number", "mrn", "dossier", "dossiernummer",
                                "patient dossier", "numero de dossier", "hospital number", "ziekenhuisnummer"),
    "an address": ("address", "street", "street address", "postal address", "home address", "adres",
                   "straat", "woonadres", "adresse", "rue", "domicile"),
    "contact details": ("email", "email address", "mail", "mail address", "e-mailadres", "courriel",
                        "phone", "phone number", "telephone", "tel", "telefoon", "telefoonnummer", "gsm",
                        "mobile", "mobile phone", "cell phone", "cellphone", "mobiel", "mobiele telefoon",
                        "portable", "fax"),
}
#: Words that may come before or after an identifying column name (``patient name``, ``nom du patient``).
IDENTIFIER_PERSON_WORDS = ("patient", "patients", "patiente", "pat", "pt", "client", "of patient", "of the patient",
                           "van patient", "van de patient", "du patient", "de la patiente", "de patient")
#: Words that may end an identifying column name (``gsm nummer``, ``phone no``).
IDENTIFIER_NUMBER_WORDS = ("number", "nummer", "numero", "nr", "no", "num")


def folded_column_name(name: str) -> str:
    """A column name as identifier names are matched: lower case, without accents, separators or other
    signs (``Date_de-Naissance`` and ``date de naissance`` are both ``datedenaissance``)."""
    text = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


_IDENTIFYING = {folded_column_name(name): kind for kind, names in IDENTIFYING_COLUMNS.items() for name in names}
_PERSON = ("",) + tuple(folded_column_name(w) for w in IDENTIFIER_PERSON_WORDS)
_NUMBER = ("",) + tuple(folded_column_name(w) for w in IDENTIFIER_NUMBER_WORDS)


def identifier_kind(column: str) -> str | None:
    """What a column of this name would hold, e.g. ``"a name"``, if it looks like a direct identifier; else None.

    Examples: ``familienaam``, ``Patient naam``, ``date_de_naissance``, ``insz_nummer`` and ``GSM`` are
    identifiers; ``patient_id``, ``diagnosis`` and ``drug name`` are not.
    """
    name = folded_column_name(column)
    for person in _PERSON:
        for stem in (name.removeprefix(person), name.removesuffix(person)):
            for number in _NUMBER:
                core = stem.removesuffix(number) if number else stem
                if core and core in _IDENTIFYING:
                    return _IDENTIFYING[core]
    return None


#: What a national register number, a phone number or an e-mail address looks like in free text (RE2 syntax,
#: as Arrow matches it: no look-behind). A text cell the analysis reads (diagnosis, treatment, a free-text
#: group_by column) that holds one is refused, for the first kind it looks like. National register number:
#: 11 digits grouped as YY.MM.DD-NNN.CC, separators optional. Phone: a leading ``+`` and country code, or
#: ``0``, then 8 to 12 digits, with single spaces, dots, slashes or hyphens between them (``0475 12 34 56``,
#: ``+32 475 12 34 56``, ``09/123.45.67``). Neither starts or ends inside a longer group of digits:
#: ``85.07.12-123.45`` holds no phone number ``07.12-123.45``, the dates ``01.02.2016-03.05.2016`` none
#: either; a date such as ``01/02/2016`` has too few digits to be one.
_ALONE_BEFORE, _ALONE_AFTER = r"(?:^|[^0-9 ./-]|[^0-9][ ./-])", r"(?:$|[^0-9 ./-]|[ ./-](?:$|[^0-9]))"
IDENTIFYING_TEXT = {
    "a phone number":
        _ALONE_BEFORE + r"(?:\+[0-9]{2,3}|0)[ ./-]?(?:\(0\) ?)?[0-9](?:[ ./-]?[0-9]){7,11}" + _ALONE_AFTER,
    "a national register number":
        _ALONE_BEFORE + r"[0-9]{2}[ ./-]?[0-9]{2}[ ./-]?[0-9]{2}[ ./-]?[0-9]{3}[ ./-]?[0-9]{2}" + _ALONE_AFTER,
    "an e-mail address": r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}",
}

#: How the dates of an extract may be written, by the parameter ``date_format`` (ketanb's own; the contract
#: asks for YYYY-MM-DD): what each form allows, in words. ``dmy`` is day/month/year as Excel writes dates in
#: Belgium and most of Europe (``4/01/2016``, ``04-01-2016``, ``04.01.2016``), and YYYY-MM-DD as well (a
#: workbook's real date cells are read as YYYY-MM-DD). Month/day/year (the United States) is never read.
DATE_FORMATS = {"iso": "a date YYYY-MM-DD",
                "dmy": "a date day/month/year (4/01/2016, 04-01-2016 or 04.01.2016) or YYYY-MM-DD"}
#: Said of a date written day/month/year when ``date_format`` is ``iso``.
DATE_FORMAT_HINT = ("this looks like day/month/year, as Excel writes dates in Belgium: write dates as YYYY-MM-DD, "
                    "or set 'date_format: dmy' in the parameter file")

#: An extract's header row holds at most MAX_COLUMNS names of at most MAX_NAME_CHARS characters, and no
#: cell more than MAX_CELL_CHARS characters (a quote never closed makes the rest of a file one cell).
MAX_COLUMNS = 1000
MAX_NAME_CHARS = 1000
MAX_CELL_CHARS = 100_000

#: Characters that print nothing of their own, by Unicode category: control characters (a tab, a line break, the
#: escape that starts a terminal's colour codes), format characters (a right-to-left override, which shows the text
#: after it in another order; a zero-width space; a soft hyphen), surrogates, private use (no font draws them), and
#: the line and paragraph separators. Outputs show what they print as written, so none may be in the free text the
#: analysis reads (:func:`ketanb.input.validate.text_rules`) nor in a name of a partner's results.json
#: (:mod:`ketanb.sites`): ``fibromyalgia`` and ``fibromyalgia`` with one of them after it would be two groups
#: that read the same. A space of any width (a no-break space too), an accent and a letter of any script print.
UNPRINTED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
#: And these, of other categories, which show nothing either (first and last code point of each range): the
#: combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels, Mongolian's variation selectors, the
#: blank braille pattern, the variation selectors (which change how the character before them is drawn); then
#: code points not assigned yet that Unicode reserves as invisible (U+2065, U+FFF0-FFF8, the tag and variation
#: selector block U+E0000-E0FFF), the noncharacters of the first plane, and the block of Egyptian hieroglyph
#: format controls (format characters in newer Unicode tables than Python 3.11's, already in RE2's): the
#: Arrow pattern and :func:`prints` then agree on every code point (a test checks it).
UNPRINTED_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2065, 0x2065),
                    (0x2800, 0x2800), (0x3164, 0x3164), (0xFDD0, 0xFDEF), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0),
                    (0xFFF0, 0xFFF8), (0xFFFE, 0xFFFF), (0x13430, 0x1343F), (0xE0000, 0xE0FFF))
#: The same as one character class in RE2's syntax, with which Arrow matches a column.
UNPRINTED_PATTERN = ("[" + "".join(rf"\p{{{category}}}" for category in UNPRINTED_CATEGORIES)
                     + "".join(rf"\x{{{first:X}}}-\x{{{last:X}}}" for first, last in UNPRINTED_RANGES) + "]")
#: Longest name of a group (a value of the column group_by names), of a site or of a group_by column, in
#: characters: a name is shown in tables, figures and the pooled report.
MAX_NAME_LENGTH = 100


#: The one Unicode form of every text ketanb reads: the composed one, in which é is one character. A Mac often
#: writes it decomposed (e and an accent), which prints the same: free text (:func:`ketanb.input.validate.composed`),
#: column names, the parameters that name a column or a group, and a site's folder are all read in this form.
NORMAL_FORM = "NFC"


def composed_name(text: str) -> str:
    """A name (a column, ``group_by``, ``reference_group``, a site's folder) in :data:`NORMAL_FORM`."""
    return unicodedata.normalize(NORMAL_FORM, text)


def code_point(character: str) -> str:
    """A character as a message names it: ``<U+FE0F>``."""
    return f"<U+{ord(character):04X}>"


def visible(text: str) -> str:
    """``text`` for a message: each character that prints nothing but that Python's ``repr`` would leave as it is
    (a variation selector, a blank filler) written as its :func:`code_point`, so that a clinic sees where it is."""
    return "".join(code_point(c) if c.isprintable() and not prints(c) else c for c in text)


def prints(text: str) -> bool:
    """Whether every character of ``text`` prints: none of :data:`UNPRINTED_CATEGORIES` or :data:`UNPRINTED_RANGES`
    (what :data:`UNPRINTED_PATTERN` finds in a column, one character at a time)."""
    return not any(unicodedata.category(character) in UNPRINTED_CATEGORIES
                   or any(first <= ord(character) <= last for first, last in UNPRINTED_RANGES) for character in text)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input file.

    Attributes
    ----------
    name : str
        Column name (headers are matched case-insensitively, spaces trimmed).
    kind : {"id", "ref", "code", "integer", "number", "date", "text"}
        How values are parsed. ``id``: a patient_id of patients.csv (its
        format is checked there); ``ref``: a patient_id in another table,
        which must name a patient of patients.csv (checked as a relation).
    column_required : bool
        The column must be present.
    value_required : bool
        Every row must have a value (an empty cell is an error).
    codes : tuple of str, optional
        Allowed codes (matched case-insensitively, spaces trimmed).
    low, high : float, optional
        Inclusive range for numbers; ``low_open`` makes the lower bound strict.
    """

    name: str
    kind: str
    column_required: bool = True
    value_required: bool = True
    codes: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    @property
    def holds_numbers(self) -> bool:
        """An ``integer`` or ``number`` column: its cells are parsed to numbers."""
        return self.kind in ("integer", "number")

    def expectation(self, date_format: str = "iso") -> str:
        """What the contract allows for this column, in words (a date: as ``date_format`` writes it)."""
        if self.kind == "id":
            text = "1-32 characters of letters, digits, '-' or '_'"
        elif self.kind == "ref":
            text = "a patient_id of patients.csv"
        elif self.kind == "code":
            text = "one of " + ", ".join(self.codes)
        elif self.kind == "date":
            text = DATE_FORMATS[date_format]
        elif self.holds_numbers:
            text = "a whole number" if self.kind == "integer" else "a number"
            if self.low is not None and self.high is not None:
                text += f" from {self.low:g} to {self.high:g}"
            elif self.low is not None:
                text += f" {'>' if self.low_open else '>='} {self.low:g}"
        else:
            text = "text"
        if not self.value_required:
            text += " (or empty)"
        return text


TABLES: dict[str, tuple[ColumnSpec, ...]] = {
    "patients": (
        ColumnSpec("patient_id", "id"),
        ColumnSpec("sex", "code", codes=SEXES),
        ColumnSpec("age", "integer", low=18, high=110),
        ColumnSpec("pain_mechanism", "code", value_required=False, codes=PAIN_MECHANISMS),
        ColumnSpec("diagnosis", "text", column_required=False, value_required=False),
        ColumnSpec("pain_duration_months", "number", column_required=False, value_required=False, low=0),
        ColumnSpec("baseline_nrs", "number", value_required=False, low=0, high=10),
        ColumnSpec("followup_nrs", "number", value_required=False, low=0, high=10),
        ColumnSpec("discontinuation", "code", value_required=False, codes=DISCONTINUATION),
    ),
    "infusions": (
        ColumnSpec("patient_id", "ref"),
        ColumnSpec("date", "date"),
        ColumnSpec("dose_mg", "number", low=0, low_open=True),
        ColumnSpec("formulation", "code", codes=FORMULATIONS),
    ),
    "adverse_events": (
        ColumnSpec("patient_id", "ref"),
        ColumnSpec("date", "date"),
        ColumnSpec("event", "code", codes=EVENTS),
        ColumnSpec("severity", "code", codes=SEVERITIES),
        ColumnSpec("treatment", "text", column_required=False, value_required=False),
        ColumnSpec("serious", "code", column_required=False, value_required=False, codes=YES_NO),
    ),
}

#: File name of each table in a folder extract (the sheet name drops ``.csv``).
TABLE_FILES = {name: f"{name}.csv" for name in TABLES}
