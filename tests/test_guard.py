"""Training never leaves non-finite weights: a bad learning rate is refused before any step uses it, and an update
that made a parameter non-finite is undone, with an error that says only what was checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip
from tests.conftest import params_of

SMALL = dict(n_steps=64, batch_size=32, n_epochs=2, device="cpu", seed=0)


def finite(model: PPOClip) -> bool:
    return all(bool(th.isfinite(t).all()) for t in params_of(model).values())


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1e39, 1e39])
def test_a_schedule_value_out_of_range_stops_before_any_step(fast: bool, bad: float) -> None:
    """The second update (progress 0) gets the bad value: it stops before its first step."""
    snapshots = []

    class Snapshot(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            snapshots.append(params_of(self.model))

    schedule = lambda progress: 3e-4 if progress >= 0.5 else bad  # noqa: E731
    model = PPOClip("MlpPolicy", "CartPole-v1", learning_rate=schedule, fast=fast, **SMALL)
    with pytest.raises(
        ValueError, match=r"the learning_rate schedule returned .* at progress_remaining=0 .* No optimizer step"
    ):
        model.learn(128, callback=Snapshot())
    assert len(snapshots) == 2
    after = params_of(model)
    assert all(th.equal(snapshots[-1][name], after[name]) for name in after)
    assert finite(model)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("name", ["clip_range", "clip_range_vf"])
def test_a_clip_range_schedule_that_returns_nan_stops_before_any_step(fast: bool, name: str) -> None:
    """A NaN ε poisoned the exact path's loss (an error blaming the learning rate) and, in the fast path's closed form,
    zeroed the policy gradient without a word; it is refused like a learning rate's NaN. Negative values pass: SB3's
    linear schedules go below 0 when training overshoots total_timesteps."""
    schedule = lambda progress: 0.2 if progress >= 0.5 else float("nan")  # noqa: E731
    model = PPOClip("MlpPolicy", "Pendulum-v1", fast=fast, **{name: schedule}, **SMALL)
    before = params_of(model)
    with pytest.raises(ValueError, match=rf"the {name} schedule returned nan at progress_remaining=0 .* No optimizer step"):
        model.learn(128)
    assert not all(th.equal(before[k], v) for k, v in params_of(model).items())  # the first update ran
    overshooting = PPOClip("MlpPolicy", "Pendulum-v1", fast=fast, **{name: lambda progress: 0.2 * progress}, **SMALL)
    overshooting.learn(10)  # one rollout of 64 steps for a budget of 10: progress -5.4, ε -1.08, as SB3 computes it
    assert overshooting.num_timesteps == 64


@pytest.mark.parametrize("cls", [PPOClip, PPOAdaptiveKL])
@pytest.mark.parametrize("fast", [False, True])
def test_an_update_that_makes_weights_non_finite_is_undone(cls: type, fast: bool) -> None:
    """A huge learning rate (representable, so accepted) overflows the weights: the update is undone and said so."""
    model = cls("MlpPolicy", "Pendulum-v1", fast=fast, **SMALL)
    model.learn(64)
    before = params_of(model)
    optimizer_state = {k: v.clone() for k, v in model.policy.optimizer.state_dict()["state"][0].items()}
    model.learning_rate = 1e38
    model._setup_lr_schedule()
    with pytest.raises(FloatingPointError, match="back to their finite values before this update"):
        model.learn(64, reset_num_timesteps=False)
    after = params_of(model)
    assert all(th.equal(before[name], after[name]) for name in before)
    restored = model.policy.optimizer.state_dict()["state"][0]
    assert all(th.equal(optimizer_state[k], restored[k].to(optimizer_state[k].device)) for k in optimizer_state)
    # and training goes on from there with a sane learning rate
    model.learning_rate = 3e-4
    model._setup_lr_schedule()
    model.learn(64, reset_num_timesteps=False)
    assert finite(model)
    assert np.isfinite(model.logger.name_to_value["train/loss"])
