"""An agent's day on paper and in a calendar: the route sheet PDF (reportlab, with
the route drawn by matplotlib from the coordinates, no map tiles) and an iCalendar
file of the appointments.

The sheet is in Chinese or English (the agent's first language): the day's
stops in order with their times and lawful windows, the drawn route, then per
visit the notes template the agent fills in and the case's statement of account.
Chinese is set in reportlab's STSong-Light CID font (the reader supplies it).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zoneinfo
from pathlib import Path
from xml.sax.saxutils import escape

import icalendar
import matplotlib

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from loancollect_visits.model import AgentRoute, Stop

__all__ = ["calendar", "draw_route", "route_sheet", "write_day"]

CJK_FONT = "STSong-Light"

_LABELS = {
    "title": ("上门催收路线单", "Field visit route sheet"),
    "agent": ("外访人员", "Agent"),
    "date": ("日期", "Date"),
    "team": ("人数", "Collectors"),
    "distance": ("预计里程", "Planned distance"),
    "stops": ("拜访顺序", "Visits in order"),
    "cols": (
        ("序号", "预计到达", "合法时段", "贷款编号", "地点", "地址"),
        ("#", "Arrive", "Lawful window", "Loan", "Place", "Address"),
    ),
    "route": ("路线图", "Route"),
    "visit": ("拜访记录", "Visit notes"),
    "notes": (
        (
            "到达时间：________  离开时间：________  见到本人：是 / 否",
            "结果：见到本人 / 第三方 / 不在家 / 已搬离 / 拒绝开门 / 承诺还款 / 提出异议",
            "承诺金额：________  承诺日期：________",
            "弱势客户迹象（疾病、丧亲、精神困扰等）：________________",
            "证据（照片、文件）SHA-256：________________",
            "须两人同行；先出示证件、核实本人身份，再谈及账户；未经同意不得进入住所；"
            "不得威胁、辱骂或向第三方透露债务。",
        ),
        (
            "Arrived: ________  Left: ________  Spoke with the borrower: yes / no",
            "Result: met borrower / third party / not at home / moved / refused entry / "
            "promise / dispute",
            "Promised amount: ________  Promised date: ________",
            "Vulnerability indicators (illness, bereavement, distress …): ________________",
            "Evidence (photos, documents) SHA-256: ________________",
            "Show your ID and verify the borrower's identity before discussing the account; "
            "do not enter without consent; no threats; never discuss the debt with others.",
        ),
    ),
    "statement": ("账户明细（截至{date}）", "Statement of account as of {date}"),
    "amount_due": ("应还金额合计", "Total amount due"),
    "overdue": ("逾期本息及费用", "Overdue principal, interest and fees"),
    "penalty": ("罚息及复利", "Penalty and compound interest"),
    "dpd": ("逾期天数", "Days past due"),
    "payoff": ("提前结清金额", "Payoff amount"),
    "how": ("还款方式", "How to pay"),
    "lines": (
        ("期数", "应还款日", "状态", "未还合计"),
        ("No.", "Due date", "Status", "Outstanding"),
    ),
    "none": ("（无账户明细）", "(no statement of account)"),
    "places": ({"home": "住所", "workplace": "工作单位", "other": "其他"}, {}),
}


def _zh(locale: str) -> bool:
    return locale.startswith("zh")


def _t(key: str, locale: str) -> object:
    zh, en = _LABELS[key]
    return zh if _zh(locale) else en


def _font(locale: str) -> tuple[str, str]:
    if _zh(locale):
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT, CJK_FONT
    return "Helvetica", "Helvetica-Bold"


def draw_route(route: AgentRoute) -> bytes:
    """The route as a PNG: base, stops numbered in order, lines between (lon/lat axes)."""
    base = route.agent.base
    xs = (
        [float(base.lon)]
        + [float(s.request.site.point.lon) for s in route.stops]
        + [float(base.lon)]
    )
    ys = (
        [float(base.lat)]
        + [float(s.request.site.point.lat) for s in route.stops]
        + [float(base.lat)]
    )
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=100)
    try:
        ax.plot(xs, ys, "-", color="#3465a4", linewidth=1.2, zorder=1)
        ax.scatter(xs[1:-1], ys[1:-1], s=60, color="#f57900", zorder=2)
        ax.scatter([xs[0]], [ys[0]], s=90, marker="s", color="#204a87", zorder=3)
        for n, (x, y) in enumerate(zip(xs[1:-1], ys[1:-1], strict=True), start=1):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=9)
        ax.annotate("base", (xs[0], ys[0]), textcoords="offset points", xytext=(5, -12), fontsize=8)
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.set_aspect(1 / max(0.2, abs(math.cos(math.radians(ys[0])))))  # metres alike both ways
        ax.grid(True, linewidth=0.3)
        out = io.BytesIO()
        fig.tight_layout()
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out.getvalue()


def _local(at: dt.datetime, zone: str) -> str:
    return at.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")


def _place(place: str, locale: str) -> str:
    names = _t("places", locale)
    assert isinstance(names, dict)
    return str(names.get(place, place))


def route_sheet(route: AgentRoute, day: dt.date, locale: str) -> bytes:
    """The route sheet PDF of ``route`` on ``day`` in ``locale`` (``zh_CN`` or ``en_*``)."""
    regular, bold = _font(locale)
    body = ParagraphStyle(
        "body", fontName=regular, fontSize=9, leading=12, wordWrap="CJK" if _zh(locale) else None
    )
    head = ParagraphStyle("head", parent=body, fontName=bold, fontSize=15, leading=20)
    sub = ParagraphStyle("sub", parent=body, fontName=bold, fontSize=11, leading=15, spaceBefore=6)
    agent = route.agent
    story: list[Flowable] = [
        Paragraph(escape(str(_t("title", locale))), head),
        Paragraph(
            escape(
                f"{_t('agent', locale)}: {agent.name or agent.id} ({agent.id})   "
                f"{_t('date', locale)}: {day.isoformat()}   "
                f"{_t('team', locale)}: {agent.team_size}   "
                f"{_t('distance', locale)}: {route.distance_m / 1000:.1f} km"
            ),
            body,
        ),
        Paragraph(escape(str(_t("stops", locale))), sub),
    ]
    cols = _t("cols", locale)
    assert isinstance(cols, tuple)
    rows: list[list[object]] = [list(cols)]
    for n, stop in enumerate(route.stops, start=1):
        rows.append(
            [
                str(n),
                _local(stop.arrive, stop.zone),
                f"{_local(stop.window.start, stop.zone)}–{_local(stop.window.end, stop.zone)}",
                stop.request.loan_id,
                _place(stop.request.site.place, locale),
                Paragraph(escape(stop.request.site.address or "—"), body),
            ]
        )
    table = Table(
        rows, colWidths=[8 * mm, 16 * mm, 26 * mm, 28 * mm, 18 * mm, 80 * mm], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 8),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeec")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Paragraph(escape(str(_t("route", locale))), sub)]
    story.append(Image(io.BytesIO(draw_route(route)), width=150 * mm, height=105 * mm))
    for n, stop in enumerate(route.stops, start=1):
        story.append(PageBreak())
        story += _visit(n, stop, locale, body, sub)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{_t('title', locale)} {agent.id} {day.isoformat()}",
    )
    doc.build(story)
    return out.getvalue()


def _visit(
    n: int, stop: Stop, locale: str, body: ParagraphStyle, sub: ParagraphStyle
) -> list[Flowable]:
    request = stop.request
    out: list[Flowable] = [
        Paragraph(escape(f"{_t('visit', locale)} {n}: {request.loan_id} ({stop.visit_id})"), sub),
        Paragraph(
            escape(f"{_local(stop.arrive, stop.zone)} · {request.site.address or '—'}"), body
        ),
        Spacer(1, 4),
    ]
    notes = _t("notes", locale)
    assert isinstance(notes, tuple)
    out += [Paragraph(escape(line), body) for line in notes]
    statement = request.statement
    if statement is None:
        out.append(Paragraph(escape(str(_t("none", locale))), body))
        return out
    title = str(_t("statement", locale)).format(date=statement.as_of.isoformat())
    out.append(Paragraph(escape(title), sub))
    facts = [
        (_t("amount_due", locale), statement.amount_due),
        (_t("overdue", locale), statement.overdue_amount),
        (_t("penalty", locale), statement.penalty),
        (_t("dpd", locale), str(statement.dpd)),
        (_t("payoff", locale), statement.payoff_amount),
        (_t("how", locale), statement.how_to_pay),
    ]
    out += [Paragraph(escape(f"{k}: {v}"), body) for k, v in facts]
    if statement.lines:
        cols = _t("lines", locale)
        assert isinstance(cols, tuple)
        rows = [list(cols)] + [
            [str(line.number), line.due_date.isoformat(), line.status, line.outstanding]
            for line in statement.lines
        ]
        table = Table(rows, colWidths=[12 * mm, 28 * mm, 28 * mm, 36 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), body.fontName, 8),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ]
            )
        )
        out.append(table)
    return out


def calendar(route: AgentRoute, day: dt.date) -> bytes:
    """The iCalendar (RFC 5545) file of the route's appointments."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//loancollect//visits//EN")
    cal.add("version", "2.0")
    for n, stop in enumerate(route.stops, start=1):
        event = icalendar.Event()
        event.add("uid", f"{stop.visit_id}@loancollect-visits")
        event.add("dtstamp", stop.request.requested_at.astimezone(dt.UTC))
        event.add("dtstart", stop.arrive.astimezone(dt.UTC))
        event.add("dtend", stop.depart.astimezone(dt.UTC))
        event.add("summary", f"Visit {n}: {stop.request.loan_id}")
        event.add("geo", (float(stop.request.site.point.lat), float(stop.request.site.point.lon)))
        event.add(
            "description",
            f"visit {stop.visit_id}; lawful window "
            f"{stop.window.start.isoformat()} to {stop.window.end.isoformat()}"
            + ("; two collectors" if stop.two_person else ""),
        )
        cal.add_component(event)
    return bytes(cal.to_ical())


def write_day(routes: tuple[AgentRoute, ...], day: dt.date, out: Path) -> list[Path]:
    """Write every agent's route sheet (``<agent>-<day>.pdf``, in Chinese for an agent who
    speaks it, else English) and calendar (``.ics``) under ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for route in routes:
        locale = "zh_CN" if "zh" in route.agent.languages else "en_GB"
        stem = out / f"{route.agent.id}-{day.isoformat()}"
        pdf = stem.with_suffix(".pdf")
        pdf.write_bytes(route_sheet(route, day, locale))
        ics = stem.with_suffix(".ics")
        ics.write_bytes(calendar(route, day))
        paths += [pdf, ics]
    return paths
