"""Readable text from an HTML email body, for messages sent without a plain
text part. The standard library's parser: no markup is executed or fetched."""

import re
from html.parser import HTMLParser

# Elements whose start and end break the text into lines or paragraphs.
_BLOCKS = {
    "address",
    "article",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
}
_HIDDEN = {"head", "script", "style", "template", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.chunks.append("\n")
        elif tag in ("td", "th"):
            self.chunks.append("\t")
        elif tag in _BLOCKS:
            self.chunks.append("\n\n" if tag in ("p", "blockquote") else "\n")
            if tag == "li":
                self.chunks.append("- ")
            if tag == "pre":
                self._pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.chunks.append("\n\n" if tag in ("p", "blockquote") else "\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        # Outside <pre>, source line breaks and runs of spaces are layout, not text.
        self.chunks.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "".join(collector.chunks).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
