"""The public "who can file what" page: the matrix, the answers, the fees, bad input."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from zairyu.catalogue import get_catalogue
from zairyu.core.clock import JST

URL = "/catalogue/who-can-file/"


class PageParser(HTMLParser):
    """Collects what the tests look at: answer cards, matrix cells, inline code, form errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.results: dict[str, dict[str, object]] = {}  # procedure -> verdict, text, conditions, reasons
        self.matrix: dict[tuple[str, str], str] = {}
        self.inline_scripts = 0
        self.style_blocks = 0
        self.style_attributes = 0
        self.event_handlers = 0
        self.field_errors: list[str] = []
        self.html_lang: str | None = None
        self._card: str | None = None
        self._li_depth = 0
        self._row: str | None = None
        self._in_error = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "style":
            self.style_blocks += 1
        if "style" in a:
            self.style_attributes += 1
        self.event_handlers += sum(1 for name in a if name.startswith("on"))
        if tag == "li":
            if self._card:
                self._li_depth += 1
            elif a.get("data-verdict"):
                code = a["data-procedure"] or ""
                self._card = code
                self._li_depth = 1
                self.results[code] = {
                    "verdict": a["data-verdict"],
                    "text": "",
                    "conditions": [],
                    "reasons": [],
                }
            if self._card and a.get("data-condition"):
                self.results[self._card]["conditions"].append(a["data-condition"])  # type: ignore[union-attr]
            if self._card and a.get("data-reason"):
                self.results[self._card]["reasons"].append(a["data-reason"])  # type: ignore[union-attr]
        if tag == "tr" and a.get("data-user-category"):
            self._row = a["data-user-category"]
        if tag == "td" and self._row and a.get("data-rule"):
            self.matrix[(self._row, a["data-procedure"] or "")] = a["data-rule"] or ""
        if tag == "p" and "field-error" in (a.get("class") or ""):
            self._in_error += 1
            self.field_errors.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._card:
            self._li_depth -= 1
            if self._li_depth == 0:
                self._card = None
        if tag == "tr":
            self._row = None
        if tag == "p" and self._in_error:
            self._in_error -= 1

    def handle_data(self, data: str) -> None:
        if self._card:
            self.results[self._card]["text"] += data  # type: ignore[operator]
        if self._in_error:
            self.field_errors[-1] += data


def parse(response) -> PageParser:
    assert response.status_code == 200
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def english(client):
    client.cookies["zairyu_lang"] = "en"
    return client


def ask(client, **params: str) -> PageParser:
    return parse(client.get(URL, params))


def test_url_name():
    assert reverse("catalogue:who-can-file") == URL


def test_first_visit_in_japanese_shows_the_whole_matrix(client):
    page = parse(client.get(URL))
    assert page.html_lang == "ja"
    catalogue = get_catalogue()
    assert page.matrix == {key: cell.rule for key, cell in catalogue.matrix.items()}
    assert page.results == {}
    assert page.field_errors == []


def test_first_visit_in_english(english):
    response = english.get(URL)
    page = parse(response)
    assert page.html_lang == "en"
    content = response.content.decode()
    assert "Who can file what" in content
    # The conditions of the matrix are footnotes, in the reader's language.
    for cell in get_catalogue().matrix.values():
        for condition in cell.conditions:
            assert condition.text.en in content
    # Non-online statuses are offered, marked, so the answer can explain the exclusion.
    assert 'value="diplomat"' in content
    assert "Diplomat (not online)" in content


def test_parameters_that_are_not_the_forms_are_ignored(english):
    page = parse(english.get(URL, {"utm_source": "<script>"}))
    assert page.field_errors == []
    assert page.matrix


def test_relative_for_a_student(english):
    page = ask(english, user_category="U3", status="student")
    coe = page.results["P1"]
    assert coe["verdict"] == "conditional"
    assert coe["conditions"] == ["relative_lives_in_japan", "relative_family_status"]
    assert "live in Japan" in coe["text"]
    assert "Already satisfied" in coe["text"]  # the status condition holds for a student
    assert page.results["P5"]["verdict"] == "denied"
    assert "may not file this procedure" in page.results["P5"]["text"]
    assert page.results["P7"]["verdict"] == "denied"
    assert page.results["P2"]["verdict"] == "conditional"
    assert page.results["P2"]["conditions"] == ["applicant_under_16_or_unable"]
    assert page.matrix == {}  # the answer replaces the table


def test_relative_for_a_work_status_cannot_file_a_coe(english):
    page = ask(english, user_category="U3", status="engineer_humanities")
    assert page.results["P1"]["verdict"] == "denied"
    assert page.results["P1"]["reasons"] == ["relative_family_status"]


def test_diplomat_is_excluded(english):
    response = english.get(URL, {"user_category": "U1", "status": "diplomat"})
    page = parse(response)
    assert len(page.results) == 7
    assert {r["verdict"] for r in page.results.values()} == {"denied"}
    assert all(r["reasons"] == ["status_not_online"] for r in page.results.values())
    content = response.content.decode()
    assert 'data-summary="denied"' in content
    assert "cannot be filed online" in content


def test_window_applicant_files_at_the_window_only(english):
    response = english.get(URL, {"user_category": "U8", "status": "student"})
    page = parse(response)
    assert {r["verdict"] for r in page.results.values()} == {"denied"}
    assert all(r["reasons"] == ["window_only"] for r in page.results.values())
    assert "cannot file online: file at the bureau window" in response.content.decode()


def test_lawyer_for_an_engineer_may_file_everything(english):
    page = ask(english, user_category="U4", status="engineer_humanities")
    assert list(page.results) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert {r["verdict"] for r in page.results.values()} == {"allowed"}
    # The add-ons say what they go with.
    for code in ("P6", "P7"):
        assert "Filed only together with one of" in page.results[code]["text"]
        assert "Extension of period of stay" in page.results[code]["text"]
    assert "Filed only together" not in page.results["P3"]["text"]


def test_sub_category_of_a_status(english):
    page = ask(english, user_category="U4", status="highly_skilled_professional/1a")
    assert {r["verdict"] for r in page.results.values()} == {"allowed"}


def test_fees_from_april_2025_online_is_cheaper(english):
    with time_machine.travel(dt.datetime(2025, 6, 1, 10, 0, tzinfo=JST), tick=False):
        page = ask(english, user_category="U4", status="engineer_humanities")
    change = page.results["P2"]["text"]
    assert "¥5,500" in change and "¥6,000" in change
    reentry = page.results["P6"]["text"]
    assert "single entry" in reentry and "multiple entries" in reentry
    assert "¥3,500" in reentry and "¥6,500" in reentry
    assert reentry.index("single entry") < reentry.index("multiple entries")
    assert "No fee" in page.results["P1"]["text"]


def test_fees_before_april_2025(english):
    with time_machine.travel(dt.datetime(2025, 3, 31, 23, 0, tzinfo=JST), tick=False):
        page = ask(english, user_category="U4", status="engineer_humanities")
    change = page.results["P2"]["text"]
    assert "¥4,000" in change
    assert "¥5,500" not in change


def test_first_visit_lists_fees(english):
    with time_machine.travel(dt.datetime(2025, 6, 1, 10, 0, tzinfo=JST), tick=False):
        content = english.get(URL).content.decode()
    assert "¥5,500" in content and "¥1,600" in content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"user_category": "<script>alert(1)</script>", "status": "student"},
            "Choose one of the user categories",
        ),
        ({"user_category": "U9", "status": "student"}, "Choose one of the user categories"),
        ({"user_category": "U1", "status": "../../etc/passwd"}, "Choose one of the statuses"),
        ({"user_category": "U1", "status": "student\x00"}, "Choose one of the statuses"),
        ({"user_category": "U1", "status": "x" * 5000}, "Choose one of the statuses"),
        ({"user_category": "U1", "status": "designated_activities"}, "Choose one of the statuses"),
        ({"user_category": "U1"}, "Choose the applicant's status"),
        ({"status": "student"}, "Choose who you are"),
        ({"user_category": "", "status": ""}, "Choose who you are"),
    ],
)
def test_bad_parameters_give_the_form_back_with_an_error(english, params, message):
    response = english.get(URL, params)
    page = parse(response)
    content = response.content.decode()
    assert any(message in error for error in page.field_errors), page.field_errors
    assert page.results == {}
    assert page.matrix  # the reference table is still there
    assert "<script>alert" not in content
    assert "error-summary" in content


def test_statuses_not_in_force_are_refused(english):
    # Notice 53 (digital nomad) exists from 2024-03-31 only.
    with time_machine.travel(dt.datetime(2024, 3, 1, 10, 0, tzinfo=JST), tick=False):
        page = ask(english, user_category="U4", status="designated_activities/n53")
    assert page.field_errors


def test_only_get_is_allowed(client):
    assert client.post(URL, {"user_category": "U1", "status": "student"}).status_code == 405


@pytest.mark.parametrize(
    "params",
    [{}, {"user_category": "U3", "status": "student"}, {"user_category": "<b>", "status": "student"}],
)
@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_inline_script_or_style(client, params, language):
    client.cookies["zairyu_lang"] = language
    page = parse(client.get(URL, params))
    assert page.html_lang == language
    assert page.inline_scripts == 0
    assert page.style_blocks == 0
    assert page.style_attributes == 0
    assert page.event_handlers == 0
