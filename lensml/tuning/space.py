"""Search spaces declared as data (a TOML table) and sampled with an Optuna trial.

Each parameter is a table::

    {"type": "float", "low": 1e-5, "high": 1e-2, "log": true}
    {"type": "int", "low": 1, "high": 6, "step": 1}
    {"type": "categorical", "choices": ["constant", "cosine"]}

Conditional parameters name an earlier parameter and the values for which they exist::

    {"type": "float", "low": 0.5, "high": 5, "condition": {"param": "training.schedule",
                                                           "values": ["warmup_cosine"]}}

Parameters are sampled in declaration order, so a condition must refer to a parameter
declared before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

_TYPES = ("float", "int", "categorical")
_KEYS = {
    "float": {"type", "low", "high", "log", "step", "condition"},
    "int": {"type", "low", "high", "log", "step", "condition"},
    "categorical": {"type", "choices", "condition"},
}


@dataclass(frozen=True)
class Condition:
    """The parameter exists only when ``param`` took one of ``values``."""

    param: str
    values: tuple


@dataclass(frozen=True)
class Param:
    """One search dimension (see the module docstring for the table format)."""

    name: str
    type: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()
    condition: Condition | None = None

    def suggest(self, trial) -> Any:
        """Sample this parameter with ``trial`` (an ``optuna.Trial``)."""
        if self.type == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.type == "int":
            return trial.suggest_int(self.name, self.low, self.high, log=self.log, step=self.step or 1)
        return trial.suggest_categorical(self.name, list(self.choices))

    def default(self) -> Any:
        """A representative value (the lower bound or first choice), for validating configs."""
        return self.choices[0] if self.type == "categorical" else self.low


def _param_from_dict(name: str, spec: Mapping[str, Any], earlier: Mapping[str, "Param"]) -> Param:
    where = f"search space parameter {name!r}"
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where}: expected a table like {{type = 'float', low = 0.0, high = 1.0}}, got {spec!r}")
    kind = spec.get("type")
    if kind not in _TYPES:
        raise ValueError(f"{where}: 'type' is {kind!r}, expected one of {_TYPES}")
    unknown = set(spec) - _KEYS[kind]
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} for type {kind!r}; allowed: {sorted(_KEYS[kind])}")
    cond = None
    if "condition" in spec:
        c = spec["condition"]
        if not isinstance(c, Mapping) or set(c) != {"param", "values"}:
            raise ValueError(f"{where}: 'condition' must be {{param = '<earlier parameter>', values = [...]}}, got {c!r}")
        if c["param"] not in earlier:
            raise ValueError(
                f"{where}: condition refers to {c['param']!r}, which is not a parameter declared before it "
                f"(declared so far: {list(earlier)})"
            )
        values = c["values"] if isinstance(c["values"], (list, tuple)) else [c["values"]]
        cond = Condition(c["param"], tuple(values))
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, (list, tuple)) or not choices:
            raise ValueError(f"{where}: 'choices' must be a non-empty list, got {choices!r}")
        for ch in choices:
            if not (ch is None or isinstance(ch, (bool, int, float, str))):
                raise TypeError(f"{where}: choice {ch!r} is not a bool, int, float or string")
        return Param(name, kind, choices=tuple(choices), condition=cond)
    for key in ("low", "high"):
        if key not in spec:
            raise ValueError(f"{where}: missing {key!r}")
        v = spec[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError(f"{where}: {key!r} must be a finite number, got {v!r}")
        if kind == "int" and not float(v).is_integer():
            raise TypeError(f"{where}: {key!r} must be an integer for type 'int', got {v!r}")
    low, high = spec["low"], spec["high"]
    if low > high:
        raise ValueError(f"{where}: low={low} is greater than high={high}")
    log = bool(spec.get("log", False))
    if log and low <= 0:
        raise ValueError(f"{where}: log scale needs low > 0, got low={low}")
    step = spec.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0):
        raise ValueError(f"{where}: 'step' must be a positive number, got {step!r}")
    if log and step is not None and kind == "float":
        raise ValueError(f"{where}: 'step' and 'log' cannot be combined for floats")
    if kind == "int":
        return Param(name, kind, int(low), int(high), log, int(step) if step else None, condition=cond)
    return Param(name, kind, float(low), float(high), log, float(step) if step else None, condition=cond)


@dataclass(frozen=True)
class SearchSpace:
    """An ordered collection of :class:`Param`; ``suggest(trial)`` returns ``{name: value}``
    for the parameters that are active in that trial."""

    params: tuple[Param, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, table: Mapping[str, Mapping[str, Any]]) -> "SearchSpace":
        """Build from ``{name: spec}``. Raises ValueError for an empty or malformed space."""
        if not isinstance(table, Mapping):
            raise TypeError(f"search space: expected a table of parameters, got {table!r}")
        if not table:
            raise ValueError(
                "search space is empty: declare at least one parameter, e.g. "
                '[tune.params."training.learning_rate"] type = "float", low = 1e-5, high = 1e-2, log = true'
            )
        params: dict[str, Param] = {}
        for name, spec in table.items():
            params[name] = _param_from_dict(name, spec, params)
        return cls(tuple(params.values()))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def suggest(self, trial) -> dict[str, Any]:
        """Sample every active parameter with ``trial``; inactive conditional ones are left out."""
        values: dict[str, Any] = {}
        for p in self.params:
            if p.condition is not None:
                if p.condition.param not in values or values[p.condition.param] not in p.condition.values:
                    continue
            values[p.name] = p.suggest(trial)
        return values

    def defaults(self) -> dict[str, Any]:
        """One representative value per parameter (for validating the configs they make)."""
        return {p.name: p.default() for p in self.params}

    def variants(self) -> Sequence[dict[str, Any]]:
        """Representative assignments covering every categorical choice (for validation)."""
        out = [self.defaults()]
        for p in self.params:
            if p.type == "categorical":
                for ch in p.choices[1:]:
                    out.append({**self.defaults(), p.name: ch})
            elif p.high != p.low:
                out.append({**self.defaults(), p.name: p.high})
        return out
