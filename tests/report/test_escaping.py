"""Hostile text from the extracts shows as text; member ids stay out of the report by default."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from html_tree import Node
from report_fixtures import Rendered
from synthetic import HOSTILE, MEMBER_PREFIX

from jobs.report import render as report
from jobs.report.context.header import css_string

MEMBER_ID = re.compile(MEMBER_PREFIX + r"\d{8}")
PSEUDONYM = re.compile(r"m-[0-9a-f]{12}")
# Where each hostile value must show up, as plain text (the person id only in raw mode).
SHOWN = sorted(set(HOSTILE) - {"person_id", "first_name", "last_name", "input_path"})


@pytest.mark.parametrize("field", SHOWN)
def test_hostile_value_is_displayed_as_text(hostile: Rendered, field: str) -> None:
    value = HOSTILE[field]
    assert value in hostile.doc.text(), f"{field} does not reach the report"


def test_hostile_names_and_paths_are_displayed_as_text(hostile: Rendered) -> None:
    text = hostile.doc.text()
    assert f"{HOSTILE['first_name']} {HOSTILE['last_name']}" in text  # provider name
    assert HOSTILE["input_path"] in text  # input file path


def _elements(doc: Node) -> list[Node]:
    return [n for n in doc.iter() if n.tag != "#document"]


@pytest.mark.parametrize("which", ["hostile", "hostile_raw"])
def test_no_markup_from_the_data_becomes_markup(which: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(which)
    elements = _elements(rendered.doc)
    tags = {n.tag for n in elements}
    assert not tags & {"img", "iframe", "marquee", "u", "object", "embed", "link", "base", "form"}
    assert len([n for n in elements if n.tag == "script"]) == 1
    assert len([n for n in elements if n.tag == "style"]) == 1
    assert len([n for n in elements if n.tag == "svg"]) == 2  # the two charts
    for n in elements:
        for name, value in n.attrs.items():
            assert not name.startswith("on"), (n.tag, name, value)
            assert "javascript:" not in (value or "").lower(), (n.tag, name, value)
        if n.tag == "a":
            assert n.attrs["href"].startswith("#"), n.attrs
        if n.tag == "b":  # the report's own <b> hold statuses only
            assert n.attrs.get("class") in {"sf", "si", "sr", ""}, n.attrs
    # The payloads' own tags appear only escaped in the source.
    for marker in (
        "<script>alert(",
        "<img src=x",
        "<svg onload",
        "<iframe",
        "<marquee>",
        "<b>run16",
    ):
        assert marker not in rendered.html


def test_the_only_script_and_style_are_ours_and_allowed_by_hash(hostile: Rendered) -> None:
    doc = hostile.doc
    script = doc.find("script").text()
    style = doc.find("style").text()
    csp = doc.find("meta", lambda n: n.attrs.get("http-equiv") == "Content-Security-Policy")
    policy = csp.attrs["content"]

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert "default-src 'none'" in policy
    assert f"script-src '{digest(script)}'" in policy
    assert f"style-src '{digest(style)}'" in policy
    assert "alert(" not in script and "alert(" not in style


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_no_raw_member_ids_by_default(which: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(which)
    assert not MEMBER_ID.search(rendered.html)
    assert HOSTILE["person_id"] not in rendered.doc.text()
    drill = rendered.doc.by_id("drilldown").text()
    assert PSEUDONYM.search(drill)
    assert "INTERNAL USE" not in rendered.html


def test_member_ids_in_validation_examples_are_hidden(plain: Rendered) -> None:
    quality = plain.doc.by_id("quality").clean_text()
    assert "(member ids hidden)" in quality
    assert not MEMBER_ID.search(quality)


def test_raw_member_ids_only_on_opt_in_with_a_banner(hostile_raw: Rendered) -> None:
    doc = hostile_raw.doc
    banner = doc.find("div", lambda n: n.attrs.get("class") == "banner")
    assert "INTERNAL USE ONLY" in banner.clean_text()
    assert MEMBER_ID.search(doc.by_id("drilldown").text())
    assert HOSTILE["person_id"] in doc.by_id("drilldown").text()  # escaped, shown as text
    assert not PSEUDONYM.search(doc.by_id("drilldown").text())


def test_control_and_bidi_characters_are_neutralized() -> None:
    env = report.environment()
    out = env.from_string("{{ a }}|{{ b }}|{{ c }}").render(
        a="abc\u202edef", b="x\x00y\x1bz", c=None
    )
    assert out == "abc\ufffddef|x\ufffdy\ufffdz|"
    assert env.from_string("{{ a }}").render(a="<b>&'\"") == "&lt;b&gt;&amp;&#39;&#34;"


@pytest.mark.parametrize(
    "value",
    [
        '"; } body { display: none } @page { @top-left { content: "x',
        "</style><script>alert(1)</script>",
        "a\\\nb\r\x0c\x00c",
        "run \u202eevil\u2066",
        "20250102T020000Z-c0ffee",
    ],
)
def test_page_margin_text_is_one_css_string(value: str) -> None:
    """Issue 19: the run's strings in the printed pages' margins cannot end their CSS
    string, rule or style element, and read back as the value (controls as U+FFFD)."""
    quoted = css_string(value)
    assert re.fullmatch(r'"(?:[A-Za-z0-9 .,:\-_()+]|\\[0-9a-f]{6})*"', quoted), quoted
    decoded = re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m.group(1), 16)), quoted[1:-1])
    assert decoded == "".join(c if c.isprintable() else "\ufffd" for c in value)


def test_hostile_run_id_reaches_the_page_margins_escaped(hostile: Rendered) -> None:
    style = hostile.doc.find("style").text()
    assert css_string(f"Cervical ESI claims audit, run {HOSTILE['run_id']}") in style
    assert HOSTILE["run_id"] not in style
