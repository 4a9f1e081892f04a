"""Widgets, headless: set control values, read children (the ipyannotations way)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from reader_support import needs_encoder

from casekit.model import Finding, Modifier, Vignette
from casekit.response_tables import read_responses
from casekit.rules import load_rubric
from casekit.widgets import (
    CaseExplorer,
    CriteriaPanel,
    Quiz,
    ResponseDashboard,
    SeminarApp,
    WhatIf,
    data_dir,
)
from casekit.widgets import dashboard as dashboard_module
from casekit.widgets import whatif as whatif_module
from casekit.widgets.app import instructor_from_query
from casekit.widgets.quiz import MSG_HIDDEN, RESPONSE_COLUMNS
from casekit.widgets.render import highlight_html

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

THREAT = "He said he is going to shoot his ex-wife tonight."
DENIAL = "He denies any intent to kill his brother."
MALL = "He said he will kill people at the mall tomorrow."
RUBRICS = ["duty_to_protect"]
QUIET = "The client talked about his weekend and his garden."


@pytest.fixture
def cases() -> list[Vignette]:
    return [
        Vignette(id="A1", title="Ex-wife", text=THREAT, tags=("weapon", "imminent"),
                 difficulty="intro", options=("warn_and_notify", "maintain_confidentiality"),
                 answer="warn_and_notify"),
        Vignette(id="B2", title="Denial", text=DENIAL, tags=("denial",),
                 difficulty="advanced"),
        Vignette(id="C3", title="Mall", text=MALL, tags=("imminent", "large-group"),
                 difficulty="intermediate"),
        Vignette(id="D4", title="Garden", text=QUIET, tags=(), difficulty="intro"),
    ]  # fmt: skip


def _rows(explorer: CaseExplorer) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)"', explorer.table.value)


def _count(explorer: CaseExplorer) -> int:
    match = re.search(r"<b>(\d+)</b> of (\d+) cases match", explorer.counts.value)
    assert match, explorer.counts.value
    return int(match.group(1))


# -- rendering --------------------------------------------------------------------------


def test_highlight_escapes_text_and_labels_every_overlapping_finding() -> None:
    text = "<b>x</b> going to shoot her & run"
    start = text.index("going")
    findings = [
        Finding("threat_communicated", "going to shoot", start, start + 14, ""),
        Finding("serious_violence", "shoot", start + 9, start + 14, ""),
        Finding("identifiable_victim", "shoot her", start + 9, start + 18, ""),
    ]
    out = highlight_html(text, findings, load_rubric("duty_to_protect"))
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "&amp; run" in out
    # the word "shoot" is covered by all three findings: one segment names all three
    covered = re.search(r'data-criteria="([^"]+)"[^>]*>shoot</mark>', out)
    assert covered and set(covered.group(1).split()) == {f.criterion for f in findings}
    for label in ("Threat communicated", "Serious physical violence", "Identifiable victim"):
        assert f">{label}</span>" in out
    # reading the page text back gives the original text plus labels, in order
    plain = re.sub(r"<span class=\"ck-tag[^>]*>.*?</span>", "", out)
    assert (
        re.sub(r"<[^>]+>", "", plain)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        == text
    )


def test_cancelled_finding_struck_through_with_modifier() -> None:
    text = "He denies wanting to kill anyone."
    f = Finding("serious_violence", "kill", 21, 25, text,
                modifiers=(Modifier("negated", "denies", 3, 9, True),))  # fmt: skip
    out = highlight_html(text, [f])
    assert '<s class="ck-cancelled"' in out and ">kill</s>" in out
    assert "negated: &quot;denies&quot;" in out
    assert "<mark" not in out


def test_reader_sentence_is_underlined_and_labelled_not_filled() -> None:
    text = "We met. He will end him tonight. Bye."
    start = text.index("He")
    reader = Finding("threat_communicated", "He will end him tonight.", start, start + 24, "",
                     source="reader", confidence=0.87)  # fmt: skip
    rule = Finding("imminent", "tonight", text.index("tonight"), text.index("tonight") + 7, "")
    out = highlight_html(text, [reader, rule], load_rubric("duty_to_protect"))
    assert re.search(r'<u class="ck-reader" data-criteria="threat_communicated"[^>]*>He will', out)
    assert "Threat communicated · second reader 0.87</span>" in out
    # the rule's word keeps its fill; the reader's sentence is not filled
    assert re.search(
        r'<mark[^>]*data-criteria="imminent"|<mark class="ck-hl" data-criteria="imminent"', out
    )
    assert not re.search(r'<mark[^>]*data-criteria="[^"]*threat_communicated', out)
    veto = (Modifier("advisory", "x", 0, 7, True),)
    advisory = Finding("threat_communicated", "We met.", 0, 7, "", veto, source="reader",
                       confidence=0.6)  # fmt: skip
    assert "ck-reader" not in highlight_html(text, [advisory])


# -- CriteriaPanel ----------------------------------------------------------------------


def test_panel_shows_evidence_checklist_and_decision() -> None:
    panel = CriteriaPanel(Vignette(id="v", title="T <i>", text=THREAT))
    assert panel.assessment is not None and panel.assessment.duty == "required"
    assert re.search(r"<mark[^>]*>[^<]*shoot", panel.text.value)
    assert "T &lt;i&gt;" in panel.header.value
    assert 'data-criterion="imminent" data-fired="true"' in panel.checklist.value
    assert 'data-criterion="violence_history" data-fired="false"' in panel.checklist.value
    assert "tarasoff_duty" in panel.decision.value and "Tarasoff v. Regents" in panel.decision.value


@needs_encoder
def test_panel_second_reader_toggle_rescores_with_the_reader() -> None:
    panel = CriteriaPanel(Vignette(id="v", text=THREAT))
    assert not panel.second_reader.disabled
    assert "ck-reader" not in panel.text.value
    panel.second_reader.value = True
    assert panel.error.value == ""
    assert any(f.source == "reader" for f in panel.assessment.findings)
    assert (
        'class="ck-reader"' in panel.text.value and "second reader, p = " in panel.checklist.value
    )
    panel.second_reader.value = False
    assert not any(f.source == "reader" for f in panel.assessment.findings)
    # a rubric with no trained reader (an instructor's own, say) greys the box out
    own = dataclasses.replace(load_rubric("child_abuse"), id="course_child_abuse")
    panel.show(Vignette(id="w", text="A boy says his father beats him."), rubric=own)
    assert panel.second_reader.disabled


def test_panel_with_a_bad_jurisdiction_shows_error_not_traceback() -> None:
    panel = CriteriaPanel(Vignette(id="v", text=THREAT), jurisdiction="XX")
    assert "not a known code" in panel.error.value
    assert panel.assessment is None


# -- CaseExplorer -----------------------------------------------------------------------


def test_filters_narrow_table_and_counts_without_rescoring(cases: list[Vignette]) -> None:
    ex = CaseExplorer(cases, RUBRICS)
    assert _count(ex) == 4 and sorted(_rows(ex)) == ["A1", "B2", "C3", "D4"]
    scored = ex.cache.rows_scored
    ex.duty.value = "required"
    assert _rows(ex) == ["A1"] and _count(ex) == 1
    assert "Imminence 1" in ex.counts.value and "History of violence 0" in ex.counts.value
    ex.duty.value = "any"
    ex.tags.value = ("imminent",)
    assert _rows(ex) == ["A1", "C3"]
    ex.not_fired.value = ("identifiable_victim",)
    assert _rows(ex) == ["C3"]
    ex.tags.value, ex.not_fired.value = (), ()
    ex.fired.value = ("threat_communicated", "serious_violence")
    assert _rows(ex) == ["A1", "C3"]
    ex.fired.value = ()
    ex.difficulty.value = "intro"
    assert _rows(ex) == ["A1", "D4"]
    ex.difficulty.value = "any"
    ex.search.value = "GARDEN"
    assert _rows(ex) == ["D4"]
    ex.search.value = "nothing-like-this"
    assert _count(ex) == 0 and "No case matches" in ex.table.value
    assert ex.case.value is None and "Choose a case" in ex.detail.header.value
    assert ex.cache.rows_scored == scored  # filtering never rescored


def test_sort_by_criteria_fired_descending(cases: list[Vignette]) -> None:
    ex = CaseExplorer(cases, RUBRICS)
    ex.sort_by.value = "criteria fired"
    ex.descending.value = True
    fired = [len(next(r for r in ex.matches if r.id == i).fired) for i in _rows(ex)]
    assert fired == sorted(fired, reverse=True) and fired[0] > fired[-1]


def test_jurisdiction_rescoring_is_cached(cases: list[Vignette]) -> None:
    ex = CaseExplorer(cases, RUBRICS)
    ex.duty.value = "permitted"
    generic = _rows(ex)
    ex.jurisdiction.value = "TX"  # Texas: disclosure permitted, never required
    assert set(_rows(ex)) > set(generic)
    assert ex.cache.rows_scored == 2 * len(cases)  # as written, then TX
    ex.jurisdiction.value = "generic"
    assert ex.cache.rows_scored == 3 * len(cases)
    ex.jurisdiction.value = "TX"
    ex.jurisdiction.value = "as written"
    assert ex.cache.rows_scored == 3 * len(cases)  # revisits come from the cache


def test_selecting_case_updates_panel_with_evidence(cases: list[Vignette]) -> None:
    ex = CaseExplorer(cases, RUBRICS)
    ex.select("B2")
    assert ex.detail.vignette is not None and ex.detail.vignette.id == "B2"
    html = ex.detail.text.value
    assert '<s class="ck-cancelled"' in html and "negated: &quot;denies&quot;" in html
    ex.select("A1")
    assert re.search(r"<mark[^>]*>[^<]*shoot", ex.detail.text.value)
    assert ex.detail.assessment is not None and ex.detail.assessment.vignette_id == "A1"


def test_paging(cases: list[Vignette]) -> None:
    ex = CaseExplorer(cases, RUBRICS, page_size=3)
    assert len(_rows(ex)) == 3 and ex.page.max == 2
    ex.page.value = 2
    assert len(_rows(ex)) == 1 and "showing 4–4" in ex.counts.value


def test_bad_file_shows_readable_error(tmp_path: Path, cases: list[Vignette]) -> None:
    bad = tmp_path / "cases.yaml"
    bad.write_text("- id: V1\n  jurisdiction: XX\n", encoding="utf-8")
    ex = CaseExplorer(cases, RUBRICS)
    ex.path.value = str(bad)
    ex.load_button.click()
    message = ex.error.message
    assert "cases.yaml" in message and "field 'text': is required" in message
    assert "field 'jurisdiction': 'XX' is not a known code" in message
    assert "field &#x27;text&#x27;: is required" in ex.error.value  # shown, escaped
    assert "Traceback" not in ex.error.value
    assert _count(ex) == 4  # the previous cases stay
    ex.load(tmp_path / "missing.yaml")
    assert "no such file" in ex.error.value


def test_explorer_loads_bundled_set_by_default() -> None:
    ex = CaseExplorer()
    assert _count(ex) >= 50 and ex.detail.assessment is not None


# -- WhatIf -----------------------------------------------------------------------------


def test_whatif_text_edit_changes_criteria_and_duty() -> None:
    w = WhatIf(Vignette(id="w", text=THREAT), debounce=0)
    assert w.assessment.duty == "required"
    w.text.value = QUIET
    assert w.assessment.fired == () and w.assessment.duty == "not_triggered"
    assert 'data-change="off" data-criterion="threat_communicated"' in w.changes.value.replace(
        "'", '"'
    )
    assert "required → <b>not_triggered</b>" in w.changes.value
    w.reset()
    assert w.text.value == THREAT and "Same outcome" in w.changes.value


def test_whatif_debounces_text_until_flushed() -> None:
    w = WhatIf(Vignette(id="w", text=THREAT), debounce=60)
    w.text.value = QUIET
    assert w.assessment.duty == "required"  # still the old result while typing
    w.flush()
    assert w.assessment.duty == "not_triggered"


def test_whatif_debounce_runs_on_the_kernel_event_loop() -> None:
    async def typing() -> tuple[str, bool, str]:
        w = WhatIf(Vignette(id="w", text=THREAT), debounce=0.05)
        for end in range(5, len(QUIET) + 1, 5):  # a burst of keystrokes
            w.text.value = QUIET[:end]
        w.text.value = QUIET
        during, pending = w.assessment.duty, w._debounce.pending
        await asyncio.sleep(0.3)
        return during, pending, w.assessment.duty

    during, pending, after = asyncio.run(typing())
    assert (during, pending, after) == ("required", True, "not_triggered")


def test_whatif_facts_and_jurisdiction() -> None:
    w = WhatIf(Vignette(id="w", text=MALL), debounce=0)
    assert "identifiable_victim" not in w.assessment.fired
    w.facts["identifiable_victim"].value = "yes"
    assert "identifiable_victim" in w.assessment.fired and w.assessment.duty == "required"
    w.jurisdiction.value = "TX"
    assert w.assessment.duty == "permitted" and "law:TX" in w.panel.decision.value


def test_whatif_anonymity_check_lists_identifiers() -> None:
    w = WhatIf(Vignette(id="w", text=THREAT), debounce=0, check_pii=True)
    assert "no names" in w.pii.value
    w.text.value = "Dr. Alvarez said on March 3rd that " + THREAT
    assert "data-entity='NAME'" in w.pii.value and "Dr. Alvarez" in w.pii.value
    assert "data-entity='DATE'" in w.pii.value
    assert WhatIf(debounce=0).pii.value == ""  # off by default


def test_whatif_lets_other_exceptions_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    w = WhatIf(Vignette(id="w", text=THREAT), debounce=0)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(whatif_module, "score", broken)
    with pytest.raises(RuntimeError, match="bug"):
        w.text.value = QUIET


# -- Quiz -------------------------------------------------------------------------------


def test_quiz_hides_answer_until_reveal_then_names_criteria(cases: list[Vignette]) -> None:
    q = Quiz(cases, reveal=False, respondent_id="S1")
    assert q.case.value == "A1"
    assert [v for _, v in q.action.options] == ["warn_and_notify", "maintain_confidentiality"]
    q.action.value = "maintain_confidentiality"
    q.criteria["threat_communicated"].value = True
    q.answer()
    assert MSG_HIDDEN in q.feedback.value
    assert "Rubric answer" not in q.feedback.value and "Warn the victim" not in q.feedback.value
    q.reveal.value = True
    fb = q.feedback.value
    assert "data-verdict='differs'" in fb and "Warn the victim" in fb
    assert "Imminence" in fb and "“tonight”" in fb  # names criteria and the words
    assert "you spotted it" in fb and "you missed it" in fb
    assert "Why not:" in fb  # the distractor's reason
    # after an instructor's reveal, unanswered cases show the answer too
    q.case.value = "C3"
    assert "Rubric answer" in q.feedback.value


def test_quiz_defaults_to_the_rubric_own_cases() -> None:
    q = Quiz()
    assert q.vignettes and all(v.id.startswith("DTP-") for v in q.vignettes)


def test_quiz_practice_mode_gives_feedback_after_answer(cases: list[Vignette]) -> None:
    q = Quiz(cases, reveal=True, respondent_id="S1")
    assert q.feedback.value == ""
    q.action.value = "warn_and_notify"
    q.submit.click()
    assert "data-verdict='match'" in q.feedback.value
    q.case.value = "B2"
    q.submit.click()  # no action chosen
    assert "Choose an action" in q.status.value and len(q.responses) == 1


def test_quiz_csv_round_trips_through_the_responses_loader(
    tmp_path: Path, cases: list[Vignette]
) -> None:
    live = tmp_path / "live.csv"
    q = Quiz(cases, respondent_id="S1", save_to=live)
    seen: list[dict[str, object]] = []
    q.on_submit(seen.append)
    for vid, action, conf in [("A1", "warn_and_notify", 4), ("C3", "emergency_evaluation", 2)]:
        q.case.value = vid
        q.action.value = action
        q.confidence.value = conf
        q.answer()
    assert [r["vignette_id"] for r in seen] == ["A1", "C3"]
    out = q.save_csv(tmp_path / "all.csv")
    assert out is not None and "Saved 2" in q.save_status.value
    actions = load_rubric("duty_to_protect").actions
    for path in (out, live):
        table = read_responses(path, actions=actions, vignette_ids=[c.id for c in cases])
        assert table.excluded.empty
        got = table.data[list(RESPONSE_COLUMNS)].sort_values("vignette_id")
        assert got["respondent_id"].tolist() == ["S1", "S1"]
        assert got["response"].tolist() == ["warn_and_notify", "emergency_evaluation"]
        assert got["confidence"].tolist() == [4.0, 2.0]
        assert got["timestamp"].notna().all()
    # changing an answer replaces it here but is not appended to the shared file twice
    q.case.value = "A1"
    q.action.value = "maintain_confidentiality"
    q.answer()
    assert len(q.responses) == 2 and "already sent" in q.status.value
    assert len(live.read_text(encoding="utf-8").splitlines()) == 3


def test_quiz_reveal_is_shared_through_the_answers_file(
    tmp_path: Path, cases: list[Vignette]
) -> None:
    room = tmp_path / "room.csv"
    teacher = Quiz(cases, reveal=False, save_to=room, respondent_id="T")
    student = Quiz(cases, reveal=False, save_to=room, respondent_id="S", instructor=False)
    assert student.reveal.layout.display == "none" and teacher.reveal.layout.display is None
    student.action.value = "warn_and_notify"
    student.answer()
    assert MSG_HIDDEN in student.feedback.value
    teacher.reveal.value = True
    assert (tmp_path / "room.csv.revealed").exists()
    student.check_reveal()  # what the student's page does every couple of seconds
    assert "Rubric answer" in student.feedback.value
    late = Quiz(cases, reveal=False, save_to=room, instructor=False)  # page opened later
    assert late.reveal.value and "Rubric answer" in late.feedback.value
    teacher.reveal.value = False
    student.check_reveal()
    assert "Rubric answer" not in student.feedback.value


def test_instructor_view_comes_from_the_query_string(monkeypatch: pytest.MonkeyPatch) -> None:
    assert instructor_from_query("instructor=1") and instructor_from_query("a=2&instructor=true")
    assert not instructor_from_query("") and not instructor_from_query("instructor=0")
    monkeypatch.setenv("QUERY_STRING", "instructor=1")
    assert instructor_from_query()


def test_quiz_unwritable_path_shows_error(tmp_path: Path, cases: list[Vignette]) -> None:
    q = Quiz(cases, respondent_id="S1")
    (tmp_path / "dir.csv").mkdir()
    assert q.save_csv(tmp_path / "dir.csv") is None
    assert "dir.csv" in q.error.value


# -- ResponseDashboard ------------------------------------------------------------------


def _answers() -> pd.DataFrame:
    rows = []
    for i in range(6):
        rows.append((f"R{i}", "A1", "warn_and_notify" if i < 4 else "maintain_confidentiality",
                     "x" if i % 2 else "y"))  # fmt: skip
        rows.append((f"R{i}", "C3", "emergency_evaluation" if i < 3 else "warn_and_notify",
                     "x" if i % 2 else "y"))  # fmt: skip
    return pd.DataFrame(rows, columns=["respondent_id", "vignette_id", "response", "cohort"])


def test_dashboard_chart_and_agreement_follow_selection(cases: list[Vignette]) -> None:
    d = ResponseDashboard(_answers(), vignettes=cases)
    assert d.cases.value == ("A1", "C3") and d.chart.value[:4] == b"\x89PNG"
    assert d.summary is not None
    share = d.summary.set_index("vignette_id")["share_rubric"]
    assert share["A1"] == pytest.approx(4 / 6) and share["C3"] == pytest.approx(3 / 6)
    assert "67%" in d.agreement.value and "Fleiss" in d.agreement.value
    both = d.chart.value
    d.cases.value = ("A1",)
    assert d.chart.value != both and "C3" not in d.agreement.value
    d.group.value = "cohort"
    assert d.summary is not None and set(d.summary["cohort"]) == {"x", "y"}
    d.group.value = "(no grouping)"
    bars = d.chart.value
    d.kind.value = "agreement with the rubric"
    assert d.chart.value[:4] == b"\x89PNG" and d.chart.value != bars
    d.cases.value = ()
    assert d.chart.value == b"" and "Choose at least one case" in d.info.value


def test_dashboard_rereads_file_and_reports_errors(tmp_path: Path, cases: list[Vignette]) -> None:
    path = tmp_path / "answers.csv"
    d = ResponseDashboard(path, vignettes=cases)
    assert "no such file yet" in d.info.value and d.error.value == ""
    q = Quiz(cases, respondent_id="S1", save_to=path)
    q.on_submit(lambda _: d.refresh())
    q.action.value = "warn_and_notify"
    q.answer()
    assert d.cases.options == ("A1",) and d.chart.value[:4] == b"\x89PNG"
    first = d.chart.value
    q2 = Quiz(cases, respondent_id="S2", save_to=path)
    q2.action.value = "maintain_confidentiality"
    q2.answer()
    d.refresh_button.click()
    assert d.chart.value != first and "2 respondents" in d.info.value
    path.write_text("respondent_id,vignette_id\nS1,A1\n", encoding="utf-8")
    d.refresh()
    assert "response" in d.error.value and "missing" in d.error.value


def test_dashboard_poll_rereads_only_changed_files(
    tmp_path: Path, cases: list[Vignette], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "answers.csv"
    q = Quiz(cases, respondent_id="S1", save_to=path)
    q.action.value = "warn_and_notify"
    q.answer()
    d = ResponseDashboard(path, vignettes=cases)
    reads: list[object] = []
    real = dashboard_module.read_responses

    def counting(*args: object, **kwargs: object) -> object:
        reads.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dashboard_module, "read_responses", counting)
    d.refresh_if_changed()
    assert reads == []  # unchanged file: nothing re-read
    other = Quiz(cases, respondent_id="S2", save_to=path)
    other.action.value = "maintain_confidentiality"
    other.answer()
    d.refresh_if_changed()
    assert len(reads) == 1 and "2 respondents" in d.info.value


def test_dashboard_unknown_case_in_responses_is_an_error_message(cases: list[Vignette]) -> None:
    frame = _answers().assign(vignette_id="ZZ9")
    d = ResponseDashboard(frame, vignettes=cases)
    assert "ZZ9" in d.error.value


def test_dashboard_lets_other_exceptions_propagate(
    monkeypatch: pytest.MonkeyPatch, cases: list[Vignette]
) -> None:
    d = ResponseDashboard(_answers(), vignettes=cases)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(dashboard_module, "figure_png", broken)
    with pytest.raises(RuntimeError, match="bug"):
        d.cases.value = ("A1",)


# -- app and packaging ------------------------------------------------------------------


def test_seminar_app_quiz_answer_reaches_dashboard(tmp_path: Path) -> None:
    app = SeminarApp(tmp_path / "room.csv")
    assert [app.tabs.get_title(i) for i in range(4)] == [
        "Explore cases", "Answer a case", "The room's answers", "What if…",
    ]  # fmt: skip
    assert "no such file yet" in app.dashboard.info.value
    app.quiz.action.value = app.quiz.action.options[0][1]
    app.quiz.answer()
    assert app.dashboard.cases.options == (app.quiz.case.value,)
    app.quiz.case.value = app.quiz.case.options[2][1]
    app.quiz.action.value = app.quiz.action.options[1][1]
    app.quiz.answer()
    assert len(app.dashboard.cases.value) == 2  # new cases join an all-cases selection
    assert "1 respondent, 2 answers" in app.dashboard.info.value
    assert "Rubric answer" not in app.quiz.feedback.value  # seminar: hidden until reveal


def test_data_dir_points_at_bundled_data() -> None:
    assert (data_dir() / "rubrics" / "duty_to_protect.yaml").is_file()


def test_core_modules_do_not_import_ipywidgets() -> None:
    code = textwrap.dedent(
        """
        import sys
        import casekit, casekit.io, casekit.rules, casekit.scoring, casekit.responses
        import casekit.response_tables, casekit.plots
        bad = [m for m in ("ipywidgets", "IPython") if m in sys.modules]
        assert not bad, bad
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
