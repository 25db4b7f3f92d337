"""Text files that are not UTF-8: UTF-16 is recognised by its byte-order mark and `--encoding` names
any other; the file is then re-encoded as UTF-8 into the load's scratch directory (streamed, never
held whole) and read from there. A file that is neither gets a message naming the first line and
column that is not UTF-8, the encoding it looks like, and how to convert it.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from dashboard.store.readers import InputError

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_UTF8 = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"}
_CHUNK = 1 << 20


def bom_encoding(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def as_utf8(path: Path, encoding: str | None, scratch: Path) -> Path:
    """`path` itself when it is (meant to be) UTF-8; otherwise a UTF-8 copy with the same name."""
    if not path.is_file():
        return path  # read_input names the problem
    encoding = encoding or bom_encoding(path)
    if encoding is None or encoding.lower() in _UTF8:
        return path
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError([f"{path.name}: unknown encoding {encoding!r}; expected a name such as utf-8, "
                          "utf-16, latin-1 or cp1252"]) from None
    out_dir = scratch / "utf8"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / path.name
    line = 1
    try:
        with path.open("r", encoding=encoding, newline="") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk.lstrip("\ufeff") if line == 1 else chunk)
                line += chunk.count("\n")
    except UnicodeError as exc:
        raise InputError([f"{path.name}, line {line}: cannot be read as {encoding} ({exc.reason}); expected "
                          f"text in {encoding}"]) from None
    return out


def not_utf8(path: Path) -> str | None:
    """A message naming the first line and column that is not UTF-8, or None when the file is UTF-8."""
    if not path.is_file() or bom_encoding(path) or path.suffix.lower() in (".parquet", ".pq"):
        return None
    header: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if b"\x00" in raw:  # valid UTF-8, but no text file of ours holds NUL: UTF-16 without its mark
                return (f"{path.name}, line {number}: found NUL bytes; expected UTF-8 text. It looks like UTF-16 "
                        "without a byte-order mark: pass --encoding utf-16-le (or utf-16-be), or convert it with "
                        f"`iconv -f utf-16-le -t utf-8 {path.name} > {path.stem}-utf8{path.suffix}`")
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return _describe(path, number, raw, exc, header)
            if number == 1:
                header = next(csv.reader([text], delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])
    return None


def _describe(path: Path, number: int, raw: bytes, exc: UnicodeDecodeError, header: list[str]) -> str:
    found = raw[exc.start:exc.end]
    guess, enc = "Latin-1 / Windows-1252 (a spreadsheet export)", "cp1252"
    column = ""
    if header and number > 1:
        fields = next(csv.reader([raw.decode("latin-1")],
                                 delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])
        offset = 0
        for i, field in enumerate(fields):
            offset += len(field.encode("latin-1")) + 1
            if offset > exc.start and i < len(header):
                column = f", column {header[i]!r}"
                break
    return (f"{path.name}, line {number}{column}: found bytes {found!r} that are not UTF-8; expected UTF-8 text. "
            f"It looks like {guess}: pass --encoding {enc}, or convert it with "
            f"`iconv -f {enc} -t utf-8 {path.name} > {path.stem}-utf8{path.suffix}`")
