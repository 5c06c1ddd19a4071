"""Money: a Decimal amount with its currency.

Arithmetic keeps full precision; rounding to the currency's minor unit happens
once, in `Money.rounded`, with the rule `CENT_ROUNDING` (half up, the rule
banks and courts use for penalties and balances).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from duecourse.domain.errors import CurrencyMismatch, InvalidField

CENT_ROUNDING = ROUND_HALF_UP

# ISO 4217 minor units for the currencies whose unit is not the cent.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    """How many decimal places the currency's smallest unit has."""
    return _MINOR_UNITS.get(currency, 2)


def parse_currency(value: str, field: str = "currency") -> str:
    """Validate an ISO 4217 code such as BRL, EUR or USD."""
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidField(
            field, f"{value!r} is not a currency code", "use ISO 4217, like EUR"
        )
    return code


def parse_amount(value: str | int | Decimal, field: str = "amount") -> Decimal:
    """Read an amount written by a person: '1234.50' or '1234,50', never a float."""
    if isinstance(value, float):
        raise InvalidField(field, "amounts must not be floats", "pass a string")
    text = str(value).strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidField(
            field, f"{value!r} is not an amount", "write it like 1234.50"
        ) from None
    if not amount.is_finite():
        raise InvalidField(field, f"{value!r} is not a finite amount")
    return amount


@dataclass(frozen=True, order=False)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(parse_amount(amount), parse_currency(currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def rounded(self) -> Money:
        """This amount rounded to the currency's minor unit, half up."""
        exponent = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(self.amount.quantize(exponent, CENT_ROUNDING), self.currency)

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"
