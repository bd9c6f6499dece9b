"""Streaming over PlentyONE's list shapes.

``PaginatedResult`` pages are fetched one at a time and their entries yielded before the next page
is requested. Stop rules (notes §5.1): ``isLastPage``; ``page >= lastPageNumber``; an empty page;
and the server answering a *different* page than requested — past the end, real servers clamp to
the last page and report its real number, which must not be read as new data. Some routes answer a
plain JSON array instead (all records at once, page parameters ignored).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from plentysync.errors import SyncError
from plentysync.plenty.models.common import PageEnvelope

M = TypeVar("M", bound=BaseModel)
Params = list[tuple[str, str]]
FetchPage = Callable[[Params], Awaitable[Any]]


def query(values: Mapping[str, Any] | None = None, *, with_: Sequence[str] = ()) -> Params:
    """Query parameters as a list of pairs: ``None`` dropped, booleans as ``true``/``false``, lists
    repeated as ``name[]``, and ``with`` as ``with[]=a&with[]=b``."""
    pairs: Params = []
    for key, value in (values or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", _text(v)) for v in value)
        else:
            pairs.append((key, _text(value)))
    pairs.extend(("with[]", relation) for relation in with_)
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_list(body: Any, model: type[M]) -> list[M]:
    """A plain array, or the entries of an envelope when a route answers with one anyway."""
    if body is None:
        return []
    if isinstance(body, list):
        return [model.model_validate(entry) for entry in body]
    if isinstance(body, dict) and isinstance(body.get("entries"), list):
        return [model.model_validate(entry) for entry in body["entries"]]
    raise SyncError(f"PlentyONE answered {type(body).__name__} where a list was expected")


async def stream_pages(
    fetch: FetchPage,
    params: Params,
    model: type[M],
    *,
    items_per_page: int,
    start_page: int = 1,
) -> AsyncIterator[M]:
    """Yield every record of a paginated route, one page in memory at a time."""
    page = start_page
    while True:
        body = await fetch([*params, ("page", str(page)), ("itemsPerPage", str(items_per_page))])
        if isinstance(body, list):
            for entry in body:
                yield model.model_validate(entry)
            return
        if not isinstance(body, dict):
            raise SyncError(f"PlentyONE answered {type(body).__name__} where a page was expected")
        envelope = PageEnvelope.model_validate(body)
        if envelope.page is not None and envelope.page != page:
            return
        entries = envelope.entries or []
        for entry in entries:
            yield model.model_validate(entry)
        if not entries or envelope.isLastPage:
            return
        if envelope.lastPageNumber is not None and page >= envelope.lastPageNumber:
            return
        page += 1
