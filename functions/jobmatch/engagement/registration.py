"""`user/registered`: create or complete the user, then welcome them.

Our users are keyed by a database id and unique by email. A registration whose
`userId` names an existing user completes that user (a missing name is filled);
if that user has another email, the event contradicts our data and is refused
for good. Otherwise the user is created, or completed, by email (an upsert, so a
repeated or concurrent registration makes one user), and gets an empty
preferences row, so the first matching run has a profile to work from. The
welcome email is keyed per user: a second registration sends no second welcome.
"""

from __future__ import annotations

import inngest

from jobmatch.alerts import store as alerts_store
from jobmatch.alerts.emails import compose
from jobmatch.engagement import store
from jobmatch.engagement.activity import RunStep
from jobmatch.runs.progress import advance
from jobmatch.step_contract import StepDeps, StepOutput, step_body


class Registration(RunStep):
    """`user/registered`: who, by which id, address and name."""

    user_id: int
    email: str
    name: str | None


class RegisteredUser(StepOutput):
    """The user a registration created or completed."""

    user_id: int
    premium: bool
    created: bool


class Welcome(RunStep):
    """The user to welcome."""

    user_id: int


@step_body
def register_user(deps: StepDeps, inp: Registration) -> RegisteredUser:
    """The user (id, premium, created), created or completed."""
    with deps.unit_of_work() as uow:
        existing = store.user_email(uow, inp.user_id)
        if existing is not None and existing != inp.email:
            raise inngest.NonRetriableError(f"user {inp.user_id} is registered with another email")
        user = store.register(uow, inp.email, inp.name)
        advance(uow, inp.ref, 1, detail={"user_id": user.user_id})
    return RegisteredUser(user_id=user.user_id, premium=user.premium, created=user.created)


@step_body
def send_welcome(deps: StepDeps, inp: Welcome) -> bool:
    """The welcome email, once per user; False when it was not sent now."""
    with deps.unit_of_work() as uow:
        to = alerts_store.recipient(uow, inp.user_id)
        if to is None:
            raise inngest.NonRetriableError(f"user {inp.user_id} not found")
        sent = deps.mailer.send(uow, compose(to, "welcome", [], f"welcome:{inp.user_id}"))
        advance(uow, inp.ref, 2, done=True, detail={"welcomed": sent})
    return sent
