"""CSV records counted without the parser, and the careful reader (contract: "Rejected rows").

DuckDB and Spark read a CSV file fast, but neither can be trusted to find its
records when the file is broken: a quote opened and never closed makes them take
the rest of the file as one record (rejected, so every record after it vanishes),
and two stray quotes can even merge the records between them into one that parses.
So the job counts each file's physical lines itself and reconciles:

* `count_lines` reads the bytes once (4 MB blocks, C-speed newline count, no
  parsing) and checks that they are valid in the file's encoding (an ASCII block
  is checked in one call). It runs beside the parser, in a thread.
* A file reconciles when its records (accepted by the parser + rejected by it)
  are its physical lines less the header, and its bytes decode: every record is
  then one line, and nothing can have been swallowed. That is the fast path:
  no Python per line.
* Any other file (a record spanning lines, a blank line, undecodable bytes, or an
  encoding other than UTF-8 configured for its table) is read by `read_careful`:
  line by line, in Python, with the parser's dialect (comma, double quotes, a
  doubled quote inside quotes, spaces around a quoted value ignored). A record
  whose quote stays open runs on to later lines only as a real multi-line value
  would: when the quote closes within `MAX_RECORD_BYTES`, no line on the way is a
  complete record by itself, and the joined text has the header's number of
  fields. Otherwise the quote is stray: the record is its first line alone,
  rejected as malformed, and reading resumes with the next line.

Blank lines are not records (both parsers skip them). A rejected record keeps
its record number and physical line numbers, never its text (`BadRecord`).
"""

from __future__ import annotations

import codecs
import gzip
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

# A record longer than this is not a quoted value running on (DuckDB's max_line_size).
MAX_RECORD_BYTES = 2_097_152
BATCH_ROWS = 100_000
BLOCK = 1 << 22

OK, OPEN, UNQUOTED = "ok", "open", "unquoted"


@dataclass(frozen=True)
class LineCount:
    """What `count_lines` found: physical lines (the header's included) and whether every
    byte is valid in the encoding."""

    lines: int
    decodable: bool

    def reconciles(self, records: int) -> bool:
        """Whether `records` data records (as a parser counted them) are exactly the file's
        lines less the header line: then no record can have swallowed another."""
        return self.decodable and records == self.lines - 1


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be parsed: where it is, why, never what it says."""

    record_number: int
    first_line: int
    last_line: int
    error_type: str  # unclosed quote, missing columns, too many columns, unquoted value, ...
    message: str
    fields_in_record: int | None = None

    @property
    def lines(self) -> str:
        """Its physical line numbers as text: '101' or '101-103'."""
        if self.first_line == self.last_line:
            return str(self.first_line)
        return f"{self.first_line}-{self.last_line}"


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes (a .gz file decompressed)."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def count_lines(path: Path, encoding: str = "utf-8") -> LineCount:
    """Physical lines of `path` (a last line without a line break counts) and whether its
    bytes decode in `encoding`. Reads 4 MB blocks; never parses."""
    lines = 0
    last = b"\n"
    decodable = True
    decoder = codecs.getincrementaldecoder(encoding)()
    ascii_safe = codecs.lookup(encoding).name in ("utf-8", "cp1252", "iso8859-1", "latin-1")
    with open_binary(path) as fh:
        while block := fh.read(BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
            if decodable and not (ascii_safe and block.isascii()):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    decodable = False
    if decodable:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            decodable = False
    if last != b"\n":
        lines += 1
    return LineCount(lines=lines, decodable=decodable)


def split_record(text: str) -> tuple[str, list[str]]:
    """The fields of one record's text, in the parsers' dialect: comma-separated, a value
    in double quotes may hold commas, line breaks and doubled quotes, spaces around a
    quoted value are dropped, a quote inside an unquoted value is a character; an empty
    value ('' or "") is missing (the reader makes it NULL). Returns (state, fields):
    state OK, OPEN (a quoted value runs past the end of the text) or UNQUOTED (text
    after a closing quote)."""
    if '"' not in text:
        return OK, text.split(",")
    fields: list[str] = []
    pos, n = 0, len(text)
    while True:
        start = pos
        while start < n and text[start] == " ":
            start += 1
        if start < n and text[start] == '"':
            parts = []
            k = start + 1
            while True:
                j = text.find('"', k)
                if j < 0:
                    return OPEN, fields
                if j + 1 < n and text[j + 1] == '"':
                    parts.append(text[k : j + 1])
                    k = j + 2
                    continue
                parts.append(text[k:j])
                break
            fields.append("".join(parts))
            pos = j + 1
            while pos < n and text[pos] == " ":
                pos += 1
            if pos == n:
                return OK, fields
            if text[pos] != ",":
                return UNQUOTED, fields
            pos += 1
        else:
            j = text.find(",", pos)
            if j < 0:
                fields.append(text[pos:])
                return OK, fields
            fields.append(text[pos:j])
            pos = j + 1


def field_count(text: str | None) -> int | None:
    """How many fields the first line of `text` splits into (None without text)."""
    if text is None:
        return None
    first = text.split("\n", 1)[0].rstrip("\r")
    return len(split_record(first)[1])


def _split_break(raw: bytes) -> tuple[bytes, str]:
    """A physical line's body and its line break ("\r\n", "\n" or "" at the end)."""
    if raw.endswith(b"\r\n"):
        return raw[:-2], "\r\n"
    return (raw[:-1], "\n") if raw.endswith(b"\n") else (raw, "")


class _Lines:
    """Physical lines of a file, decoded, numbered from 1, with look-ahead."""

    def __init__(self, fh: BinaryIO, encoding: str) -> None:
        self._fh = fh
        self._encoding = encoding
        # (text or None when it does not decode, size in bytes, line break)
        self._buffer: list[tuple[str | None, int, str]] = []
        self._first = 1  # line number of _buffer[0]
        self._eof = False

    def get(self, number: int) -> tuple[str | None, int, str] | None:
        """Line `number` (text without its line break, None when it does not decode; its
        size in bytes; its line break), or None past the end of the file."""
        while number - self._first >= len(self._buffer):
            if self._eof:
                return None
            raw = self._fh.readline()
            if not raw:
                self._eof = True
                return None
            body, brk = _split_break(raw)
            try:
                text: str | None = body.decode(self._encoding)
            except UnicodeDecodeError:
                text = None
            self._buffer.append((text, len(raw), brk))
        return self._buffer[number - self._first]

    def release(self, before: int) -> None:
        """Forget the lines numbered below `before`."""
        drop = before - self._first
        if drop > 0:
            del self._buffer[:drop]
            self._first = before

    def joined(self, first: int, last: int) -> str:
        """Lines first..last (all decodable) with the line breaks between them."""
        parts = []
        for i in range(first, last + 1):
            text, _, brk = self.get(i)  # type: ignore[misc]
            parts.append(text if i == last else text + brk)  # type: ignore[operator]
        return "".join(parts)  # type: ignore[arg-type]


@dataclass
class _Record:
    first_line: int
    last_line: int
    fields: list[str] | None  # None: malformed
    error_type: str = ""
    message: str = ""
    n_fields: int | None = None


def _records(lines: _Lines, n_columns: int, encoding: str, start: int) -> Iterator[_Record]:
    """The records from physical line `start` on (blank lines skipped)."""
    i = start
    while True:
        line = lines.get(i)
        if line is None:
            return
        lines.release(i)
        text, size, _ = line
        if text is None:
            yield _Record(i, i, None, "invalid encoding", f"bytes that are not valid {encoding}")
            i += 1
            continue
        if text in ("", "\r"):
            i += 1
            continue
        state, fields = split_record(text)
        if state == OPEN:
            record = _run_on(lines, i, text, size, n_columns)
            if record is None:
                yield _Record(
                    i, i, None, "unclosed quote",
                    "a quoted value is never closed (the quote is taken as stray; "
                    "reading resumes with the next line)",
                    len(fields) + 1,
                )  # fmt: skip
                i += 1
                continue
            yield record
            i = record.last_line + 1
            continue
        yield _checked(i, i, state, fields, n_columns)
        i += 1


def _run_on(lines: _Lines, first: int, text: str, size: int, n_columns: int) -> _Record | None:
    """The record of a line whose quote is still open at its end, when it is a real
    multi-line value; None when the quote is stray."""
    j = first
    while True:
        j += 1
        nxt = lines.get(j)
        if nxt is None or nxt[0] is None:
            return None
        size += nxt[1]
        if size > MAX_RECORD_BYTES:
            return None
        alone_state, alone = split_record(nxt[0])
        if alone_state == OK and len(alone) == n_columns:
            return None  # the next lines are records of their own: the quote is stray
        state, fields = split_record(lines.joined(first, j))
        if state != OPEN:
            return _checked(first, j, state, fields, n_columns)


def _checked(first: int, last: int, state: str, fields: list[str], n_columns: int) -> _Record:
    if state == UNQUOTED:
        return _Record(
            first, last, None, "unquoted value",
            "text follows a closing quote (a quote inside a value must be doubled)",
        )  # fmt: skip
    if len(fields) != n_columns:
        kind = "missing columns" if len(fields) < n_columns else "too many columns"
        return _Record(
            first, last, None, kind,
            f"the record has {len(fields)} fields, the header {n_columns}", len(fields),
        )  # fmt: skip
    return _Record(first, last, fields)


def _header_end(lines: _Lines) -> int:
    """The last physical line of the header record (a quoted name may span lines)."""
    first = lines.get(1)
    if first is None or first[0] is None:
        return 1
    state, _ = split_record(first[0])
    j = 1
    while state == OPEN and (nxt := lines.get(j + 1)) is not None and nxt[0] is not None:
        j += 1
        state, _ = split_record(lines.joined(1, j))
    return j if state != OPEN else 1


def read_careful(
    path: Path,
    n_columns: int,
    wanted: dict[str, int],
    encoding: str,
    on_batch: Callable[[pa.Table], None],
    batch_rows: int = BATCH_ROWS,
) -> tuple[int, list[BadRecord]]:
    """Read `path` record by record (see the module docstring).

    `wanted` maps output column names to field positions; each batch of good records
    goes to `on_batch` as an Arrow table (``record_number`` and the wanted columns, as
    text). Returns the number of data records and the malformed ones.
    """
    names = list(wanted)
    positions = list(wanted.values())
    pick = (lambda fields: ()) if not positions else operator.itemgetter(*positions)
    picked: list = []  # the wanted fields of each good record (a tuple, or one value)
    numbers: list[int] = []
    bad: list[BadRecord] = []
    n = 0

    def flush() -> None:
        if numbers:
            if len(positions) == 1:
                columns = [picked]
            else:
                columns = list(zip(*picked, strict=True)) or [[] for _ in names]
            arrays = [pa.array(numbers, pa.int64())]
            for c in columns:
                text = pa.array(c, pa.string())
                arrays.append(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))
            on_batch(pa.Table.from_arrays(arrays, names=["record_number", *names]))
            numbers.clear()
            picked.clear()

    with open_binary(path) as fh:
        lines = _Lines(fh, encoding)
        for record in _records(lines, n_columns, encoding, _header_end(lines) + 1):
            n += 1
            if record.fields is None:
                bad.append(
                    BadRecord(
                        n, record.first_line, record.last_line, record.error_type,
                        record.message, record.n_fields,
                    )
                )  # fmt: skip
                continue
            numbers.append(n)
            picked.append(pick(record.fields))
            if len(numbers) >= batch_rows:
                flush()
    flush()
    return n, bad
