"""Tests for casekit.anonymize: PII lint and scrub of vignette text."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casekit.anonymize import (
    PLACEHOLDERS,
    PiiFinding,
    find_pii,
    lint_findings,
    lint_records,
    lint_vignettes,
    scrub_text,
    scrub_vignettes,
)
from casekit.errors import Problem
from casekit.model import Vignette

ROOT = Path(__file__).resolve().parents[1]
VIGNETTE_FILES = sorted((ROOT / "data" / "vignettes").glob("*.yaml")) + sorted(
    (ROOT / "data" / "pending" / "vignettes").glob("*.yaml")
)
PASSAGES = ROOT / "data" / "anonymity" / "passages.jsonl"


def entities(text: str) -> list[tuple[str, str]]:
    return [(f.entity, f.text) for f in find_pii(text)]


# One example per entity type: (text, entity, the identifying text it must cover).
DETECTED = [
    ("Dr. Alvarez saw the client after the session.", "NAME", "Alvarez"),
    ("Mrs. Okafor phoned about her son.", "NAME", "Okafor"),
    ("The client, a man named Trevor, left early.", "NAME", "Trevor"),
    ("A coworker called Gus Halvorsen heard it.", "NAME", "Halvorsen"),
    ("Her supervisor, Dana Whitfield, got the voicemail.", "NAME", "Dana Whitfield"),
    ("His cousin Dmitri saw the gun.", "NAME", "Dmitri"),
    ("Marcus said he would burn the house down.", "NAME", "Marcus"),
    ("Rose Martinez is the person he named.", "NAME", "Rose Martinez"),
    ("Later, Priya said she was scared of him.", "NAME", "Priya"),
    ("He argued with Priya last night.", "NAME", "Priya"),
    ("Tomasz Nowak was the coworker he named.", "NAME", "Tomasz Nowak"),
    ("The Okafor family asked for a family session.", "NAME", "Okafor"),
    ("He was seen on March 3rd at the clinic.", "DATE", "March 3rd"),
    ("DOB 04/17/1988 is on the form.", "DATE", "04/17/1988"),
    ("The hearing was on June 12, 2023.", "DATE", "June 12, 2023"),
    ("On the 3rd of August he stopped his medication.", "DATE", "3rd of August"),
    ("The evaluation is set for 2024-03-18.", "DATE", "2024-03-18"),
    ("Call the clinician at (206) 555-0143 tonight.", "PHONE", "555-0143"),
    ("Reach him at 555-0192 during the day.", "PHONE", "555-0192"),
    ("Send records to fax (312) 555-0177 today.", "FAX", "555-0177"),
    ("She emailed k.ramsey@example.org about the notes.", "EMAIL", "k.ramsey@example.org"),
    ("He lives at 418 Birchwood Lane with his uncle.", "ADDRESS", "418 Birchwood Lane"),
    ("The referral came from Dayton, Ohio last year.", "LOCATION", "Dayton"),
    ("The client lives in Boston with his mother.", "LOCATION", "Boston"),
    ("Mail it to Springfield, IL 62704 please.", "ZIP", "62704"),
    ("A 94-year-old widower threatened his neighbor.", "AGE", "94"),
    ("Her grandfather, aged 96, lives with them.", "AGE", "96"),
    ("The SSN 000-42-7719 was on the form.", "SSN", "000-42-7719"),
    ("MRN 00482913 was admitted last night.", "ID_NUMBER", "00482913"),
    ("Account number 4471-2290-18 is on the bill.", "ID_NUMBER", "4471-2290-18"),
    ("He posted it on https://forum.example.com/t/88213 at night.", "URL", "example.com"),
    ("The messages came from 192.0.2.44 at the library.", "IP", "192.0.2.44"),
    ("Her car, plate 7KQP142, was parked outside.", "PLATE", "7KQP142"),
]


@pytest.mark.parametrize(("text", "entity", "needle"), DETECTED)
def test_each_entity_type_is_detected(text: str, entity: str, needle: str) -> None:
    hits = [f for f in find_pii(text) if f.entity == entity and needle in f.text]
    assert hits, f"expected {entity} covering {needle!r}, got {entities(text)}"


def test_every_entity_type_has_an_example() -> None:
    assert {entity for _, entity, _ in DETECTED} == set(PLACEHOLDERS)


CLEAN = [
    "Client A reported that her ex-husband threatened to kill her.",
    "Ms. K. is a 34-year-old teacher; Mr. K told the therapist on Thursday he was drinking.",
    "The client said [NAME] would pay, then called [PHONE] from [LOCATION].",
    "J.R. told Dr. X that Patient B and Person A argued about custody.",
    "The client's mother, stepfather and ex-wife all called on Monday and Friday.",
    "May the therapist disclose this? The client may be at risk. In May he relapsed.",
    "Will the therapist breach confidentiality? He will not say.",
    "Grace under pressure is hard. Hope is what keeps him going. Faith matters to her.",
    "June is when the lease ends. Mark the date, the client said. Rose-colored glasses.",
    "Sertraline 100 mg was started in 2019, and his PHQ-9 score is now 14.",
    "The client, 42, is an 88-year-old veteran's son; at age 65 his father retired.",
    "Last spring, two weeks ago and last year the client's brother moved home.",
    "The client has Major Depressive Disorder and Generalized Anxiety Disorder.",
    "Under Tarasoff v. Regents of the University of California, the duty is to protect.",
    "The client has a 9 mm handgun and a 12-gauge shotgun; he scored 28 on the PCL-5.",
    "The supervisor, the school resource officer and the nurse practitioner met.",
    "On Christmas Eve he punched his brother; the client lives in Ohio, not California.",
    "The client's Social Security check was late again.",
    "The client was seen at St. Mary's Hospital on a Tuesday afternoon.",
    "She switched to Lexapro last month and went to Walgreens for it.",
    "He said he would 'teach her a lesson' before Memorial Day; an Amber Alert went out.",
    "Under Thompson v. County of Alameda, the victim must be identifiable.",
    "The Angry Neighbor Across The Hall",
    # false positives met in the third session's vignette sets
    "The Trainee asked; the Counsellor said her Nan and Grandad live nearby.",
    "A Gulf War veteran, he coaches Little League and reads a Russian novel.",
    "He'll drive down Main on Sat. after the July fair; he parks the Commodore out front.",
    "Client: ...Yeah. Whoever it is, I met them on Discord.",
    'Facilitator asked him to repeat it; he said, "You heard me."',
    "She speaks with her mother in Tagalog during the call; her cousin texts in Urdu.",
    "Texter says she is fine. Cellmate reports he slept. Initially calm. Grade 9 student.",
    "She said, 'That's just what people say, Miss. Like, all the time.'",
    # fifth session
    'Supervisee asks whether this is still venting. "The grandkids call me Pop."',
    # sixth session: chart shorthand ("Cl" for client, "Geri-psych"), an eponymous syndrome
    "Mum says he left early. Cl reports a fight. Geri-psych unit; Capgras-type beliefs.",
    'Flatmate called about the Audi. A poem titled "The Last Leaf", for the war unit.',
    "He moved from England. Also, Mam goes to Mass. Eventually he agreed. Explicitly so.",
    # seventh session: a ward role at the start of a sentence
    "Helped another patient with a form. Consultant asks that the ward keep watch.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_placeholders_and_vignette_vocabulary_are_never_flagged(text: str) -> None:
    assert find_pii(text) == []


def test_month_names_are_dates_only_with_a_day_and_names_only_in_name_context() -> None:
    assert entities("In June the client relapsed.") == []
    assert entities("He was seen on May 14 and again in June.") == [("DATE", "May 14")]
    assert ("NAME", "June Carter") in entities("He saw June Carter at the store.")


def test_ages_under_ninety_and_bare_years_are_not_flagged() -> None:
    assert entities("The client is 89 and was arrested in 1998.") == []
    assert entities("The client is 93.") == [("AGE", "93")]


def test_findings_are_sorted_exact_and_non_overlapping() -> None:
    text = "She can be reached at jmorales@example.net or at (415) 555-0166, per Dr. Feld."
    found = find_pii(text)
    assert [f.entity for f in found] == ["EMAIL", "PHONE", "NAME"]
    for f in found:
        assert text[f.start : f.end] == f.text
        assert isinstance(f, PiiFinding) and 0 < f.score <= 1 and f.recognizer
    # the URL recognizer also matches the e-mail's domain; the more specific e-mail wins
    assert not any(f.entity == "URL" for f in found)


def test_scrub_replaces_with_typed_placeholders() -> None:
    text = "Mrs. Okafor called (206) 555-0143 on March 3rd from 418 Birchwood Lane."
    assert scrub_text(text) == "[NAME] called [PHONE] on [DATE] from [ADDRESS]."


@pytest.mark.parametrize("text", [DETECTED[i][0] for i in range(0, len(DETECTED), 3)])
def test_scrub_output_has_no_findings_and_is_idempotent(text: str) -> None:
    once = scrub_text(text)
    assert once != text
    assert find_pii(once) == []
    assert scrub_text(once) == once


def test_find_pii_on_blank_text_is_empty() -> None:
    assert find_pii("") == []
    assert scrub_text("   ") == "   "


def _vignettes() -> list[Vignette]:
    return [
        Vignette(id="V1", text="Client A denied any intent to harm anyone."),
        Vignette(
            id="V2",
            title="The Okafor case",
            text="Dr. Alvarez saw Mrs. Okafor on March 3rd.",
        ),
    ]


def test_lint_vignettes_names_record_id_field_and_span() -> None:
    problems = lint_vignettes(_vignettes(), file="set.yaml")
    assert all(isinstance(p, Problem) and p.kind == "pii" for p in problems)
    assert {(p.record, p.id) for p in problems} == {(1, "V2")}
    fields = [p.field for p in problems]
    assert fields.count("title") == 1 and fields.count("text") == 3
    assert 'possible NAME "Dr. Alvarez" at 0-11' in [p.message for p in problems]
    assert str(problems[0]) == (
        "set.yaml, record 1 (id 'V2'), field 'title': possible NAME \"Okafor\" at 4-10"
    )


def test_lint_findings_and_records_carry_entity_and_offsets() -> None:
    vignettes = _vignettes()
    rows = lint_findings(vignettes)
    assert [(r, v.id, field, f.entity) for r, v, field, f in rows] == [
        (1, "V2", "title", "NAME"),
        (1, "V2", "text", "NAME"),
        (1, "V2", "text", "NAME"),
        (1, "V2", "text", "DATE"),
    ]
    records = lint_records(vignettes)
    assert records[3] == {
        "record": 1,
        "id": "V2",
        "kind": "pii",
        "field": "text",
        "entity": "DATE",
        "text": "March 3rd",
        "start": 31,
        "end": 40,
        "message": 'possible DATE "March 3rd" at 31-40',
    }
    assert vignettes[1].text[31:40] == "March 3rd"


def test_scrub_vignettes_returns_new_objects_and_leaves_input_alone() -> None:
    vignettes = _vignettes()
    scrubbed = scrub_vignettes(vignettes)
    assert vignettes[1].text == "Dr. Alvarez saw Mrs. Okafor on March 3rd."
    assert scrubbed[1].text == "[NAME] saw [NAME] on [DATE]."
    assert scrubbed[1].title == "The [NAME] case"
    assert scrubbed[0] == vignettes[0]
    assert lint_vignettes(scrubbed) == []


@pytest.mark.skipif(not VIGNETTE_FILES, reason="no bundled vignettes yet")
@pytest.mark.parametrize("path", VIGNETTE_FILES, ids=lambda p: p.name)
def test_bundled_vignettes_have_no_findings(path: Path) -> None:
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = [
        (r["id"], field, f.entity, f.text)
        for r in records
        for field in ("title", "text")
        for f in find_pii(str(r.get(field) or ""))
    ]
    assert found == []


def test_labelled_passages_are_consistent() -> None:
    rows = [json.loads(line) for line in PASSAGES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    with_pii = sum(1 for r in rows if r["entities"])
    assert 0.4 <= with_pii / len(rows) <= 0.6
    for r in rows:
        assert r["split"] in ("tuning", "heldout", "fresh")
        assert r["source"].startswith("written for casekit")
        for e in r["entities"]:
            assert e["entity"] in PLACEHOLDERS
            assert 0 <= e["start"] < e["end"] <= len(r["text"])


def test_labelled_passages_recall_and_precision_meet_targets() -> None:
    sys.path.insert(0, str(ROOT))
    bench = pytest.importorskip("bench.anonymity")
    rows = [json.loads(line) for line in PASSAGES.read_text(encoding="utf-8").splitlines()]
    result = bench.evaluate(rows)
    for entity in ("NAME", "DATE", "PHONE", "EMAIL", "ADDRESS"):
        recall = result["tp_gold"][entity] / result["n_gold"][entity]
        assert recall >= 0.95, (entity, recall, result["misses"])
    precision = sum(result["tp_pred"].values()) / sum(result["n_pred"].values())
    assert precision >= 0.8, result["false_pos"]


def test_importing_the_module_does_not_import_presidio() -> None:
    code = "import sys, casekit.anonymize; print('presidio_analyzer' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def test_tldextract_remote_suffix_list_is_disabled() -> None:
    find_pii("warm up")
    import tldextract

    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()


_WORDS = st.sampled_from(
    [
        "the", "client", "Dr.", "Alvarez", "Client", "A", "May", "14", "called", "555-0143",
        "(206)", "on", "March", "3rd", "Grace", "Will", "said", "at", "418", "Birchwood", "Lane",
        "Boston", "k@example.org", ",", ".", "Ms.", "K.", "[NAME]", "Dana", "Whitfield", "94",
        "year-old", "MRN", "00482913", "plate", "7KQP142", "1999", "Thursday", "his", "wife",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, max_size=25).map(" ".join) | st.text(max_size=120))
def test_spans_are_exact_and_do_not_overlap(text: str) -> None:
    found = find_pii(text)
    for f in found:
        assert text[f.start : f.end] == f.text
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    assert find_pii(scrub_text(text)) == []


def test_analyzer_builds_and_runs_with_the_network_blocked(tmp_path: Path) -> None:
    # Fresh cache dirs, and every socket connection raises: nothing may be downloaded.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise RuntimeError('network used')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from casekit.anonymize import find_pii\n"
        "print([f.entity for f in find_pii('Mail k.ramsey@example.org, Dr. Alvarez.')])\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "TLDEXTRACT_CACHE": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['EMAIL', 'NAME']"
    assert "network used" not in out.stderr


def test_clinical_abbreviations_are_not_names() -> None:
    from casekit.anonymize import find_pii

    assert find_pii("S: Pt reports poor sleep. Traffic. Pt reports AH at night. Hx of HTN.") == []
    assert [f.entity for f in find_pii("Pt Jonathan Whitfield reports pain.")] == ["NAME"]
