"""The PDFs are real: a PDF reader opens them and finds the booking's data."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tripflow_cli.testing.factories import snapshot
from tripflow_documents.documents.pdf import render_invoice, render_itinerary, render_voucher
from tripflow_documents.documents.schemas import BookingSnapshot


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def booking(status: str = "supplier_confirmed") -> BookingSnapshot:
    return BookingSnapshot.model_validate(
        snapshot("BK-PDF-1", status, amount=123_456, currency="EUR")
    )


def test_invoice_shows_booking_customer_items_total_and_payment_reference() -> None:
    b = booking("payment_confirmed")
    text = text_of(render_invoice(b))
    assert "BK-PDF-1" in text
    assert "Ada Lovelace" in text
    assert "1,234.56 EUR" in text
    for item in b.items:
        assert item.description in text
    assert "pi_test_123" in text


def test_voucher_shows_supplier_reference_travellers_and_dates() -> None:
    text = text_of(render_voucher(booking()))
    assert "BK-PDF-1" in text
    assert "Travel Partners" in text and "SUP-42" in text
    assert "Charles Babbage" in text
    assert "2027-05-01" in text and "2027-05-04" in text


def test_itinerary_lists_each_day() -> None:
    text = text_of(render_itinerary(booking()))
    for day in ("2027-05-01", "2027-05-02", "2027-05-04"):
        assert day in text
    assert "Departure" in text


def test_text_outside_latin1_does_not_break_a_document() -> None:
    data = snapshot("BK-PDF-2", "payment_confirmed")
    data["customer"]["name"] = "Zoë 山田"
    pdf = render_invoice(BookingSnapshot.model_validate(data))
    assert "Zo" in text_of(pdf)
