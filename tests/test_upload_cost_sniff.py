"""The upload path's signature look-up (attachments/file_identity.py, `_magic_string`) must give
exactly what `puremagic.magic_string` gives: the same matches, confidences and order, for every
signature puremagic knows, at its place in a head, with and without a file name."""

import random

import puremagic
import puremagic.main as puremagic_main
import pytest

from attachments.file_identity import (
    _HEADER_INDEX,
    _ext_from_filename,
    _magic_string,
    sniff_mime,
)


def _expected(head: bytes, filename: str | None) -> object:
    try:
        return list(puremagic.magic_string(head, filename=filename))
    except (puremagic.PureError, ValueError) as error:
        return type(error)


def _ours(head: bytes, filename: str | None) -> object:
    try:
        return _magic_string(head, filename)
    except (puremagic.PureError, ValueError) as error:
        return type(error)


def _heads() -> list[tuple[bytes, str | None]]:
    rng = random.Random(11)
    cases: list[tuple[bytes, str | None]] = []
    for row in puremagic_main.magic_header_array:
        filler = bytes(rng.randrange(256) for _ in range(max(64, row.offset + 64)))
        head = filler[: row.offset] + row.byte_match + filler[row.offset + len(row.byte_match) :]
        name = f"file{row.extension}" if row.extension else None
        cases += [(head, name), (head, None), (head[: row.offset + len(row.byte_match)], name)]
        # Its continuations (multi-part signatures) after it, where puremagic has any.
        for extra in puremagic_main.multi_part_dict.get(row.byte_match, []):
            if extra.offset >= 0:
                longer = bytearray(head + bytes(max(0, extra.offset + 64 - len(head))))
                longer[extra.offset : extra.offset + len(extra.byte_match)] = extra.byte_match
                cases.append((bytes(longer), name))
            else:
                cases.append((head + bytes(600) + extra.byte_match, name))
    for row in puremagic_main.magic_footer_array:
        tail = bytes(rng.randrange(256) for _ in range(700))
        end = len(tail) + row.offset
        head = tail[:end] + row.byte_match + tail[end + len(row.byte_match) :]
        cases.append((head, None))
    # Heads that match many signatures at once, at several offsets: the order of ties.
    rows = [row for row in puremagic_main.magic_header_array if row.offset + 32 < 2048]
    for _ in range(400):
        head = bytearray(bytes(rng.randrange(256) for _ in range(2048)))
        for row in rng.sample(rows, 6):
            head[row.offset : row.offset + len(row.byte_match)] = row.byte_match
        cases.append((bytes(head), rng.choice([None, "a.zip", "b.bin", "c.tar"])))
    for fill in (0, 0xFF, 0x20):
        cases.append((bytes([fill]) * 8192, None))
    for size in (1, 2, 3, 7, 100, 8192):
        for _ in range(40):
            cases.append((bytes(rng.randrange(256) for _ in range(size)), "report.bin"))
    return cases


def test_the_index_is_built() -> None:
    # None would mean puremagic's tables changed shape and every sniff takes the slow path.
    assert _HEADER_INDEX is not None


@pytest.mark.parametrize("chunk", range(8))
def test_same_matches_as_puremagic(chunk: int) -> None:
    cases = _heads()
    for head, name in cases[chunk::8]:
        assert _ours(head, name) == _expected(head, name), (head[:32], name)


def test_sniff_of_random_and_known_bytes() -> None:
    assert sniff_mime(b"\x89PNG\r\n\x1a\n" + bytes(100), "x.png") == "image/png"
    assert sniff_mime(b"\xff\xd8\xff\xe0" + bytes(100), "") == "image/jpeg"
    assert sniff_mime(bytes(range(256)) * 4, "report.bin") == "application/octet-stream"


def test_extension_as_puremagic_finds_it() -> None:
    """The file name's extension as `puremagic.main.ext_from_filename` gives it: every double
    extension its signatures name, with any case, path or base before it, and the odd ones."""
    known = {
        row.extension
        for row in (*puremagic_main.magic_header_array, *puremagic_main.magic_footer_array)
    }
    doubles = sorted(ext for ext in known if ext.count(".") > 1)
    assert doubles  # .tar.gz and the like: the branch is exercised
    names = ["", ".", "..", "a", "a.", ".bin", "a.b.c", "report.BIN", "dir/x.y/z", "ü.ÄÖ"]
    for ext in sorted(known):
        names += [f"f{ext}", f"F{ext.upper()}", f"a/b{ext}", f"{ext}", f"x{ext}.bak", f"ab{ext}"]
    names += [f"x{ext[1:]}" for ext in doubles] + [f"{ext}{ext}" for ext in doubles]
    for name in names:
        assert _ext_from_filename(name) == puremagic_main.ext_from_filename(name), name
