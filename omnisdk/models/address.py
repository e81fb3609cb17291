"""Postal addresses, with the ward / district / province levels Vietnamese addresses use."""

from __future__ import annotations

from pydantic import Field

from omnisdk.models.base import CanonicalModel
from omnisdk.models.contact import Phone

__all__ = ["Address"]


class Address(CanonicalModel):
    """A postal address.

    Vietnamese addresses have ``ward`` (phường/xã), ``district`` (quận/huyện) and ``province``
    (tỉnh/thành phố); other countries leave ``ward``/``district`` empty and may use ``city``
    and ``postal_code``. ``country_code`` is ISO 3166-1 alpha-2.
    """

    name: str | None = None
    phone: Phone | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    ward: str | None = None
    district: str | None = None
    province: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country_code: str = Field(default="VN", min_length=2, max_length=2)

    def one_line(self) -> str:
        """The address on one line, most specific part first."""
        parts = (self.line1, self.line2, self.ward, self.district, self.city, self.province,
                 self.postal_code, self.country_code)
        return ", ".join(part for part in parts if part)
