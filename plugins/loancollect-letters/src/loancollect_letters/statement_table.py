"""The statement of account's table of instalments, flowing over as many pages as it needs.

A statement that fits on a page is kept whole, with its totals: when it does not fit
below the letter's text it moves, whole, to the next page. A longer one (a loan of 36
to 60 instalments far in arrears) is split between rows, the way a ledger is:

- each page but the last ends with a *Carried forward* row (转下页): the sums of every
  amount column over the rows so far;
- each following page repeats the column headings and starts with a *Brought
  forward* row (承上页) holding the same sums;
- the last page ends with the *Total* row (合计) and the statement's totals, which are
  never separated from the last rows.

The amounts come formatted (``¥1,234.56``, see :class:`loancollect.ports.Statement`);
they are read back exactly, as :class:`~loancollect.domain.money.Money`, with the
currency's symbol or code, so the sums are exact and printed the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, cast

import attrs
from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from loancollect.domain.money import CURRENCIES, Money, parse_number, sum_money
from loancollect.errors import ValidationError
from loancollect.ports import Statement

__all__ = ["AMOUNT_FIELDS", "Labels", "StatementRows", "StatementTable", "parse_amount"]

AMOUNT_FIELDS = ("principal", "interest", "fees", "penalty", "paid", "outstanding")
"""The amount columns of a statement line, in the table's order (after number and date)."""


def parse_amount(text: str, currency: str, field: str = "amount") -> Money:
    """The amount a statement prints as ``text`` (``"¥1,234.56"``, ``"-$5.00"``,
    ``"CNY 1,234.56"``), in ``currency``.

    >>> parse_amount("¥1,234.56", "CNY")
    Money('1234.56', 'CNY')

    :raises ValidationError: naming ``field`` if ``text`` is not an amount of ``currency``.
    """
    cur = CURRENCIES.get(currency)
    if cur is None:
        raise ValidationError("statement.currency", currency, "not a known currency")
    body = text.strip()
    sign = ""
    if body.startswith("-"):
        sign, body = "-", body[1:]
    for prefix in (f"{cur.code} ", cur.symbol):
        if prefix and body.startswith(prefix):
            body = body[len(prefix) :]
            break
    else:
        raise ValidationError(field, text, f"not an amount in {currency} ({cur.symbol}1,234.56)")
    return Money(parse_number(sign + body.strip(), field), currency)


@attrs.frozen(kw_only=True)
class StatementRows:
    """A statement's instalment rows, with their amounts read back exactly.

    :param cells: the printed row of each line (number, date, the six amounts).
    :param amounts: the six amounts of each line, in :data:`AMOUNT_FIELDS` order.
    """

    currency: str
    cells: tuple[tuple[str, ...], ...]
    amounts: tuple[tuple[Money, ...], ...]

    @classmethod
    def of(cls, statement: Statement, date: Callable[[dt.date], str]) -> StatementRows:
        """The rows of ``statement``; ``date`` formats a due date for the letter's locale.

        :raises ValidationError: if an amount is not one of the statement's currency.
        """
        cells: list[tuple[str, ...]] = []
        amounts: list[tuple[Money, ...]] = []
        for line in statement.lines:
            values = tuple(getattr(line, name) for name in AMOUNT_FIELDS)
            amounts.append(
                tuple(
                    parse_amount(value, statement.currency, f"statement line {line.number}.{name}")
                    for name, value in zip(AMOUNT_FIELDS, values, strict=True)
                )
            )
            cells.append((str(line.number), date(line.due_date), *values))
        return cls(currency=statement.currency, cells=tuple(cells), amounts=tuple(amounts))

    def sums(self, start: int, end: int) -> tuple[Money, ...]:
        """The sum of each amount column over rows ``start`` to ``end`` (excluded)."""
        return tuple(
            sum_money((row[column] for row in self.amounts[start:end]), self.currency)
            for column in range(len(AMOUNT_FIELDS))
        )


@attrs.frozen(kw_only=True)
class Labels:
    """The words of the table in the letter's locale, and the face its sums are set in.

    :param columns: the column headings, repeated on every page.
    :param carried: closes a page's rows (*Carried forward*, 转下页).
    :param brought: opens the next page's rows (*Brought forward*, 承上页).
    :param total: closes the last page's rows (*Total*, 合计).
    """

    columns: tuple[str, ...]
    carried: str
    brought: str
    total: str
    bold: str
    size: float


class _Stack(Flowable):
    """Flowables drawn one below the other, as one block (nothing splits it)."""

    def __init__(self, parts: Sequence[Flowable]) -> None:
        super().__init__()
        self._parts = list(parts)
        self._sizes: list[tuple[float, float]] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """The block's size: the widest part, the heights added."""
        self._sizes = [part.wrap(availWidth, availHeight) for part in self._parts]
        width = max((w for w, _ in self._sizes), default=0.0)
        height = sum(h for _, h in self._sizes)
        self.width, self.height = width, height
        return width, height

    def draw(self) -> None:
        """Draw the parts from the top down."""
        y = self.height
        for part, (_, h) in zip(self._parts, self._sizes, strict=True):
            y -= h
            part.drawOn(self.canv, 0, y)


class StatementTable(Flowable):
    """The rows from ``start`` on, with the total and ``tail``; splits between rows.

    :param head: drawn above the first part only (the statement's heading).
    :param tail: drawn below the total (the statement's totals), never apart from it.
    :param brought: the sums carried from the previous page (``None`` on the first).
    :param min_rows: the fewest rows a page may hold below the text before the table
        moves to the next page instead (no heading left alone at a page's foot).
    """

    def __init__(
        self,
        rows: StatementRows,
        labels: Labels,
        style: TableStyle,
        *,
        head: Sequence[Flowable] = (),
        tail: Sequence[Flowable] = (),
        start: int = 0,
        brought: tuple[Money, ...] | None = None,
        col_widths: Sequence[float] | None = None,
        min_rows: int = 3,
    ) -> None:
        super().__init__()
        self._rows = rows
        self._labels = labels
        self._style = style
        self._head = list(head)
        self._tail = list(tail)
        self._start = start
        self._brought = brought
        self._col_widths = list(col_widths) if col_widths is not None else None
        self._min_rows = min_rows
        self._whole: _Stack | None = None

    # -- the parts ----------------------------------------------------------------------
    def _sum_row(self, label: str, sums: tuple[Money, ...]) -> tuple[str, ...]:
        return (label, "", *(m.format() for m in sums))

    def _table(self, end: int, closing: str) -> Table:
        """The table of rows ``start`` to ``end``, closed by ``closing`` (carried or total)."""
        data: list[tuple[str, ...]] = [self._labels.columns]
        marked: list[int] = []
        if self._brought is not None:
            marked.append(len(data))
            data.append(self._sum_row(self._labels.brought, self._brought))
        data += self._rows.cells[self._start : end]
        # The sums of every row so far, from the statement's first row.
        marked.append(len(data))
        data.append(self._sum_row(closing, self._rows.sums(0, end)))
        marks = TableStyle()
        for row in marked:
            marks.add("SPAN", (0, row), (1, row))
            marks.add("FONT", (0, row), (-1, row), self._labels.bold, self._labels.size)
            marks.add("BACKGROUND", (0, row), (-1, row), colors.whitesmoke)
            marks.add("LINEABOVE", (0, row), (-1, row), 0.8, colors.black)
        table = Table(data, colWidths=self._col_widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(self._style)
        table.setStyle(marks)
        return table

    def _part(self, end: int, closing: str, *, last: bool) -> _Stack:
        first = self._head if self._brought is None else []
        return _Stack([*first, self._table(end, closing), *(self._tail if last else [])])

    # -- Flowable -----------------------------------------------------------------------
    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """The size of everything left: the remaining rows, the total and the tail."""
        if self._col_widths is None:
            # One set of column widths for every page: measured on the whole table.
            whole = StatementTable(self._rows, self._labels, self._style)
            table = whole._table(len(self._rows.cells), self._labels.total)
            table.wrap(availWidth, availHeight)
            self._col_widths = list(cast(Any, table)._colWidths)  # measured by wrap
        self._whole = self._part(len(self._rows.cells), self._labels.total, last=True)
        self.width, self.height = self._whole.wrap(availWidth, availHeight)
        return self.width, self.height

    def draw(self) -> None:
        """Draw the whole remainder (it fits)."""
        assert self._whole is not None
        self._whole.drawOn(self.canv, 0, 0)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """This page's rows closed by *Carried forward*, and the rest from *Brought
        forward*; ``[]`` to move to the next page (the whole fits on one, or too few
        rows fit here)."""
        _, height = self.wrap(availWidth, availHeight)
        if height <= availHeight:
            return [self]
        frame = getattr(self, "_frame", None)
        at_top = bool(getattr(frame, "_atTop", False))
        page = float(getattr(frame, "_height", 0.0))
        if not at_top and height <= page:
            return []  # fits whole on the next page: keep the statement together
        end = len(self._rows.cells)
        # The most rows that fit with the carried row; at least one row stays for the
        # last part, with the total and the tail.
        low, high, best = self._start + 1, end - 1, None
        while low <= high:
            middle = (low + high) // 2
            part = self._part(middle, self._labels.carried, last=False)
            if part.wrap(availWidth, availHeight)[1] <= availHeight:
                best, low = middle, middle + 1
            else:
                high = middle - 1
        if best is None or (not at_top and best - self._start < self._min_rows):
            return []
        rest = StatementTable(
            self._rows,
            self._labels,
            self._style,
            tail=self._tail,
            start=best,
            brought=self._rows.sums(0, best),
            col_widths=self._col_widths,
            min_rows=self._min_rows,
        )
        return [self._part(best, self._labels.carried, last=False), rest]
