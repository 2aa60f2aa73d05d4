"""Text from stored files: plain text, Markdown, JSON, CSV, HTML (text only), PDF and DOCX.

Runs in the background worker, never inside an upload request. Files are spooled from storage
into a temporary file (memory up to a few MiB, then disk), because PDF and DOCX readers need
to seek. Anything unsupported or corrupt raises `ExtractionError`, which the caller records as
`index_error`; the file itself keeps working.
"""

import codecs
import html.parser
import tempfile
from collections.abc import Callable
from typing import IO

from django.conf import settings

from attachments import storage
from attachments.file_types import is_textual

SPOOL_IN_MEMORY = 4 * 1024 * 1024


class ExtractionError(Exception):
    pass


class _TextOnly(html.parser.HTMLParser):
    """Collects the visible text of an HTML document (no scripts, styles or markup)."""

    SKIP = {"script", "style", "noscript", "template", "head"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _utf8(file: IO[bytes]) -> str:
    decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
    parts = [decoder.decode(chunk) for chunk in iter(lambda: file.read(1024 * 1024), b"")]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def _pdf(file: IO[bytes]) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(file)
        return "\n".join(page.extract_text() or "" for page in reader.pages).strip()
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ExtractionError(f"unreadable PDF: {error}") from error


def _docx(file: IO[bytes]) -> str:
    import zipfile

    import docx

    try:
        document = docx.Document(file)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ExtractionError(f"unreadable DOCX: {error}") from error
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(part for part in paragraphs if part.strip())


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _html(file: IO[bytes]) -> str:
    return html_to_text(_utf8(file))


def extractor_for(mime_type: str) -> Callable[[IO[bytes]], str] | None:
    base = mime_type.split(";", 1)[0].strip().lower()
    if base == "application/pdf":
        return _pdf
    if base == DOCX:
        return _docx
    if base in {"text/html", "application/xhtml+xml"}:
        return _html
    if is_textual(base):
        return _utf8
    return None


def _extractor(mime_type: str) -> Callable[[IO[bytes]], str]:
    extractor = extractor_for(mime_type)
    if extractor is None:
        raise ExtractionError(f"no text extractor for {mime_type}")
    return extractor


def extract_from_storage(key: str, mime_type: str, size: int) -> str:
    """The text of the stored file `key`; never more than a bounded amount in memory."""
    extractor = _extractor(mime_type)
    if size > settings.DEPOT_INDEX_MAX_BYTES:
        raise ExtractionError(f"file of {size} bytes is over the indexing limit")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        for chunk in storage.read_chunks(key):
            spool.write(chunk)
        spool.seek(0)
        return extractor(spool)[: settings.DEPOT_INDEX_MAX_CHARS]  # type: ignore[arg-type]


def extract_from_text(text: str, mime_type: str) -> str:
    """Inline artifact content: HTML is reduced to its text, the rest is taken as it is."""
    if extractor_for(mime_type) is _html:
        return html_to_text(text)[: settings.DEPOT_INDEX_MAX_CHARS]
    return text[: settings.DEPOT_INDEX_MAX_CHARS]
