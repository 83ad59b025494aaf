"""The data contract (docs/data-contract.md) as data: files, columns, codes, the tolerance.

Everything validation checks is declared here once, so that the checks, the
error messages and the documentation cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ColumnSpec", "TABLES", "TABLE_FILES", "PAIN_MECHANISMS", "DISCONTINUATION",
    "EVENTS", "SEVERITIES", "FORMULATIONS", "EXCLUSION_REASONS", "REASON_LABELS", "IDENTIFYING_COLUMNS",
    "TOLERANCE",
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

#: Column names that look like direct identifiers; an extract holding one is refused.
IDENTIFYING_COLUMNS = {
    "name": "a name", "first_name": "a name", "firstname": "a name", "last_name": "a name",
    "lastname": "a name", "surname": "a name", "full_name": "a name", "patient_name": "a name",
    "voornaam": "a name", "naam": "a name", "achternaam": "a name", "nom": "a name", "prenom": "a name",
    "birth_date": "a birth date", "birthdate": "a birth date", "date_of_birth": "a birth date",
    "dob": "a birth date", "geboortedatum": "a birth date", "date_naissance": "a birth date",
    "national_number": "a national register number", "national_register_number": "a national register number",
    "rijksregisternummer": "a national register number", "insz": "a national register number",
    "niss": "a national register number", "ssn": "a national register number",
    "address": "an address", "street": "an address", "adres": "an address", "adresse": "an address",
    "postal_address": "an address", "email": "contact details", "e_mail": "contact details",
    "phone": "contact details", "telephone": "contact details", "telefoon": "contact details",
}


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

    def expectation(self) -> str:
        """What the contract allows for this column, in words."""
        if self.kind == "id":
            text = "1-32 characters of letters, digits, '-' or '_'"
        elif self.kind == "ref":
            text = "a patient_id of patients.csv"
        elif self.kind == "code":
            text = "one of " + ", ".join(self.codes)
        elif self.kind == "date":
            text = "a date YYYY-MM-DD"
        elif self.kind in ("integer", "number"):
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
