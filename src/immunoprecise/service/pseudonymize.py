"""What researchers see: patient data with identifying and quasi-identifying fields reduced.

Every rule is in this module, as data (:data:`RECORD_RULES`, :data:`VERSION_RULES`,
:data:`EVALUATION_RULES`):

- the patient id becomes a stable keyed hash, ``PS-`` and 20 hex digits of
  HMAC-SHA256(service key, id): the same patient always gets the same pseudonym under one key,
  and it cannot be reversed without the key;
- ages become 5-year bands (``65-69``), ``90+`` from 90 years;
- dates (sample collection, diagnosis, burden measurements, prior-therapy start and end,
  toxicity assessments) keep only their year;
- HLA alleles keep only the allele group (``A*02:01`` → ``A*02``);
- free text that may name people, places or events is withheld: the clinician's diagnosis text
  (the OncoTree and ICD-O-3 codes stay), comorbidities, prior-regimen names (their class stays);
- site identifiers are withheld: the expression reference (file path and sample id), the source
  file name and the SHA-256 of the identifiable record;
- an evaluation's rationale texts that quote the age (``Age = 67 years (rule: ≥ 18 years)``)
  quote its band instead;
- finally, any text still containing the patient id (as a whole word, ids of 3 or more
  characters) has it replaced by the pseudonym.

Examples
--------
>>> p = Pseudonymizer(b"k" * 32)
>>> out = p.record({"patient": {"id": "P1", "age": {"value": 67, "unit": "years"}},
...                 "collected_on": "2026-10-29",
...                 "disease": {"diagnosis": "FL, seen at St Elsewhere", "oncotree_code": "FL"}})
>>> out["patient"]["age"], out["collected_on"], out["disease"]
('65-69', '2026', {'oncotree_code': 'FL'})
>>> out["patient"]["id"] == p.pseudonym("P1")
True
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import math
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "AGE_BAND_YEARS",
    "EVALUATION_RULES",
    "MIN_SWEPT_ID_LENGTH",
    "PSEUDONYM_KEY_ENV",
    "PSEUDONYM_KEY_FILE_ENV",
    "RECORD_RULES",
    "TOP_AGE_BAND",
    "VERSION_RULES",
    "Action",
    "Pseudonymizer",
    "age_band",
    "default_key_path",
    "resolve_pseudonym_key",
]

PSEUDONYM_KEY_ENV = "IMMUNOPRECISE_PSEUDONYM_KEY"
PSEUDONYM_KEY_FILE_ENV = "IMMUNOPRECISE_PSEUDONYM_KEY_FILE"
"""A file holding the key (e.g. a container secret), instead of the default file."""
AGE_BAND_YEARS = 5
TOP_AGE_BAND = 90
MIN_SWEPT_ID_LENGTH = 3
"""Ids this long or longer are also replaced inside texts (shorter ones would match words)."""
"""Ages from this one up are all shown as ``90+`` (HIPAA Safe Harbor)."""


class Action(StrEnum):
    """What a rule does to the value at its path."""

    pseudonym = "pseudonym"
    """Replace the patient id by its keyed hash."""
    age_band = "age_band"
    """Replace an age (number, or ``{"value", "unit": "years"}``) by its 5-year band."""
    year = "year"
    """Keep only the year of an ISO date."""
    hla_group = "hla_group"
    """Keep only the allele group of an HLA allele (first field)."""
    withhold = "withhold"
    """Remove the field."""


RECORD_RULES: tuple[tuple[str, Action], ...] = (
    ("patient.id", Action.pseudonym),
    ("patient.age", Action.age_band),
    ("patient.comorbidities", Action.withhold),
    ("patient.prior_therapies[].name", Action.withhold),
    ("patient.prior_therapies[].start", Action.year),
    ("patient.prior_therapies[].end", Action.year),
    ("patient.hla_type[]", Action.hla_group),
    ("collected_on", Action.year),
    ("disease.diagnosis", Action.withhold),
    ("disease.diagnosis_date", Action.year),
    ("disease.burden[].date", Action.year),
    ("tumor.antigens[].hla_restriction", Action.hla_group),
    ("toxicity[].date", Action.year),
    ("expression", Action.withhold),
)
"""Rules for a patient record (paths as in the record's field list; ``[]`` = every item)."""

VERSION_RULES: tuple[tuple[str, Action], ...] = (
    ("patient_id", Action.pseudonym),
    ("source", Action.withhold),
    ("sha256", Action.withhold),
    *((f"record.{path}", action) for path, action in RECORD_RULES),
)
"""Rules for a stored record version (its metadata and its record)."""

EVALUATION_RULES: tuple[tuple[str, Action], ...] = (
    ("patient_id", Action.pseudonym),
    ("profile.patient_id", Action.pseudonym),
    ("plan.patient_id", Action.pseudonym),
    ("profile.values.age.value", Action.age_band),
    ("profile.values.hla_type.value", Action.hla_group),
    ("profile.disease.diagnosis", Action.withhold),
    ("software.input_sha256", Action.withhold),
)
"""Rules for an evaluation (profile and plan)."""


def default_key_path() -> Path:
    """The file that keeps the pseudonym key when ``$IMMUNOPRECISE_PSEUDONYM_KEY`` is not set:
    ``$IMMUNOPRECISE_PSEUDONYM_KEY_FILE``, else ``pseudonym.key`` in the user's data folder."""
    chosen = os.environ.get(PSEUDONYM_KEY_FILE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "immunoprecise" / "pseudonym.key"


def _read_private(path: Path) -> str:
    """A secret file's text, refused when anyone but its owner may read or write it."""
    mode = path.stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        raise ValueError(
            f"the pseudonym key file {path} may be read or changed by others (mode "
            f"{mode:04o}); make it private with: chmod 600 {path}"
        )
    return path.read_text(encoding="ascii").strip()


def resolve_pseudonym_key(key: str | bytes | None = None) -> bytes:
    """Return the key of the pseudonyms: ``key``, else ``$IMMUNOPRECISE_PSEUDONYM_KEY``, else a
    random key kept in :func:`default_key_path` (made on first use, readable by its owner only;
    a key file that others may read or write is refused).

    Parameters
    ----------
    key
        The key (at least 16 bytes or characters).

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If the key is shorter than 16 bytes, or its file is not private (mode 600).
    """
    chosen: str | bytes | None = key if key is not None else os.environ.get(PSEUDONYM_KEY_ENV)
    if chosen is None:
        path = default_key_path()
        if not path.is_file() and not os.environ.get(PSEUDONYM_KEY_FILE_ENV):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
        if not path.is_file():
            raise ValueError(f"{PSEUDONYM_KEY_FILE_ENV}: no key file at {path}")
        chosen = _read_private(path)
    raw = chosen.encode("utf-8") if isinstance(chosen, str) else chosen
    if len(raw) < 16:
        raise ValueError(
            f"the pseudonym key must be at least 16 bytes (got {len(raw)}); set "
            f"{PSEUDONYM_KEY_ENV} to a long random value"
        )
    return raw


def age_band(value: Any) -> Any:
    """The 5-year band of an age in years (a number, or ``{"value", "unit"}``): ``65-69``,
    ``90+`` from 90 years; ``None`` for anything else (a missing value, a text).

    Examples
    --------
    >>> age_band(67), age_band(70.0), age_band({"value": 94, "unit": "years"}), age_band(None)
    ('65-69', '70-74', '90+', None)
    >>> age_band(float("nan")) is None
    True
    """
    years = value.get("value") if isinstance(value, dict) else value
    if not isinstance(years, int | float) or isinstance(years, bool) or not math.isfinite(years):
        return None
    if years >= TOP_AGE_BAND:
        return f"{TOP_AGE_BAND}+"
    low = int(years // AGE_BAND_YEARS) * AGE_BAND_YEARS
    return f"{low}-{low + AGE_BAND_YEARS - 1}"


def _year(value: Any) -> Any:
    return value[:4] if isinstance(value, str) and len(value) >= 4 else value


_HLA_ALLELE = re.compile(r"([A-Za-z0-9]+\*[0-9]+)(?::[0-9A-Za-z]+)+")
"""An HLA allele with its fields after the group (``A*02:01:01G``): kept up to the group."""


def _hla_group(value: Any) -> Any:
    """The allele group of an allele, or of every allele in a text (``"A*02:01, B*07:02"``)."""
    if not isinstance(value, str):
        return value
    if "*" not in value:
        return value.split(":", 1)[0]
    return _HLA_ALLELE.sub(r"\1", value)


def _apply(data: Any, parts: list[str], change: Callable[[Any], Any] | None) -> None:
    """Change (or, with ``change=None``, remove) the value at ``parts`` in place."""
    if not isinstance(data, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    every = head.endswith("[]")
    key = head.removesuffix("[]")
    if key not in data:
        return
    if rest:
        targets = data[key] if every and isinstance(data[key], list) else [data[key]]
        for item in targets:
            _apply(item, rest, change)
        return
    if change is None:
        del data[key]
    elif every and isinstance(data[key], list):
        data[key] = [change(v) for v in data[key]]
    elif data[key] is not None:
        data[key] = change(data[key])


def _replace_text(data: Any, old: re.Pattern[str], new: str) -> Any:
    if isinstance(data, str):
        return old.sub(new, data)
    if isinstance(data, dict):
        return {k: _replace_text(v, old, new) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace_text(v, old, new) for v in data]
    return data


def _quoted_age(evaluation: dict[str, Any]) -> tuple[re.Pattern[str], str] | None:
    """How a rule's reason quotes the profile's age (``Age = 67 years``, as
    :mod:`immunoprecise.recommend.conditions` writes it), and the same words with the band."""
    values = evaluation.get("profile", {}).get("values", {})
    age = values.get("age") if isinstance(values, dict) else None
    if not isinstance(age, dict):
        return None
    years, label = age.get("value"), age.get("label")
    if not isinstance(years, int | float) or isinstance(years, bool) or not label:
        return None
    shown = f"{years:g}" if isinstance(years, float) else str(years)
    pattern = re.compile(rf"(?<![\w-]){re.escape(f'{label} = {shown}')}(?![\d.])")
    return pattern, f"{label} = {age_band(years)}"


def _id_pattern(patient_id: str) -> re.Pattern[str]:
    """The id as a whole word (not inside a longer id such as ``P10`` for ``P1``)."""
    return re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(patient_id)}(?![A-Za-z0-9_-])")


@dataclass(frozen=True)
class Pseudonymizer:
    """Applies the rules of this module with one key.

    Parameters
    ----------
    key
        Secret key of the pseudonyms (see :func:`resolve_pseudonym_key`).
    """

    key: bytes

    def __repr__(self) -> str:
        return "Pseudonymizer(key=***)"

    def pseudonym(self, patient_id: str) -> str:
        """Return the stable pseudonym of a patient id: ``PS-`` and 20 hex digits.

        Examples
        --------
        >>> Pseudonymizer(b"0" * 16).pseudonym("P1")
        'PS-...'
        """
        digest = hmac.new(self.key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"PS-{digest[:20]}"

    def _run(self, data: dict[str, Any], rules: tuple[tuple[str, Action], ...]) -> dict[str, Any]:
        out = copy.deepcopy(data)
        originals: set[str] = set()

        def pseudonym(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            originals.add(value)
            return self.pseudonym(value)

        actions: dict[Action, Callable[[Any], Any] | None] = {
            Action.pseudonym: pseudonym,
            Action.age_band: age_band,
            Action.year: _year,
            Action.hla_group: _hla_group,
            Action.withhold: None,
        }
        for path, action in rules:
            _apply(out, path.split("."), actions[action])
        result: dict[str, Any] = out
        for original in sorted(originals, key=len, reverse=True):
            if len(original) >= MIN_SWEPT_ID_LENGTH:
                result = _replace_text(result, _id_pattern(original), self.pseudonym(original))
        return result

    def text(self, text: str, patient_id: str) -> str:
        """A text (e.g. an error message) with ``patient_id`` replaced by its pseudonym.

        Examples
        --------
        >>> p = Pseudonymizer(b"0" * 16)
        >>> p.text("patient 'P-17' has no record version 9", "P-17") == (
        ...     f"patient '{p.pseudonym('P-17')}' has no record version 9"
        ... )
        True
        """
        return _id_pattern(patient_id).sub(self.pseudonym(patient_id), text)

    def record(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pseudonymize a record's JSON (:data:`RECORD_RULES`); returns a new mapping."""
        return self._run(data, RECORD_RULES)

    def version(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pseudonymize a stored record version's JSON (:data:`VERSION_RULES`)."""
        return self._run(data, VERSION_RULES)

    def evaluation(self, data: dict[str, Any]) -> dict[str, Any]:
        """Pseudonymize an evaluation's JSON (:data:`EVALUATION_RULES`); the plan's texts that
        quote the age (a rule's reason, ``Age = 67 years (rule: ≥ 18 years)``) quote its band.

        Examples
        --------
        >>> p = Pseudonymizer(b"k" * 32)
        >>> age = {"label": "Age", "value": 22.0, "unit": "years"}
        >>> reason = "Age = 22 years (rule: ≤ 25 years)"
        >>> out = p.evaluation({"profile": {"values": {"age": age}},
        ...                     "plan": {"strategies": [{"because": [reason]}]}})
        >>> out["profile"]["values"]["age"]["value"], out["plan"]["strategies"][0]["because"]
        ('20-24', ['Age = 20-24 years (rule: ≤ 25 years)'])
        """
        out = self._run(data, EVALUATION_RULES)
        quoted = _quoted_age(data)
        if quoted is not None and "plan" in out:
            out["plan"] = _replace_text(out["plan"], *quoted)
        return out
