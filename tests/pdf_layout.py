"""Read a rendered PDF back: each page's lines of text with their boxes, and its filled rectangles
(a barcode's bars), so that tests check a layout by positions, not by eye."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTComponent, LTCurve, LTTextBox, LTTextLine


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def within(self, other: Box) -> bool:
        return other.x0 <= self.x0 and self.x1 <= other.x1 and other.y0 <= self.y0 and self.y1 <= other.y1

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


@dataclass(frozen=True)
class Line:
    text: str
    box: Box


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: list[Line]
    rects: list[Box]

    @property
    def box(self) -> Box:
        return Box(0, 0, self.width, self.height)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def line_with(self, fragment: str) -> Line:
        found = [line for line in self.lines if fragment in line.text]
        assert found, f"no line with {fragment!r} in:\n{self.text}"
        return found[0]

    def bars(self, *, narrower_than: float = 4.0) -> Box:
        """The box around the thin filled rectangles of a barcode."""
        thin = [rect for rect in self.rects if rect.x1 - rect.x0 <= narrower_than and rect.y1 - rect.y0 > 5]
        assert len(thin) > 20, "no barcode on the page"
        return Box(min(r.x0 for r in thin), min(r.y0 for r in thin), max(r.x1 for r in thin), max(r.y1 for r in thin))


def _box(item: LTComponent) -> Box:
    return Box(item.x0, item.y0, item.x1, item.y1)


def pages(pdf: bytes) -> list[Page]:
    result = []
    for layout in extract_pages(BytesIO(pdf), laparams=LAParams(line_margin=0.2)):
        lines: list[Line] = []
        rects: list[Box] = []
        for item in layout:
            if isinstance(item, LTTextBox):
                lines += [Line(line.get_text().strip(), _box(line)) for line in item if isinstance(line, LTTextLine)]
            elif isinstance(item, LTCurve):  # LTRect and LTLine are curves too
                rects.append(_box(item))
        result.append(Page(layout.width, layout.height, [line for line in lines if line.text], rects))
    return result


def text(pdf: bytes) -> str:
    return "\n".join(page.text for page in pages(pdf))
