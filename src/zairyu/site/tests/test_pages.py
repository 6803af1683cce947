"""The base layout and the home page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders

from zairyu.catalogue import get_catalogue
from zairyu.core import clock


class LayoutParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def layout(response) -> LayoutParser:
    assert response.status_code == 200
    parser = LayoutParser()
    parser.feed(response.content.decode())
    return parser


def test_home_is_in_japanese_by_default(client):
    response = client.get("/")
    page = layout(response)
    assert page.find("html")[0]["lang"] == "ja"
    content = response.content.decode()
    catalogue = get_catalogue()
    # Names come from the catalogue, in the active language.
    for procedure in catalogue.procedures.values():
        assert procedure.name.ja in content
    for category in catalogue.user_categories.values():
        assert category.name.ja in content


def test_home_in_english(client):
    client.cookies["zairyu_lang"] = "en"
    response = client.get("/")
    page = layout(response)
    assert page.find("html")[0]["lang"] == "en"
    content = response.content.decode()
    catalogue = get_catalogue()
    for procedure in catalogue.procedures.values():
        assert procedure.name.en in content
    assert "24 hours a day" in content
    assert "last day of the period of stay" in content
    assert "Who can file what" in content


def test_home_lists_everything_from_the_catalogue(client):
    page = layout(client.get("/"))
    catalogue = get_catalogue()
    shown_categories = {a["data-user-category"] for a in page.find("li") if a.get("data-user-category")}
    assert shown_categories == set(catalogue.user_categories)
    shown_procedures = {a["data-procedure"] for a in page.find("li") if a.get("data-procedure")}
    assert shown_procedures == set(catalogue.procedures)
    excluded = {a["data-status"] for a in page.find("li") if a.get("data-status")}
    assert excluded == {e.key for e in catalogue.entries_in_force(clock.today()) if not e.online}
    assert page.find("a", href="/catalogue/who-can-file/")


def test_add_ons_say_what_they_go_with(client):
    client.cookies["zairyu_lang"] = "en"
    content = client.get("/").content.decode()
    reentry = re.search(r'data-procedure="P6">(.*?)</li>', content, re.S)
    assert reentry is not None
    assert "Change of status of residence" in reentry.group(1)


@pytest.mark.parametrize("url", ["/", "/catalogue/who-can-file/"])
def test_layout_landmarks_and_language_switch(client, url):
    page = layout(client.get(url))
    skip = page.tags[[t for t, _ in page.tags].index("a")]
    assert skip == ("a", {"class": "skip-link", "href": "#main"})  # the first link of the page
    assert page.find("main", id="main")
    assert page.find("header") and page.find("footer") and page.find("nav")
    switch = page.find("form", action="/i18n/setlang/")
    assert switch and switch[0]["method"] == "post"
    assert page.find("input", type="hidden", name="csrfmiddlewaretoken")
    assert page.find("input", type="hidden", name="next")[0]["value"] == url
    buttons = {a["value"]: a for a in page.find("button", name="language")}
    assert set(buttons) == {"ja", "en"}
    assert buttons["ja"].get("aria-current") == "true"
    assert "aria-current" not in buttons["en"]
    assert page.find("a", href=url, **{"aria-current": "page"})


def test_switching_language_sets_the_cookie_and_returns(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/catalogue/who-can-file/"})
    assert response.status_code == 302
    assert response["Location"] == "/catalogue/who-can-file/"
    assert response.cookies["zairyu_lang"].value == "en"
    page = layout(client.get("/"))
    assert page.find("html")[0]["lang"] == "en"


@pytest.mark.parametrize("url", ["/", "/catalogue/who-can-file/"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_inline_script_or_style(client, url, language):
    client.cookies["zairyu_lang"] = language
    response = client.get(url)
    page = layout(response)
    assert all(attrs.get("src") for attrs in page.find("script"))
    assert not page.find("style")
    assert not [a for _, a in page.tags if "style" in a]
    assert not [a for _, a in page.tags if any(name.startswith("on") for name in a)]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_stylesheet_is_served_from_our_static_files_and_credits_the_tokens(client):
    page = layout(client.get("/"))
    stylesheets = page.find("link", rel="stylesheet")
    assert [a["href"] for a in stylesheets] == ["/static/zairyu/css/zairyu.css"]
    path = finders.find("zairyu/css/zairyu.css")
    assert path
    with open(path, encoding="utf-8") as handle:
        css = handle.read()
    assert "@digital-go-jp/design-tokens" in css and "MIT" in css
    assert "--color-primitive-blue-900" in css
