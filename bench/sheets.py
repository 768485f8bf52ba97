"""Count the demo school's printed sheets and how full each one is.

Generates the demo export (or reads ``--export``), renders every class, and prints
per class the sheets of its journal bundle (numbered sheets, without the
unnumbered certification sheet) and of its summary statement, then the fill
distribution of all those sheets.

Fill of a sheet: how far down its content area the printed text reaches, read
back from the PDF with ``pdftotext -bbox`` (poppler-utils, the word boxes of each
page). The content area of a document is measured, not assumed: for each page
size and orientation of the document, from the highest word top to the lowest
word bottom over all of its pages (so the running head and the sheet number are
inside it and a changed margin changes nothing). A sheet's fill is (its lowest
word bottom − area top) / area height. A table's ruling below its last text line
is not counted, so a fill is a slight underestimate. «Last of a section» means
the last sheet of a contents line of the title sheet (class list, a subject,
attendance, statement copy) or of the statement.

    .venv/bin/python bench/sheets.py [--classes 12] [--seed 1] [--workers 2] [--export FILE]
        [--keep DIR] [--low]   # --low lists the sheets under 40 % that are not a section's last
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import demo_export

LOW = 0.40
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
CONTENTS_LINE = re.compile(r"^(.+?)\s+(\d+)(?:\s*[–-]\s*(\d+))?\s*$")


def page_extents(pdf: Path) -> list[tuple[tuple[float, float], float, float]]:
    """Per page: (size, top of its highest word, bottom of its lowest word) in points.

    The sheet number (the page's number alone in an outer corner) is not counted.
    """
    text = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages: list[tuple[tuple[float, float], float, float]] = []
    for number, chunk in enumerate(text.split("<page ")[1:], start=1):
        size_match = PAGE.match("<page " + chunk)
        assert size_match is not None
        size = (float(size_match[1]), float(size_match[2]))
        tops, bottoms = [], []
        for w in WORD.finditer(chunk):
            corner = float(w[1]) > 0.85 * size[0] and not (
                0.12 * size[1] < float(w[2]) < 0.88 * size[1]
            )
            if corner and w[5].strip() == str(number):
                continue
            tops.append(float(w[2]))
            bottoms.append(float(w[4]))
        pages.append((size, min(tops, default=0.0), max(bottoms, default=0.0)))
    return pages


def fills(pdf: Path) -> list[float]:
    """The fill of every page of a PDF (see the module's docstring)."""
    pages = page_extents(pdf)
    area: dict[tuple[float, float], tuple[float, float]] = {}
    for size, top, bottom in pages:
        low, high = area.get(size, (top, bottom))
        area[size] = (min(low, top), max(high, bottom))
    out = []
    for size, _, bottom in pages:
        top, end = area[size]
        out.append(max(0.0, (bottom - top) / (end - top)) if end > top else 0.0)
    return out


def sections_of(doc: Any) -> list[tuple[str, int, int]]:
    """The document's sections; for a renderer that does not report them, the title sheet's contents."""
    known = getattr(doc, "sections", ())
    if known:
        return list(known)
    if doc.kind != "class_journal":
        return [("statement", 1, doc.sheets)]
    title = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(doc.path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = [("Титульный лист", 1, 1)]
    for line in title.splitlines():
        m = CONTENTS_LINE.match(line.strip())
        if m and not line.strip().startswith("Всего"):
            first = int(m[2])
            found.append((m[1], first, int(m[3] or first)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--export", type=Path, help="an export to render instead of the demo")
    parser.add_argument("--keep", type=Path, help="write the PDFs here (else a temporary folder)")
    parser.add_argument("--low", action="store_true", help="list the under-filled sheets")
    args = parser.parse_args()

    from archiver.parallel import cores
    from archiver.render.batch import render_classes

    with tempfile.TemporaryDirectory() as tmp:
        export = demo_export(Path(tmp), args.export, args.seed, args.classes)
        out = args.keep or Path(tmp) / "out"
        documents = render_classes(export, out, workers=args.workers or cores())
        per_class: dict[str, dict[str, int]] = defaultdict(dict)
        all_fills: list[float] = []
        low_inner: list[str] = []
        for doc in documents:
            per_class[doc.class_id][doc.kind] = doc.sheets
            page_fill = fills(doc.path)[: doc.sheets]  # the certification sheet is not counted
            all_fills += page_fill
            last_sheets = {last for _, _, last in sections_of(doc)}
            for sheet, fill in enumerate(page_fill, start=1):
                if fill < LOW and sheet not in last_sheets:
                    low_inner.append(f"{doc.class_id} {doc.kind} sheet {sheet}: {fill:.0%}")

    print(f"{'class':<10} {'bundle':>7} {'statement':>10}")
    for class_id, kinds in per_class.items():
        statement = kinds.get("final_marks")
        print(
            f"{class_id:<10} {kinds.get('class_journal', 0):>7} "
            f"{statement if statement is not None else '—':>10}"
        )
    bundle = sum(k.get("class_journal", 0) for k in per_class.values())
    statements = sum(k.get("final_marks", 0) for k in per_class.values())
    print(f"{'total':<10} {bundle:>7} {statements:>10}   sheets: {bundle + statements}")
    print("fill of the sheets (share of the content area down to the lowest text line):")
    for decile in range(10):
        low, high = decile / 10, (decile + 1) / 10
        n = sum(low <= f < high or (decile == 9 and f >= 1) for f in all_fills)
        print(f"  {low:4.0%}–{high:4.0%}: {n:5d} {'#' * round(60 * n / max(len(all_fills), 1))}")
    under = sum(f < LOW for f in all_fills)
    print(
        f"under {LOW:.0%}: {under} of {len(all_fills)} sheets; "
        f"of them not the last sheet of a section: {len(low_inner)}"
    )
    if args.low:
        print("\n".join(low_inner))


if __name__ == "__main__":
    main()
