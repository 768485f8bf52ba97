"""The two layout engines: Typst for the year's documents, WeasyPrint for the Jinja2 HTML ones.

Typst lays out every page of a class's documents (the journal bundle and the
statement) and the year's inventory; WeasyPrint the extract and the disposal acts. Both
produce PDF/A-3b parts with embedded font subsets of Liberation Serif; the parts
are joined by :mod:`archiver.render.pdf`. One :class:`Engines` per process keeps
the expensive state (the Typst compiler with its fonts loaded, WeasyPrint's font
configuration, made at its first use) for all the documents it renders.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from archiver.data import builtin
from archiver.errors import ArchiverError, ExitCode

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where an element with an ``id`` landed: page index and box in PDF points.

    The box is ``(x1, y1, x2, y2)`` from the page's bottom-left corner.
    """

    page: int
    box: tuple[float, float, float, float]


MM = 72 / 25.4

BOX_SIZES = {"signature-mark": (92 * MM, 32 * MM)}
"""The size in points of the boxes Typst templates label (the signature mark's room)."""


def _points(length: str) -> float:
    """A Typst length as queried («70.87pt») in points."""
    return float(length.removesuffix("pt"))


def _page_height(pdf: bytes, index: int) -> float:
    import io

    from pypdf import PdfReader

    return float(PdfReader(io.BytesIO(pdf)).pages[index].mediabox.height)


class RenderError(ArchiverError):
    """A document could not be laid out."""

    exit_code = ExitCode.FAILURE


def templates_dir() -> Path:
    """Where the templates live: ``$ARCHIVER_TEMPLATES`` or the built-in ones (package data)."""
    override = os.environ.get("ARCHIVER_TEMPLATES")
    if override:
        return Path(override)
    return builtin("templates")


def _font_dirs() -> list[str]:
    found = [str(d) for d in FONT_DIRS if d.is_dir()]
    if not found:
        raise RenderError(
            "не найден шрифт Liberation Serif (пакет Debian fonts-liberation2); "
            "установите его: scripts/setup"
        )
    return found


class Engines:
    """Renders Typst templates and HTML templates (WeasyPrint) to PDF/A-3b bytes."""

    def __init__(self, template_root: Path | None = None) -> None:
        self.root = template_root or templates_dir()
        if not (self.root / "base.css").is_file():
            raise RenderError(f"не найдены шаблоны документов в папке {self.root}")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.root),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.css = (self.root / "base.css").read_text(encoding="utf-8")
        self._fonts: Any = None
        self._typst: Any = None

    def html(self, template: str, context: dict[str, Any]) -> bytes:
        """Render a Jinja2 HTML template to a PDF/A-3b part."""
        return self.html_with_anchors(template, context)[0]

    def html_with_anchors(
        self, template: str, context: dict[str, Any]
    ) -> tuple[bytes, dict[str, Anchor]]:
        """Render a template; also return where each element with an ``id`` landed."""
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

        if self._fonts is None:  # WeasyPrint is loaded only by the documents that need it
            self._fonts = FontConfiguration()
        try:
            text = self.env.get_template(template).render(css=self.css, **context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"ошибка в шаблоне {template}: {exc}") from exc
        document = HTML(string=text, base_url=str(self.root)).render(font_config=self._fonts)
        anchors: dict[str, Anchor] = {}
        for index, page in enumerate(document.pages):
            height = page.height * 0.75
            for name, (x1, y1, x2, y2) in page.anchors.items():
                # CSS px (1/96 in) from the top-left; PDF points (1/72 in) from the bottom-left
                anchors[name] = Anchor(
                    index, (x1 * 0.75, height - y2 * 0.75, x2 * 0.75, height - y1 * 0.75)
                )
        pdf = document.write_pdf(pdf_variant="pdf/a-3b", uncompressed_pdf=False)
        assert pdf is not None
        return bytes(pdf), anchors

    def typst(self, template: str, data: dict[str, Any]) -> bytes:
        """Compile a Typst template with ``data`` (as JSON in ``sys.inputs.data``) to a PDF/A-3b part."""
        return self.typst_with_anchors(template, data, ())[0]

    def typst_with_anchors(
        self, template: str, data: dict[str, Any], names: tuple[str, ...] = ("signature-mark",)
    ) -> tuple[bytes, dict[str, Anchor]]:
        """Compile a Typst template; also return where each labelled box of ``names`` landed.

        The template marks a box with ``#context [#metadata(here().position()) <name>]``
        as the box's first content; the box's size is the one of :data:`BOX_SIZES`.
        """
        pdf = self._compile_typst(template, data)
        anchors: dict[str, Anchor] = {}
        for name in names:
            found = json.loads(self._typst.query(f"<{name}>", field="value"))
            if not found:
                continue
            where = found[0]
            page = int(where["page"]) - 1
            width, height = BOX_SIZES.get(name, (0.0, 0.0))
            x, y = _points(where["x"]), _points(where["y"])
            page_height = _page_height(pdf, page)
            anchors[name] = Anchor(page, (x, page_height - y - height, x + width, page_height - y))
        return pdf, anchors

    def _compile_typst(self, template: str, data: dict[str, Any]) -> bytes:
        import typst

        path = self.root / template
        if not path.is_file():  # e.g. a school's own folder copied before the template existed
            raise RenderError(
                f"нет шаблона {template} в папке шаблонов {self.root}; "
                f"возьмите его из шаблонов archiver: {builtin('templates') / template}"
            )
        if self._typst is None:
            self._typst = typst.Compiler(
                str(path), font_paths=_font_dirs(), ignore_system_fonts=True
            )
        try:
            pdf = self._typst.compile(
                input=str(path),
                sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
                pdf_standards=["a-3b"],
                pdf_tags=False,
            )
        except RuntimeError as exc:
            raise RenderError(f"ошибка вёрстки {template}: {exc}") from exc
        return bytes(pdf)
