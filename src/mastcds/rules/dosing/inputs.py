"""Checks on the numbers a dosing rule is given: a typing error must never look like a patient."""

from __future__ import annotations

import math


class DoseInputError(ValueError):
    """An input no patient can have (negative, not a number, beyond physical limits)."""

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"{field}: {value!r} is not accepted; accepted: {accepted}")


# Physically possible inputs, the same bounds as the case schema (mastcds-case/1).
IGE_PLAUSIBLE_IU_ML = (0.0, 100000.0)
WEIGHT_PLAUSIBLE_KG = (0.5, 400.0)
AGE_PLAUSIBLE_YEARS = (0.0, 120.0)


def checked_number(field: str, value: object, plausible: tuple[float, float], unit: str) -> float:
    """``value`` as a float when it is a finite number within ``plausible``, else :class:`DoseInputError`."""
    low, high = plausible
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DoseInputError(field, value, f"a number of {unit}, {low:g}-{high:g}")
    if not low <= value <= high:
        raise DoseInputError(field, value, f"{low:g}-{high:g} {unit}")
    return float(value)
