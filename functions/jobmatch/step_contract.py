"""The contract of a step: one frozen input model in, one typed output out.

A step body is a plain function `body(deps, inp) -> Out` (or `body(deps) -> Out`
when it needs no input), declared with `@step_body`. The declaration:

- checks its input and output: the input is a frozen `StepInput`, the output any
  type pydantic can check (a `StepOutput` model, a count, a list of ids), never a
  bare `dict`, so what a later call reads back from Inngest's memoized state is
  validated once, here, instead of by `.get` at every reader;
- turns a `PermanentError` raised inside the body into `inngest.NonRetriableError`
  (Inngest only stops retrying for one raised *inside* the step's function);
- is the only way a workflow runs a step: `body.run(ctx, "step-id", deps, inp)`
  calls `ctx.step.run` with a closure, and returns the output typed.

`deps` is anything shaped like `StepDeps` (the app's `Dependencies` is), so a step
body reaches the database, the embedder or the mailer the way the app was built,
and a test calls the body directly: `body(deps, Input(...))`.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

import inngest
from pydantic import BaseModel, ConfigDict, TypeAdapter

from jobmatch.failures import PermanentError

if TYPE_CHECKING:
    import httpx

    from jobmatch.ai.embedder import EmbeddingProvider
    from jobmatch.ai.llm import LLM
    from jobmatch.db.unit_of_work import UnitOfWork
    from jobmatch.mail import Mailer
    from jobmatch.security.addresses import Resolver
    from jobmatch.settings import Settings

In = TypeVar("In", bound="StepInput")
Out = TypeVar("Out")


class StepInput(BaseModel):
    """Base of step inputs: immutable, no field the body does not declare."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StepOutput(BaseModel):
    """Base of step outputs: snake_case fields, nothing undeclared."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoInput(StepInput):
    """The input of a step that needs none."""


class StepDeps(Protocol):
    """What a step body may use (the app's `Dependencies` provides it)."""

    @property
    def settings(self) -> Settings:
        """The app's settings."""

    @property
    def embedder(self) -> EmbeddingProvider:
        """Text embeddings."""

    @property
    def llm(self) -> LLM | None:
        """The LLM, or None when AI is off."""

    @property
    def mailer(self) -> Mailer:
        """The one mail path."""

    @property
    def http(self) -> httpx.Client:
        """HTTP for webhook callbacks."""

    @property
    def fetch_http(self) -> httpx.Client:
        """HTTP for public APIs."""

    @property
    def resolver(self) -> Resolver:
        """Host names to addresses (the webhook guard)."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """One transaction on the app's database."""


class StepBody(Generic[In, Out]):
    """A declared step body (see the module's docstring)."""

    def __init__(self, fn: Callable[..., Out], input_type: type[In], output: TypeAdapter[Out]):
        self.fn = fn
        self.input_type = input_type
        self.output = output
        self.takes_input = input_type is not NoInput
        functools.update_wrapper(self, fn)

    def __call__(self, deps: StepDeps, inp: In | None = None) -> Out:
        """Run the body here and now (tests; `run` for a workflow's step)."""
        args: tuple[object, ...] = (deps,)
        if self.takes_input:
            if not isinstance(inp, self.input_type):
                raise TypeError(f"{self.fn.__qualname__} takes a {self.input_type.__name__}")
            args = (deps, inp)
        try:
            return self.fn(*args)
        except PermanentError as exc:
            raise inngest.NonRetriableError(f"{type(exc).__name__}: {exc}") from exc

    def run(
        self, ctx: inngest.ContextSync, step_id: str, deps: StepDeps, inp: In | None = None
    ) -> Out:
        """Run the body as Inngest step `step_id`; its output, checked."""
        raw = ctx.step.run(step_id, lambda: self.to_json(self(deps, inp)))
        return self.from_json(raw)

    def to_json(self, out: Out) -> Any:
        """The output as it goes over the wire."""
        return self.output.dump_python(out, mode="json")

    def from_json(self, raw: Any) -> Out:
        """The output read back from Inngest's memoized state."""
        return self.output.validate_python(raw)


def step_body(fn: Callable[..., Out]) -> StepBody[Any, Out]:
    """Declare `fn(deps[, inp]) -> Out` a step body (see the module's docstring)."""
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters)
    if len(params) not in (1, 2):
        raise TypeError(f"{fn.__qualname__}: a step body takes (deps) or (deps, inp)")
    input_type: type[StepInput] = hints[params[1]] if len(params) == 2 else NoInput
    if not (isinstance(input_type, type) and issubclass(input_type, StepInput)):
        raise TypeError(f"{fn.__qualname__}: its input must be a StepInput model")
    if not input_type.model_config.get("frozen"):
        raise TypeError(f"{fn.__qualname__}: its input model must be frozen")
    out_type = hints.get("return")
    if out_type is None or _is_bare_dict(out_type):
        raise TypeError(f"{fn.__qualname__}: its output must be typed, and not a dict")
    return StepBody(fn, input_type, cast(TypeAdapter[Out], TypeAdapter(out_type)))


def _is_bare_dict(tp: object) -> bool:
    origin = typing.get_origin(tp) or tp
    if origin is dict:
        return True
    return any(_is_bare_dict(arg) for arg in typing.get_args(tp))
