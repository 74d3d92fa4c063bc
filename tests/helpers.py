"""Small builders shared by tests."""

import io

from pypdf import PdfWriter
from sqlalchemy import select

from cacnet.accounts.models import User
from cacnet.core.db import db


def user(email: str) -> User:
    """The account with this e-mail address (in an app context)."""
    return db.session.scalar(select(User).where(User.email == email))


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
