"""The parameter file (contract, section 2): YAML a parameter file does not need is refused with its line."""
import pytest

from ketanb import ParameterError, load_params
from ketanb.params import MAX_BYTES

#: A few hundred bytes that PyYAML's safe loader would expand to 9**9 strings (past 6 GB; the issue's had 299).
ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refusal(tmp_path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(path)
    return str(info.value).replace(str(path), "p.yaml")


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    assert len(ALIAS_BOMB.encode()) < 400
    assert refusal(tmp_path, ALIAS_BOMB) == ("parameter file p.yaml, line 1: an anchor or alias ('&' or '*'); a "
                                             "parameter file writes every value out")


def test_an_alias_of_a_plain_value_is_refused_too(tmp_path):
    assert refusal(tmp_path, "responder_threshold: &t 30\nconfidence: 0.9\ntest_dose_mg: *t\n").startswith(
        "parameter file p.yaml, line 1: an anchor or alias")


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path):
    """40,000 brackets (80 kB) gave a RecursionError traceback."""
    text = "group_edges: " + "[" * 40_000 + "]" * 40_000 + "\n"
    assert refusal(tmp_path, text) == ("parameter file p.yaml, line 1: values nested more than 4 deep; a parameter "
                                       "file is a list of 'parameter: value' lines")


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path):
    """The second value used to win without a word: 50, where the first line says 30."""
    text = "responder_threshold: 30\nconfidence: 0.9\nresponder_threshold: 50\n"
    assert refusal(tmp_path, text) == ("parameter file p.yaml, line 3: 'responder_threshold' is given twice "
                                       "(first on line 1); keep one")
    assert refusal(tmp_path, "{min_group_size: 5, min_group_size: 1}\n").endswith(
        "line 1: 'min_group_size' is given twice (first on line 1); keep one")


def test_a_file_that_is_not_a_parameter_file_is_refused_clearly(tmp_path):
    assert refusal(tmp_path, "# " + "x" * MAX_BYTES + "\n") == (
        f"parameter file p.yaml, it has {MAX_BYTES + 3:,} bytes; a parameter file is a few lines")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("group_by: café\n".encode("latin-1"))
    with pytest.raises(ParameterError, match="is not a text file in UTF-8"):
        load_params(path)


def test_an_ordinary_parameter_file_still_loads(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("# mine\ngroup_by: age\ngroup_edges: [40, 60]\nmin_group_size: 1\n"
                    "i_know_this_is_not_patient_data: true\nreference_group: null\n", encoding="utf-8")
    p = load_params(path)
    assert (p.group_by, p.group_edges, p.min_group_size, p.i_know_this_is_not_patient_data) == \
        ("age", (40.0, 60.0), 1, True)
    with pytest.raises(ParameterError, match="i_know_this_is_not_patient_data: 'yes' is not true or false"):
        load_params(i_know_this_is_not_patient_data="yes")


def test_a_number_as_a_key_is_named_as_an_unknown_parameter(tmp_path):
    assert refusal(tmp_path, "1: x\nfoo: y\n").startswith("unknown parameter(s) 1, foo in p.yaml; the parameters are:")


def test_date_format_says_how_the_extract_writes_dates(tmp_path):
    """Issue 23: ``iso`` by default, ``dmy`` for day/month/year; how the extract is read, not a parameter of the
    analysis, so results.json does not list it (the shipped outputs stay as they were)."""
    path = tmp_path / "p.yaml"
    path.write_text("date_format: DMY \n", encoding="utf-8")
    assert load_params().date_format == "iso" and load_params(path).date_format == "dmy"
    assert "date_format" not in load_params(path).to_dict()
    with pytest.raises(ParameterError) as info:
        load_params(date_format="mdy")
    assert str(info.value) == ("parameter date_format: 'mdy' is not one of iso, dmy (iso: dates written YYYY-MM-DD; "
                               "dmy: day/month/year, such as 4/01/2016, as well)")
    with pytest.raises(ParameterError, match="parameter date_format: 1 is not one of iso, dmy"):
        load_params(date_format=1)


def test_the_study_block_is_read_and_checked(tmp_path):
    """Issue 23.1: the study is a parameter (descriptive); the period defaults to the years of the study dates,
    published values are checked, and neither appears among the parameters of the analysis."""
    (tmp_path / "own.yaml").write_text("study_start: 2018-03-01\nstudy:\n  title: Ketamine in Zottegem\n"
                                       "  centre: AZ Zottegem\n", encoding="utf-8")
    own = load_params(tmp_path / "own.yaml")
    assert own.study.to_dict() == {"title": "Ketamine in Zottegem", "centre": "AZ Zottegem", "period": "2018-2019",
                                   "authors": "", "publication": ""}
    assert "study" not in own.to_dict()
    assert load_params(study_start="2019-01-01").study.period == "2019"
    with_values = load_params(study={"title": "T", "published": {"favorable": "12", "n": 20, "group_by": "Sex"}})
    assert with_values.study.published == {"favorable": 12, "n": 20, "group_by": "sex"}


@pytest.mark.parametrize("study, message", [
    ("yes", "parameter study: 'yes' is not a block of 'key: value' lines"),
    ({"title": "T", "city": "Gent"}, "parameter study: unknown key(s) city; the keys are: title, centre, period, "
                                     "authors, publication, published"),
    ({"title": ""}, "parameter study.title: empty; give the study a title"),
    ({"title": "T", "published": {"favorable": 30, "n": 20}},
     "parameter study.published: favorable 30 is more than n 20"),
    ({"title": "T", "published": {"n": 2.5}}, "parameter study.published.n: 2.5 is not a whole number"),
    ({"title": "T", "published": {"subgroup_difference": "none"}},
     "parameter study.published.subgroup_difference: 'none' is not one of significant, not significant"),
    ({"title": "T", "published": {"p": 0.5}}, "parameter study.published: unknown key(s) p"),
])
def test_a_wrong_study_block_is_refused_naming_the_key(study, message):
    with pytest.raises(ParameterError) as refused:
        load_params(study=study)
    assert str(refused.value).startswith(message)


def test_no_module_names_the_shipped_study():
    """Issue 23.1: the study is in params.yaml, not in the code (nor in the templates or notebooks)."""
    from ketanb.paths import ROOT

    files = [*(ROOT / "ketanb").rglob("*.py"), *(ROOT / "ketanb").rglob("*.j2"), *(ROOT / "notebooks").glob("*.ipynb")]
    named = [(str(f.relative_to(ROOT)), word) for f in files for word in ("Dendermonde", "Sint-Blasius", "Vallé")
             if word in f.read_text(encoding="utf-8")]
    assert len(files) > 20 and named == []
    assert "Dendermonde" in (ROOT / "params.yaml").read_text(encoding="utf-8")


def test_the_study_in_one_sentence():
    from ketanb.presentation.tables import study_line

    shipped = load_params("params.yaml").study.to_dict()
    assert study_line(shipped) == ("Ketamine infusion therapy in chronic pain (Vallé et al.; Acta Anaesthesiologica "
                                   "Belgica, May 2024): a retrospective cohort, AZ Sint-Blasius, Dendermonde, "
                                   "Belgium, 2015-2019.")
    assert study_line(load_params().study.to_dict(), title=False) == "A retrospective cohort, 2015-2019."


def test_a_reference_group_no_group_can_have_is_refused_up_front(tmp_path):
    """Checked once, by params (before any stage runs): a code of the contract, a band of group_edges or
    `other`, in any case; a free-text column's groups come from the data, which the subgroups stage checks."""
    assert refusal(tmp_path, "reference_group: visceral\n") == (
        "parameter reference_group: 'visceral' is not one of the groups pain_mechanism can give "
        "(neuropathic, nociceptive, nociplastic, other)")
    assert refusal(tmp_path, "group_by: age\ngroup_edges: [40, 60]\nreference_group: 40-60\n") == (
        "parameter reference_group: '40-60' is not one of the groups age can give (<40, 40-<60, >=60, other)")
    assert load_params(None, reference_group=" Neuropathic ").reference_group == "Neuropathic"
    assert load_params(None, reference_group="OTHER").reference_group == "OTHER"
    assert load_params(None, group_by="age", group_edges=[40, 60], reference_group=">=60").reference_group == ">=60"
    assert load_params(None, group_by="Diagnosis", reference_group="migraine").reference_group == "migraine"


@pytest.mark.parametrize("name, shown", [("x" * 101, "'" + "x" * 59), ("pain\u200bmechanism", "'pain\\u200bmechanism'"),
                                         ("diagnose\ufe0f", "'diagnose<U+FE0F>'")])
def test_group_by_names_a_column_of_at_most_100_characters_that_print(name, shown):
    """Review 2026-12-03: a 111-character header or one with a zero-width space as group_by gave a run that
    succeeded and a results.json that pooling refused (its group_by is a name of 1-100 printable characters)."""
    with pytest.raises(ParameterError) as info:
        load_params(group_by=name)
    assert str(info.value).startswith(f"parameter group_by: {shown}")
    assert "is not a column name of at most 100 characters that all print" in str(info.value)
