"""`LoginFlow`: the component's `login-flow` resource, the whole login as a
state machine that says what to send and when to wake it.

A flow spans many calls, so it keeps one store (and instance) of its own for
its whole life; closing it drops the resource, and the store goes with the
flow. Nothing here knows the protocol: the component decides every request,
retry, wait and error; this module only converts values.
"""

from types import TracebackType
from typing import Any, Self

from wasmtime.component import Variant

from ._component import _lift, _lower, _lower_identity, _runtime
from ._types import (
    Credentials,
    Done,
    Event,
    Failed,
    FileFailed,
    FileRead,
    FileToRead,
    LoginError,
    LoginOptions,
    LoginResult,
    Outgoing,
    ReadFile,
    Responded,
    Send,
    Start,
    Step,
    StepKind,
    TransportFailed,
    Wait,
    Woke,
)


class LoginFlow:
    """A login in progress, to the registry `reference` names, with
    `credentials` (an Entra token as a `str`, or an `Identity`) and `options`.

    Drive it with `step(now_ms, event)`: the first call takes `Start()`, and
    each returns what to do next: `Send` a request (then step with
    `Responded` or `TransportFailed`), `Wait` until a time (then `Woke()`),
    `ReadFile` (then `FileRead` or `FileFailed`), or the end, `Done` or
    `Failed`, which every further step returns again. Time is an argument
    (unix milliseconds), never read. Every argument is checked when the flow
    is made; a refused one makes the first step `Failed` with
    `INVALID_INPUT`, before any request.

    Use it as a context manager, or call `close()`, to drop the resource.
    """

    def __init__(self, reference: str, credentials: Credentials, options: LoginOptions | None = None) -> None:
        runtime = _runtime()
        self._store, instance = runtime.instantiate()
        self._step = runtime.func(self._store, instance, "flow", "[method]login-flow.step")
        new = runtime.func(self._store, instance, "flow", "[constructor]login-flow")
        # `credentials` is passed bare: the component tells its two cases apart
        # by their Python class (see `_component`).
        lowered = credentials if isinstance(credentials, str) else _lower_identity(credentials)
        self._flow: Any = new(self._store, reference, lowered, _lower(options or LoginOptions()))

    def step(self, now_ms: int, event: Event) -> Step:
        """Takes what happened since the last step, at `now_ms` (unix
        milliseconds), and returns what to do next. An event the flow did not
        ask for fails the login with `MISUSE`."""
        if self._flow is None:
            raise ValueError("the login flow is closed")
        return _lift_step(self._step(self._store, self._flow, now_ms, _lower_event(event)))

    def close(self) -> None:
        """Drops the flow; stepping it afterwards raises `ValueError`."""
        if self._flow is not None:
            self._flow.drop(self._store)
            self._flow = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _lower_event(event: Event) -> Variant:
    """An event as the component's `event` variant."""
    match event:
        case Start() | Woke():
            return Variant(event.kind.value)
        case Responded(response):
            return Variant(event.kind.value, _lower(response))
        case TransportFailed(error):
            return Variant(event.kind.value, _lower(error))
        case FileRead(text) | FileFailed(text):
            return Variant(event.kind.value, text)
    raise TypeError(f"an event is a Start, Responded, TransportFailed, Woke, FileRead or FileFailed, not {event!r}")


def _lift_step(step: Variant) -> Step:
    """The component's `step` variant as a `Step`."""
    payload: Any = step.payload
    match StepKind(step.tag):
        case StepKind.SEND:
            return Send(_lift(Outgoing, payload))
        case StepKind.WAIT:
            return Wait(payload)
        case StepKind.READ_FILE:
            return ReadFile(_lift(FileToRead, payload))
        case StepKind.DONE:
            return Done(_lift(LoginResult, payload))
        case StepKind.FAILED:
            return Failed(_lift(LoginError, payload))
    raise AssertionError(f"no step {step.tag}")
