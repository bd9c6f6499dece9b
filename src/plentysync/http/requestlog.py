"""Request and response logging to a per-profile file (the seeds' ``customer_export_request.log``),
off by default. Tokens, passwords and personal data are redacted before anything is written."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from plentysync.log import REDACTED, SENSITIVE_KEY

DEFAULT_PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        # Magento
        "email", "firstname", "lastname", "middlename", "street", "telephone", "fax", "postcode", "city",
        "company", "dob", "taxvat", "vat_id", "customer_email", "customer_firstname", "customer_lastname",
        "customer_dob", "customer_taxvat", "remote_ip",
        # PlentyONE
        "firstName", "lastName", "fullName", "name1", "name2", "name3", "name4", "address1", "address2",
        "address3", "address4", "postalCode", "town", "phone", "privatePhone", "privateMobile", "privateFax",
        "birthdayAt", "birthday", "companyName", "taxIdNumber", "contactPerson", "paypalEmail", "ebayName",
    }
)  # fmt: skip
_EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[A-Za-z]{2,}")
MAX_BODY_CHARS = 65_536


def redact_personal(value: Any, fields: frozenset[str], key: str | None = None) -> Any:
    """Replace secrets (by key name), the configured personal-data fields and anything that looks
    like an e-mail address, recursively."""
    if key is not None and (key in fields or SENSITIVE_KEY.search(key)):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact_personal(v, fields, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_personal(v, fields) for v in value]
    if isinstance(value, str) and "@" in value:
        return _EMAIL.sub(REDACTED, value)
    return value


def redact_url(url: str, fields: frozenset[str]) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, REDACTED if SENSITIVE_KEY.search(k) or k in fields else _EMAIL.sub(REDACTED, v))
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]")))


def _body(raw: bytes | str | None, fields: frozenset[str]) -> Any:
    if raw is None or raw == b"" or raw == "":
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return redact_personal(json.loads(text), fields)
    except ValueError:
        text = _EMAIL.sub(REDACTED, text)
        return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…"


class RequestLog:
    """Appends one JSON line per exchange. Thread- and task-safe; cheap when not constructed."""

    def __init__(self, path: Path, *, personal_fields: Iterable[str] | None = None, log_bodies: bool = True) -> None:
        self.path = path
        self.fields = frozenset(DEFAULT_PERSONAL_FIELDS if personal_fields is None else personal_fields)
        self.log_bodies = log_bodies
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    @classmethod
    def for_profile(cls, log_dir: Path, profile: str, **kwargs: Any) -> RequestLog:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", profile)
        return cls(log_dir / f"{safe}_request.log", **kwargs)

    def record(
        self,
        *,
        method: str,
        url: str,
        request_body: bytes | None,
        status: int | None,
        response_body: bytes | None,
        elapsed_ms: float,
        attempt: int,
        error: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": method,
            "url": redact_url(url, self.fields),
            "status": status,
            "elapsed_ms": round(elapsed_ms, 1),
            "attempt": attempt,
        }
        if error:
            entry["error"] = error
        if self.log_bodies:
            entry["request"] = _body(request_body, self.fields)
            entry["response"] = _body(response_body, self.fields)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
