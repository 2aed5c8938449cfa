"""Invoice, voucher and itinerary as real PDFs (fpdf2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fpdf import FPDF

from tripflow_documents.documents.models import DocumentType
from tripflow_documents.documents.schemas import BookingSnapshot


def _latin1(text: object) -> str:
    # The PDF core fonts are Latin-1; anything outside shows as '?' rather than failing the booking.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def money(amount: int, currency: str) -> str:
    return f"{amount / 100:,.2f} {currency}"


class _Doc(FPDF):
    def __init__(self, title: str, booking: BookingSnapshot) -> None:
        super().__init__(format="A4")
        self.set_creation_date(datetime.now(UTC))
        self.set_title(f"{title} {booking.booking_id}")
        self.set_author("tripflow")
        self.add_page()
        self.set_font("Helvetica", "B", 20)
        self.cell(0, 12, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 11)
        self.line_text(f"Booking: {booking.booking_id}")
        self.line_text(f"Customer: {booking.customer.name} <{booking.customer.email}>")
        self.ln(4)

    def line_text(self, text: str, *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 11)
        self.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, left: str, right: str) -> None:
        self.set_font("Helvetica", "", 11)
        self.cell(140, 7, _latin1(left), border="B")
        self.cell(0, 7, _latin1(right), border="B", align="R", new_x="LMARGIN", new_y="NEXT")


def render_invoice(booking: BookingSnapshot) -> bytes:
    pdf = _Doc("Invoice", booking)
    pdf.line_text("Items", bold=True)
    for item in booking.items:
        pdf.row(item.description, money(item.amount, booking.currency))
    pdf.ln(2)
    pdf.row("Total", money(booking.total_amount, booking.currency))
    pdf.ln(4)
    if booking.payment:
        pdf.line_text(
            f"Paid: {money(booking.payment.amount, booking.payment.currency)} via "
            f"{booking.payment.provider}, payment reference {booking.payment.payment_id}"
        )
    return bytes(pdf.output())


def render_voucher(booking: BookingSnapshot) -> bytes:
    pdf = _Doc("Travel voucher", booking)
    pdf.line_text(f"Supplier: {booking.supplier.name}")
    pdf.line_text(f"Supplier confirmation: {booking.supplier.ref or 'pending'}")
    pdf.ln(2)
    pdf.line_text("Travellers", bold=True)
    for traveller in booking.travellers:
        pdf.line_text(f"- {traveller}")
    if booking.itinerary:
        dates = sorted(entry.date for entry in booking.itinerary)
        pdf.ln(2)
        pdf.line_text(f"Dates: {dates[0]} to {dates[-1]}")
    return bytes(pdf.output())


def render_itinerary(booking: BookingSnapshot) -> bytes:
    pdf = _Doc("Itinerary", booking)
    days: dict[str, list[str]] = {}
    for entry in booking.itinerary:
        where = f" ({entry.location})" if entry.location else ""
        days.setdefault(entry.date, []).append(f"{entry.title}{where}")
    for day in sorted(days):
        pdf.line_text(day, bold=True)
        for line in days[day]:
            pdf.line_text(f"  {line}")
    if not days:
        pdf.line_text("No itinerary entries.")
    return bytes(pdf.output())


RENDERERS: dict[DocumentType, Callable[[BookingSnapshot], bytes]] = {
    DocumentType.INVOICE: render_invoice,
    DocumentType.VOUCHER: render_voucher,
    DocumentType.ITINERARY: render_itinerary,
}
