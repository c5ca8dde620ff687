"""A report document as an A4 PDF, rendered by WeasyPrint from templates/reports/print.html, which
includes the same partial as the page (reports/_document.html): the figures cannot disagree.

Generated text is in the active language; the task that generates archived reports activates
settings.LANGUAGE_CODE (zh-hans). Fonts are the system's CJK fonts (Debian's fonts-noto-cjk, found
through fontconfig), as for the recommendation form.
"""

from __future__ import annotations

import gc
import re
import threading
from contextlib import contextmanager
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reports.document import ReportDocument


def generated_label(document: ReportDocument) -> str:
    """When the figures were computed, in local time ("2026-11-03 14:05")."""
    try:
        moment = datetime.fromisoformat(document.generated_at)
    except (TypeError, ValueError):
        return document.generated_at or ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "Y-m-d H:i")


def _css_string(text: str) -> str:
    """A CSS string literal that cannot end the string, nor the <style> element it is written into."""
    escaped = "".join(ch if ch.isalnum() or ch in " /·:-()" else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


def page_counter_css() -> str:
    """The CSS `content` of the page footer, "第 1 页 / 共 3 页" in Chinese: the translated sentence
    with its two placeholders turned into CSS page counters."""
    sentence = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", sentence):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def render_print_html(document: ReportDocument) -> str:
    return render_to_string(
        "reports/print.html",
        {
            "document": document,
            "generated": generated_label(document),
            "page_counter": page_counter_css(),
        },
    )


_fonts = threading.local()


def _font_config():
    """WeasyPrint's font configuration, made once a thread (a Pango font map is not to be shared between
    threads) and kept: a new one each PDF, WeasyPrint's default, reloads fontconfig's configuration and
    starts a new Pango font map whose fonts and glyph caches are cold again (a worker printing a
    province's 38 county reports paid that 38 times)."""
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


@contextmanager
def _collected_once():
    """Python's cyclic garbage collector held off while WeasyPrint renders, then run once on what the
    rendering allocated. A county report's rendering makes some hundred thousand boxes and styles, all
    alive until the PDF is written: the collections their allocation set off found nothing to free, and
    promoted them into full collections that went through the whole process (its Django too) each time,
    about a tenth of the rendering's time. The generation collected after is the one the rendering
    filled, and it frees the rendering's reference cycles as soon as the PDF is made (the process's peak
    memory is no higher). Left alone where collection was already off; a thread rendering while another
    one turns collection back on is only slower."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def render_pdf(document: ReportDocument) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only the generation needs.
    from weasyprint import HTML

    html = render_print_html(document)
    with _collected_once():
        return HTML(string=html).write_pdf(font_config=_font_config())
