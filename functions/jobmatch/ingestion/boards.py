"""Fetch one company's board from Ashby, Greenhouse or Lever, within one budget.

- Ashby: `GET {ashby}/posting-api/job-board/{board}?includeCompensation=true`,
  the whole board in one `{"jobs": [...]}`.
- Greenhouse: `GET {greenhouse}/v1/boards/{token}/jobs?content=true`, the whole
  board in one `{"jobs": [...], "meta": ...}`; EU boards from the EU host.
- Lever: `GET {lever}/v0/postings/{site}?mode=json&skip=&limit=`, a bare array per
  page: pages until one is short, de-duplicated by id (the board can change while
  we page), at most `lever_max_pages`; EU sites from the EU host.

Every request and retry of one board ends by one deadline (the caller gives a
part of its step's: `board_fetch_budget_seconds`), so the step that fetches and
stores a board stays inside its 20 s. A 404 means the board does not exist (a
typo, or the company left the provider); a response that is not the provider's
shape is `BoardMalformedError`: retrying cannot fix either (`PermanentError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from jobmatch.deadline import Deadline
from jobmatch.failures import PermanentError
from jobmatch.ingestion.postings import (
    BoardPostings,
    ashby_postings,
    greenhouse_postings,
    lever_postings,
)
from jobmatch.outbound import RetryPolicy, UpstreamUnavailableError, get_with_retries
from jobmatch.settings import Settings


class BoardMalformedError(PermanentError):
    """The board answered, but not with its provider's response shape."""


@dataclass(frozen=True)
class Board:
    """What fetching a company's board needs to know."""

    company_id: int
    company: str
    provider: str
    token: str
    region: str = "global"


@dataclass(frozen=True)
class Fetched:
    """A board's postings and whether the list is the whole board (a Lever board
    cut at the page cap is not: what is missing has not left the board)."""

    postings: BoardPostings
    complete: bool = True


class BoardClient:
    """Fetches boards with the app's fetch client and the settings' limits."""

    def __init__(
        self,
        http: httpx.Client,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.settings = settings
        self.policy = RetryPolicy(
            settings.board_timeout_seconds,
            settings.board_max_attempts,
            settings.board_backoff_seconds,
        )
        self._sleep = sleep

    def fetch(self, board: Board, deadline: Deadline) -> Fetched:
        """The board's postings by `deadline`; raises `UpstreamRejectedError` (404: no
        such board), `UpstreamUnavailableError` (retry later) or `BoardMalformedError`."""
        if board.provider == "lever":
            return self._lever(board, deadline)
        s = self.settings
        token = quote(board.token, safe="")
        if board.provider == "ashby":
            url = f"{s.ashby_api_url}/posting-api/job-board/{token}"
            params, parse = {"includeCompensation": "true"}, ashby_postings
        else:
            base = s.greenhouse_eu_api_url if board.region == "eu" else s.greenhouse_api_url
            url, params = f"{base}/v1/boards/{token}/jobs", {"content": "true"}
            parse = greenhouse_postings
        postings = parse(self._get_json(url, params, deadline, board), board.company)
        if postings is None:
            raise BoardMalformedError(f"{board.provider} board {board.token}: no jobs list")
        return Fetched(postings)

    def _lever(self, board: Board, deadline: Deadline) -> Fetched:
        s = self.settings
        base = s.lever_eu_api_url if board.region == "eu" else s.lever_api_url
        url = f"{base}/v0/postings/{quote(board.token, safe='')}"
        merged = BoardPostings()
        ids: set[str] = set()
        for page in range(s.lever_max_pages):
            params = {"mode": "json", "skip": page * s.lever_page_size, "limit": s.lever_page_size}
            body = self._get_json(url, params, deadline, board)
            part = lever_postings(body, board.company)
            if part is None:
                raise BoardMalformedError(f"lever site {board.token}: not a postings array")
            merged.malformed += part.malformed
            merged.jobs.extend(j for j in part.jobs if j.external_id not in ids)
            merged.seen_ids.extend(i for i in part.seen_ids if i not in ids)
            ids.update(part.seen_ids)
            if len(body) < s.lever_page_size:
                return Fetched(merged)
        return Fetched(merged, complete=False)

    def _get_json(self, url: str, params: dict[str, Any], deadline: Deadline, board: Board) -> Any:
        what = f"{board.provider} board {board.token}"
        if deadline.expired:
            raise UpstreamUnavailableError(f"{what}: the step's time is spent")
        response = get_with_retries(
            self.http,
            url,
            params=params,
            policy=self.policy,
            deadline=deadline,
            what=what,
            sleep=self._sleep,
        )
        try:
            return response.json()
        except ValueError as exc:
            raise BoardMalformedError(f"{what}: invalid JSON") from exc
