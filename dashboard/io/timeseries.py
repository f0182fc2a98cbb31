"""Measured time series per building: meter data (demand) and the output of existing PV.

The CSV format: a ``timestamp`` column (ISO 8601; hourly or 15-minute steps; one calendar
year, any year) and one column per building id holding the average power [kW] of each step.
Timestamps without a UTC offset are read on the district's clock (its fixed-offset local
standard time); timestamps with an offset are converted to it (a calendar year written in
another offset, e.g. UTC, then starts or ends a few hours beyond the district's year: those
hours wrap around to the other end). 15-minute values are averaged to
hours; in a leap year 29 February is dropped. The year is laid hour by hour onto the district's
reference year (the calendar date is kept, the weekday may shift).

Every problem is one :class:`DecentraError` naming the file, the problem and the first
offending rows or columns: gaps, duplicate or unreadable timestamps, steps other than 15 or 60
minutes, more or less than one calendar year, non-numeric, missing, negative or implausible
values, unknown building ids.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.domain.district import HOURS_PER_YEAR, timezone_of
from dashboard.domain.errors import DecentraError
from dashboard.energy.weather import hourly_index
from dashboard.io.formats import Limits, check_size
from dashboard.io.plausibility import check_values

MAX_ROWS = 366 * 24 * 4 + 100        # a leap year of 15-minute rows, a little slack
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$",
                     re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class MeasuredSeries:
    """Hourly average power [kW] per building on the district's reference year.

    ``kw``: (8760 x measured buildings), index the district's hourly index, columns building
    ids; ``year``: the calendar year of the file; ``step_minutes``: 15 or 60; ``label``: the
    file name; ``warnings``: unusual (but possible) values, for the import report;
    ``wrapped_h``: hours that the conversion to the district's clock moved across the turn of
    the year and that were wrapped around to the other end (0 without UTC offsets).
    """

    kw: pd.DataFrame
    year: int
    step_minutes: int
    label: str
    warnings: tuple[str, ...] = ()
    wrapped_h: float = 0.0


def read_measured_csv(path: str | Path, ids: Iterable[str], reference_year: int,
                      timezone: str, *, what: str = "meter data",
                      limits: Limits | None = None) -> MeasuredSeries:
    """Read and check a CSV of measured hourly or 15-minute average power per building.

    Parameters
    ----------
    path:
        The CSV file (UTF-8): a ``timestamp`` column and one column per building id [kW].
    ids:
        The district's building ids; every other column is refused.
    reference_year:
        The district's (non-leap) reference year the series is laid onto.
    timezone:
        The district's clock (``Site.timezone``): naive timestamps are read on it.
    what:
        What the values are, for messages ("meter data", "PV output").
    limits:
        Size caps (:class:`~dashboard.io.formats.Limits`).

    Returns
    -------
    MeasuredSeries
        Hourly average power [kW] (= energy [kWh] per hour), 8760 rows.

    Raises
    ------
    DecentraError
        For every problem with the file; nothing is returned half.
    """
    path = Path(path)
    label = path.name
    limits = limits or Limits()
    text, dialect, header, columns = _text_and_header(path, what, limits)
    lower = [h.lower() for h in header]

    def fail(message: str, rows: Iterable[object] | None = None) -> DecentraError:
        return DecentraError(f"{what}: {message}", source=label, rows=rows)

    known = {str(i) for i in ids}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise fail(f"{len(unknown):,} columns are not building ids of the district "
                   "(columns must be named by building id)", rows=unknown)
    stamp_col = header[lower.index("timestamp")]
    options = {"sep": dialect, "keep_default_na": False, "skipinitialspace": True,
               "engine": "c"}
    try:                        # the fast path: every cell a number
        frame = pd.read_csv(io.StringIO(text), **options,
                            dtype={stamp_col: str, **{c: np.float64 for c in columns}})
        numeric = True
    except ValueError:          # then as text, to find the first bad cells (or fail)
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str,
                                **options)
        except (pd.errors.ParserError, ValueError) as err:
            raise fail(f"not a readable CSV ({str(err).splitlines()[0][:120]})") from None
        numeric = False
    if not isinstance(frame.index, pd.RangeIndex):   # pandas took extra fields as an index
        raise fail("not a readable CSV (rows have more fields than the header)")
    frame.columns = [str(c).strip() for c in frame.columns]
    if list(frame.columns) != header:
        raise fail("the header cannot be read (quoted or unnamed columns)", rows=header[:5])
    if len(frame) == 0:
        raise fail("no rows below the header")
    stamps_text = frame[stamp_col].astype(str).str.strip()
    row_names = np.array([f"row {i + 2}" for i in range(len(frame))])   # file line numbers

    # ---- timestamps --------------------------------------------------------------------
    has_offset = stamps_text.str.contains(_OFFSET).to_numpy(bool)
    if has_offset.any() and not has_offset.all():
        raise fail("some timestamps have a UTC offset and some do not",
                   rows=row_names[has_offset != has_offset[0]])
    parsed = pd.to_datetime(stamps_text, format="ISO8601", errors="coerce",
                            utc=bool(has_offset[0]))
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise fail("timestamps that are not ISO 8601 dates and times (e.g. "
                   f"2023-01-01T00:00 or 2023-01-01 00:00+01:00): "
                   f"'{stamps_text.iloc[int(np.argmax(bad))][:40]}'", rows=row_names[bad])
    if has_offset[0]:
        parsed = parsed.dt.tz_convert(timezone_of(timezone)).dt.tz_localize(None)
    stamps = pd.DatetimeIndex(parsed)
    dup = stamps.duplicated(keep="first")
    if dup.any():
        raise fail(f"timestamps appear twice (first: {stamps[dup][0]:%Y-%m-%d %H:%M})",
                   rows=row_names[dup])
    order = np.argsort(stamps.asi8, kind="stable")
    stamps, row_names = stamps[order], row_names[order]
    step = np.diff(stamps.asi8) // 60_000_000_000 if len(stamps) > 1 else np.array([60])
    step_minutes = int(pd.Series(step).mode().iloc[0])
    if step_minutes not in (15, 60):
        raise fail(f"a step of {step_minutes} minutes; give hourly or 15-minute values")
    off = np.flatnonzero(step != step_minutes)
    if off.size:
        i = int(off[0])
        raise fail(f"a gap or uneven step: {stamps[i]:%Y-%m-%d %H:%M} is followed by "
                   f"{stamps[i + 1]:%Y-%m-%d %H:%M} ({int(step[i])} minutes, the file's step is "
                   f"{step_minutes})", rows=row_names[off + 1])
    per_hour = 60 // step_minutes
    counts = pd.Series(stamps.year).value_counts()
    year = int(counts.idxmax())
    leap = pd.Timestamp(year=year, month=12, day=31).dayofyear == 366
    expected = (8784 if leap else HOURS_PER_YEAR) * per_hour
    start = pd.Timestamp(year=year, month=1, day=1)
    # a year written with UTC offsets other than the district's: its ends move by up to
    # 14 hours across the turn of the year; those steps wrap around (the year is circular)
    shift = int((stamps[0] - start) / pd.Timedelta(minutes=step_minutes))
    wrapped = bool(has_offset[0]) and len(stamps) == expected and 0 < abs(shift) <= 14 * per_hour
    if not wrapped and len(counts) > 1:
        minor = stamps.year != year
        raise fail(f"timestamps span {len(counts)} calendar years "
                   f"({min(counts.index)} to {max(counts.index)}); give one calendar year",
                   rows=row_names[minor])
    if not wrapped and (len(stamps) != expected or stamps[0] != start):
        kind = "hourly" if step_minutes == 60 else "15-minute"
        raise fail(f"{len(stamps):,} {kind} rows from {stamps[0]:%Y-%m-%d %H:%M} to "
                   f"{stamps[-1]:%Y-%m-%d %H:%M}; one calendar year ({year}) needs {expected:,} "
                   f"from {start:%Y-%m-%d %H:%M} to 31 December "
                   f"{'23:00' if step_minutes == 60 else '23:45'}")

    # ---- values ------------------------------------------------------------------------
    if numeric and all(frame[c].dtype == np.float64 for c in columns):
        values = frame[columns].to_numpy(np.float64)[order]
        cells = None
    else:
        cells = frame[columns].astype(str).apply(lambda col: col.str.strip()
                                                 ).to_numpy(str)[order]
        blank = cells == ""
        if blank.any():
            r, c = np.nonzero(blank)
            raise fail(f"missing values (empty cells), first in column '{columns[c[0]]}'",
                       rows=row_names[r])
        values = pd.DataFrame(cells).apply(lambda col: pd.to_numeric(col, errors="coerce")
                                           ).to_numpy(np.float64)
    nonnum = ~np.isfinite(values)
    if nonnum.any():
        r, c = np.nonzero(nonnum)
        shown = (str(values[r[0], c[0]]) if cells is None else cells[int(r[0]), int(c[0])])
        raise fail(f"values that are not finite numbers in kW, first "
                   f"'{shown[:30]}' in column '{columns[c[0]]}'",
                   rows=row_names[r])
    negative = values < 0
    if negative.any():
        r, c = np.nonzero(negative)
        raise fail(f"negative values (average power must be 0 kW or more), first "
                   f"{values[r[0], c[0]]:g} kW in column '{columns[c[0]]}'", rows=row_names[r])
    try:
        warnings = check_values("power_kw", values.max(axis=0), label, "highest value",
                                columns)
    except DecentraError as err:
        raise fail(err.message, err.rows) from None
    if wrapped:                 # value i is at start + (i + shift) steps
        values = np.roll(values, shift, axis=0)
    hourly = values.reshape(-1, per_hour, len(columns)).mean(axis=1)
    if leap:
        hours = pd.date_range(start, periods=8784, freq="h")
        hourly = hourly[~((hours.month == 2) & (hours.day == 29))]
    empty = hourly.sum(axis=0) <= 0
    if empty.any():
        raise fail("buildings with no energy all year (every value 0)",
                   rows=[columns[i] for i in np.flatnonzero(empty)])
    try:
        warnings += check_values("annual_demand_kwh", hourly.sum(axis=0), label,
                                 "annual energy", columns)
    except DecentraError as err:
        raise fail(err.message, err.rows) from None
    index = hourly_index(int(reference_year), timezone)
    return MeasuredSeries(pd.DataFrame(hourly, index=index, columns=columns), year,
                          step_minutes, label, tuple(warnings),
                          shift * step_minutes / 60 if wrapped else 0.0)


def describe_measured_csv(path: str | Path, what: str = "meter data",
                          limits: Limits | None = None) -> str:
    """A first look at a measured-series CSV (encoding, header, size) for the import dialog:
    e.g. ``"3 buildings, 8,760 rows"``. The full check needs the district
    (:func:`read_measured_csv`). Raises DecentraError."""
    text, _, _, columns = _text_and_header(Path(path), what, limits or Limits())
    rows = sum(1 for line in text.splitlines()[1:] if line.strip())
    n = len(columns)
    return f"{n:,} building{'s' if n != 1 else ''}, {rows:,} rows"


def _text_and_header(path: Path, what: str, limits: Limits
                     ) -> tuple[str, str, list[str], list[str]]:
    """The file's text, its delimiter, header and building columns, checked."""
    label = path.name
    if not path.exists():
        raise DecentraError("file not found", source=label)
    check_size(path, limits)

    def fail(message: str, rows: Iterable[object] | None = None) -> DecentraError:
        return DecentraError(f"{what}: {message}", source=label, rows=rows)

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise fail(f"not UTF-8 text (byte {err.start + 1}); save the CSV as UTF-8") from None
    if "\x00" in text:
        raise fail("not a text file (it holds NUL bytes)")
    if text.count("\n") > MAX_ROWS:
        raise fail(f"more than {MAX_ROWS:,} rows; one year of 15-minute data has at most "
                   f"{366 * 96:,}")
    first = text.split("\n", 1)[0]
    dialect = ";" if first.count(";") > first.count(",") else ","
    try:
        header = next(csv.reader([first], delimiter=dialect))
    except (csv.Error, StopIteration):
        raise fail("the header line cannot be read") from None
    header = [h.strip() for h in header]
    if len(header) > limits.max_buildings + 1:
        raise fail(f"{len(header):,} columns; at most {limits.max_buildings:,} buildings")
    lower = [h.lower() for h in header]
    if "timestamp" not in lower:
        raise fail("no 'timestamp' column (the first line must name it and the building ids)",
                   rows=header[:5])
    counts = pd.Series(header).value_counts()
    repeated = list(counts.index[counts > 1])
    if repeated:
        raise fail("columns appear twice", rows=repeated)
    columns = [h for h, low in zip(header, lower, strict=True) if low != "timestamp"]
    if not columns:
        raise fail("no building columns besides 'timestamp'")
    return text, dialect, header, columns


__all__ = ["MAX_ROWS", "MeasuredSeries", "describe_measured_csv", "read_measured_csv"]
