"""A small HTML tree for the report tests (the standard library has a tokenizer, not a DOM).

Handles what the report uses: void elements, optional end tags of td/th/tr/li/p/thead/
tbody/option, inline SVG. Text is unescaped, as a browser shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# start tag -> open tags it closes, and the tags that stop the search
IMPLIED = {
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "tr": ({"td", "th", "tr"}, {"tbody", "thead", "tfoot", "table"}),
    "tbody": ({"td", "th", "tr", "thead", "tbody", "tfoot"}, {"table"}),
    "thead": ({"td", "th", "tr", "thead", "tbody", "tfoot"}, {"table"}),
    "li": ({"li"}, {"ul", "ol"}),
    "p": ({"p"}, {"div", "section", "details", "body"}),
    "option": ({"option"}, {"select"}),
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(
        self, tag: str | None = None, pred: Callable[[Node], bool] | None = None
    ) -> list[Node]:
        return [
            n for n in self.iter() if (tag is None or n.tag == tag) and (pred is None or pred(n))
        ]

    def find(self, tag: str | None = None, pred: Callable[[Node], bool] | None = None) -> Node:
        found = self.find_all(tag, pred)
        if not found:
            raise LookupError(f"no <{tag}> matching {pred}")
        return found[0]

    def by_id(self, ident: str) -> Node:
        return self.find(pred=lambda n: n.attrs.get("id") == ident)

    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return "".join(parts)

    def clean_text(self) -> str:
        return re.sub(r"\s+", " ", self.text()).strip()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def _close_implied(self, tag: str) -> None:
        rule = IMPLIED.get(tag)
        if not rule:
            return
        closes, stops = rule
        cut = None
        for i in range(len(self.stack) - 1, 0, -1):
            t = self.stack[i].tag
            if t in stops:
                break
            if t in closes:
                cut = i  # keep looking: a <tr> closes the open <td> and its own <tr>
        if cut is not None:
            del self.stack[cut:]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close_implied(tag)
        node = Node(tag, dict(attrs), parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), parent=self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def number(text: str) -> Decimal:
    """'$1,234.50' / '1,234' / '-$5.00' -> Decimal."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    return Decimal(cleaned)


def table_rows(table: Node, section: str = "tbody") -> list[list[Node]]:
    body = table.find(section)
    return [
        [c for c in row.children if isinstance(c, Node) and c.tag in ("td", "th")]
        for row in body.children
        if isinstance(row, Node) and row.tag == "tr"
    ]


def headers(table: Node) -> list[str]:
    head = table.find("thead")
    row = head.find("tr")
    return [c.clean_text() for c in row.children if isinstance(c, Node) and c.tag == "th"]
