"""`Deadline`: one point in time per step, and the parts of it each call gets."""

from __future__ import annotations

from jobmatch.deadline import Deadline


class Clock:
    """Monotonic time that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_counts_down_to_zero_and_then_it_is_expired() -> None:
    clock = Clock()
    deadline = Deadline.after(20.0, clock)
    assert (deadline.remaining(), deadline.expired) == (20.0, False)
    clock.now += 19.5
    assert deadline.remaining() == 0.5
    clock.now += 1.0
    assert (deadline.remaining(), deadline.expired) == (0.0, True)


def test_a_part_ends_by_its_own_length_or_before_the_whole_less_what_it_keeps() -> None:
    clock = Clock()
    step = Deadline.after(20.0, clock)
    assert step.part(10.0).remaining() == 10.0  # scoring: at most half the step
    clock.now += 15.0
    assert step.part(10.0).remaining() == 5.0  # never past the step
    assert step.part(keep=0.5).remaining() == 4.5  # the LLM: what is left, less a margin
    clock.now += 4.6
    assert step.part(keep=0.5).expired
    assert not step.expired
