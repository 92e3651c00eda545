"""The course's settings, read once from ``course.toml`` at the repository root.

``$MSEGRAD_CONFIG`` names another file (``-``: none, the defaults). A missing file means the defaults
below (inside the sandbox the course folder is hidden: what runs there gets
its few settings from the grader, see ``autograder.probes``). Standard
library only: this module also runs inside the sandbox.
"""
from __future__ import annotations

import datetime
import math
import os
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:   # Python 3.10
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

VARIABLE = "MSEGRAD_CONFIG"
NO_FILE = "-"   # $MSEGRAD_CONFIG=- : no file, the defaults (what the sandboxed worker uses)
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "course.toml"

# Every key, with its default (today's values) and type. [points] and
# [mistakes] are tables of names; their names are checked by spec and mistakes.
DEFAULTS = {
    # nbgrader assignment id -> the Python package of its unit (docs/assignments.md).
    "assignments": {"mse-gradient": "autograder"},
    "points": {},
    "grading": {"seed": 20261127},
    "limits": {"function_seconds": 60.0, "call_seconds": 10.0, "top_level_seconds": 30.0,
               "memory_mb": 1024, "processes": 32},
    "cases": {"subset": 4, "subset_lr": 0.02,
              "gradient_sizes": [1, 2, 3, 8, 17, 64, 257],
              "gradient_scales": [1e-2, 1.0, 1.0, 10.0, 1.0, 3.0, 100.0],
              "first_steps_size": 12, "first_steps_lr_fraction": 0.3,
              "cost_decreases_size": 20, "cost_decreases_lr_fraction": 0.4, "cost_decreases_epochs": 8,
              "converges_sizes": [30, 12], "converges_lr_fractions": [0.5, 0.7],
              "valley_taus": 2.0, "valley_min_epochs": 20, "valley_max_epochs": 400},
    "mistakes": {},
    "deadline": {"due": None, "late_penalty_per_day": 0.0, "late_days_max": 0},
}
# Keys that must be whole numbers; every other number may be a float.
INTEGERS = {"seed", "memory_mb", "processes", "subset", "first_steps_size", "cost_decreases_size",
            "cost_decreases_epochs", "valley_min_epochs", "valley_max_epochs", "late_days_max"}
# Keys that must be above zero (the rest may be zero, none negative).
POSITIVE = {"function_seconds", "call_seconds", "top_level_seconds", "memory_mb", "processes", "subset",
            "subset_lr", "gradient_sizes", "gradient_scales", "first_steps_size", "first_steps_lr_fraction",
            "cost_decreases_size", "cost_decreases_lr_fraction", "converges_sizes", "converges_lr_fractions",
            "valley_taus", "valley_min_epochs", "valley_max_epochs"}


class ConfigError(ValueError):
    """course.toml is unreadable or holds a bad value; the message names the file and the key."""


def path() -> Path:
    """The settings file in use: $MSEGRAD_CONFIG, else course.toml at the repository root."""
    return Path(os.environ.get(VARIABLE) or DEFAULT_PATH)


def _number(where: str, key: str, value, integer: bool):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if integer and not isinstance(value, int):
        raise ConfigError(f"{where}: {key} must be a whole number, not {value!r}")
    positive = key.rsplit(".", 1)[-1] in POSITIVE
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{where}: {key} must be {'above' if positive else 'at least'} zero, not {value!r}")
    return value if integer else float(value)


def validate(raw: dict, where: str = "course.toml") -> dict:
    """The settings with defaults filled in; ConfigError naming the key for anything wrong."""
    settings = {table: dict(values) for table, values in DEFAULTS.items()}
    for table, values in raw.items():
        if table not in DEFAULTS:
            raise ConfigError(f"{where}: unknown table [{table}]; expected one of {', '.join(DEFAULTS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: {table} must be a table ([{table}])")
        if table == "assignments":
            settings[table] = _assignments(where, values)
            continue
        for key, value in values.items():
            name = f"{table}.{key}"
            if table == "cases" and isinstance(value, dict):
                # [cases.<assignment id>]: another assignment's hidden cases; its unit checks the keys.
                settings[table][key] = dict(value)
                continue
            if table in ("points", "mistakes"):
                if isinstance(value, dict):   # [points.<assignment id>], [mistakes.<id>]: another assignment's
                    for entry, number in value.items():
                        _named_number(where, table, f"{name}.{entry}", number)
                    value = dict(value)
                else:
                    _named_number(where, table, name, value)
                settings[table][key] = value   # as written: points stay whole numbers in the notebook
                continue
            if key not in DEFAULTS[table]:
                raise ConfigError(f"{where}: unknown key {name}; expected one of {', '.join(DEFAULTS[table])}")
            default = DEFAULTS[table][key]
            if key == "due":
                settings[table][key] = _due(where, name, value)
            elif isinstance(default, list):
                if not isinstance(value, list) or not value:
                    raise ConfigError(f"{where}: {name} must be a non-empty list of numbers, not {value!r}")
                integer = all(isinstance(item, int) for item in default)
                settings[table][key] = [_number(where, name, item, integer) for item in value]
            else:
                settings[table][key] = _number(where, name, value, key in INTEGERS or isinstance(default, int))
    cases = settings["cases"]
    for one, other in (("gradient_sizes", "gradient_scales"), ("converges_sizes", "converges_lr_fractions")):
        if len(cases[one]) != len(cases[other]):
            raise ConfigError(f"{where}: cases.{one} and cases.{other} must be as long as each other")
    if cases["valley_min_epochs"] > cases["valley_max_epochs"]:
        raise ConfigError(f"{where}: cases.valley_min_epochs is above cases.valley_max_epochs")
    if settings["deadline"]["late_penalty_per_day"] > 1:
        raise ConfigError(f"{where}: deadline.late_penalty_per_day is a fraction of the score, at most 1")
    return settings


def _named_number(where: str, table: str, name: str, value) -> None:
    """A grade cell's points or a mistake's credit (a fraction of a case's points, at most 1)."""
    _number(where, name, value, False)
    if table == "mistakes" and value > 1:
        raise ConfigError(f"{where}: {name} is a fraction of a case's points, at most 1, not {value!r}")


_ASSIGNMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PACKAGE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _assignments(where: str, values: dict) -> dict:
    """[assignments]: the course's assignments, in order (a table, when given, lists all of them)."""
    if not values:
        raise ConfigError(f"{where}: [assignments] lists no assignment")
    out = {}
    for key, value in values.items():
        if not _ASSIGNMENT_ID.fullmatch(key):
            raise ConfigError(f"{where}: assignments.{key} is not an assignment id (letters, digits, - _ .)")
        if not isinstance(value, str) or not _PACKAGE.fullmatch(value):
            raise ConfigError(f"{where}: assignments.{key} must name a Python package, "
                              f"like \"autograder.assignments.mse_gradient_vector\", not {value!r}")
        out[key] = value
    return out


def _due(where: str, name: str, value):
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: {name} must be a date and time like 2027-01-15T23:59:00Z, "
                              f"not {value!r}") from None
    if not isinstance(value, datetime.datetime):
        raise ConfigError(f"{where}: {name} must be a date and time like 2027-01-15T23:59:00Z, not {value!r}")
    if value.tzinfo is None:
        raise ConfigError(f"{where}: {name} needs a time zone (2027-01-15T23:59:00Z, or +01:00)")
    return value


def read(file: str | os.PathLike | None = None) -> dict:
    """The validated settings of `file` (default: path()); the defaults when it does not exist."""
    if file is None and os.environ.get(VARIABLE) == NO_FILE:
        return validate({}, "the defaults")
    file = Path(file) if file is not None else path()
    if not file.exists():
        if os.environ.get(VARIABLE) and file == path():
            raise ConfigError(f"${VARIABLE} names {file}, which does not exist")
        return validate({}, str(file))
    if tomllib is None:
        raise ConfigError(f"reading {file} needs Python 3.11 (tomllib) or the tomli package on Python 3.10")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{file}: {error}") from None
    return validate(raw, str(file))


def late_days(submitted, due) -> int:
    """Whole days late, counting a part of a day as a day (0 when on time)."""
    seconds = (submitted - due).total_seconds()
    return 0 if seconds <= 0 else int(math.ceil(seconds / 86400))


def late_factor(days: int, penalty_per_day: float, days_max: int) -> float:
    """The fraction of the score a submission `days` late keeps: 1 - penalty x days, nothing past days_max."""
    if days <= 0:
        return 1.0
    if days > days_max:
        return 0.0
    return max(0.0, 1.0 - penalty_per_day * days)


_settings: dict | None = None


def settings() -> dict:
    """The settings in use (read once per process)."""
    global _settings
    if _settings is None:
        _settings = read()
    return _settings


def get(table: str, key: str):
    """One setting, e.g. get("limits", "memory_mb")."""
    return settings()[table][key]


def seed_from_env(seed: int | None = None) -> int:
    """The grading seed: the argument, else $MSEGRAD_SEED, else [grading] seed (read without torch, so
    that a grader can start its sandboxes before it imports the cases)."""
    if seed is not None:
        return int(seed)
    return int(os.environ.get("MSEGRAD_SEED", get("grading", "seed")))
