"""
Text input files (metadata CSVs, beta tables, array matrices), read as UTF-8 lines with errors that name the file
and line: a binary, UTF-16 or truncated gzip file is a `ValueError` saying so, never a UnicodeDecodeError or
EOFError from deep inside. `.gz` files are decompressed as they are read; a UTF-8 byte-order mark is dropped.
"""

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

MISSING_VALUES = {"", "NA", "NaN", "nan", "null", "NULL", "."}
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII, no '1_0', no 'inf'


def text_lines(path):
    """Yield the lines of a text file (`.gz` decompressed), newline kept; undecodable content names file and line."""
    path = Path(path)
    number = 0
    try:
        with (gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")) as handle:
            for number, raw in enumerate(handle, 1):
                if b"\x00" in raw:
                    raise ValueError(f"{path}:{number}: a NUL byte: a binary or UTF-16 file, not UTF-8 text")
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ValueError(f"{path}:{number}: not UTF-8 text (a binary or UTF-16 file?)") from None
                yield line.lstrip("\ufeff") if number == 1 else line
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{path}: a truncated or corrupt gzip file after line {number} ({error})") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error})") from None


def first_line(path) -> str:
    """The first line of a text file ('' if empty), with the same errors as `text_lines`."""
    lines = text_lines(path)
    try:
        return next(lines, "")
    finally:
        lines.close()


def beta_value(text: str, where: str) -> float:
    """A beta value in [0, 1], or NaN for a missing-value marker (`MISSING_VALUES`); anything else names `where`."""
    text = text.strip()
    if text in MISSING_VALUES:
        return np.nan
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{where}: {text[:40]!r} is not a number (a beta value in [0, 1], or NA / empty for missing)")
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}: beta value {value:g} outside [0, 1] (M-values or percentages? convert to beta values)")
    return value
