"""Audit parameters (policy section 6): defaults, types, and validation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    name: str
    default: int | bool
    help: str


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("conservative_min_days", 42, "days conservative care must precede the injection"),
    Parameter("conservative_lookback_days", 180, "look-back window for conservative-care evidence"),
    Parameter("imaging_lookback_days", 730, "look-back window for cervical MRI/CT/myelography"),
    Parameter("imaging_accepts_emg", False, "EMG/nerve-conduction studies count as prior imaging"),
    Parameter(
        "stenosis_requires_radicular_dx",
        False,
        "M48.0x/M99.x qualify only with a radicular code on the claim",
    ),
    Parameter("max_sessions_per_12_months", 4, "ESI sessions allowed in any rolling 365 days"),
)

DEFAULTS: dict[str, int | bool] = {p.name: p.default for p in PARAMETERS}


def resolve(overrides: dict[str, object] | None = None) -> dict[str, int | bool]:
    """Defaults updated with `overrides`; raises ValueError naming a bad key or value."""
    values: dict[str, int | bool] = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            known = ", ".join(sorted(DEFAULTS))
            raise ValueError(f"unknown parameter {key!r} (known: {known})")
        default = DEFAULTS[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"parameter {key} must be true or false, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"parameter {key} must be a non-negative integer, got {value!r}")
        values[key] = value
    return values
