"""The shared loop's KL machinery: π_old evaluated once per update, the post-update KL, the beta rule in training, and the
stop on non-finite values."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.type_aliases import RolloutBufferSamples

import sb3_ppo_variants.base as base
from sb3_ppo_variants import PPOAdaptiveKL, PPOFixedKL
from sb3_ppo_variants.kl import Captured, capture, kl_divergence
from sb3_ppo_variants.objectives import FixedKLPenalty, adapt_kl_coef
from tests.conftest import params_of


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_minibatch_kl_is_zero_before_the_first_step_and_positive_after(
    env_id: str, monkeypatch: pytest.MonkeyPatch, small_kwargs: dict[str, Any]
) -> None:
    """If π_old aliased π_θ (pitfall 3) every KL would be 0; if π_old were stale it would not start at 0."""
    seen: list[float] = []

    def recording_kl(old: Captured, new: Captured) -> th.Tensor:
        kl = kl_divergence(old, new)
        seen.append(kl.mean().item())
        return kl

    monkeypatch.setattr(base, "kl_divergence", recording_kl)
    model = PPOFixedKL("MlpPolicy", env_id, learning_rate=1e-3, **small_kwargs)
    per_update = small_kwargs["n_epochs"] * small_kwargs["n_steps"] // small_kwargs["batch_size"]
    model.learn(2 * small_kwargs["n_steps"])
    minibatch_kls = [seen[i : i + per_update] for i in range(0, len(seen), per_update + 1)]  # +1: the rollout KL
    assert len(minibatch_kls) == 2
    for kls in minibatch_kls:
        assert kls[0] == 0.0  # π_old is taken before the first gradient step of every update
        assert all(kl > 0 for kl in kls[1:])


def test_old_distribution_is_a_constant_of_the_update(monkeypatch: pytest.MonkeyPatch, small_kwargs: dict[str, Any]) -> None:
    """π_old carries no gradient and is the same tensors for every minibatch of an update."""
    olds: list[Captured] = []

    def recording_kl(old: Captured, new: Captured) -> th.Tensor:
        olds.append(old)
        return kl_divergence(old, new)

    monkeypatch.setattr(base, "kl_divergence", recording_kl)
    PPOFixedKL("MlpPolicy", "Pendulum-v1", **small_kwargs).learn(64)
    assert all(not p.a.requires_grad and not p.b.requires_grad for old in olds for p in old)  # type: ignore[union-attr]
    rollout_old = olds[-1]  # the post-update KL compares the whole rollout's π_old with the new policy
    assert rollout_old[0].a.shape[0] == 64


def test_rollout_kl_matches_a_direct_computation(small_kwargs: dict[str, Any]) -> None:
    """train/kl is the mean over every state of the rollout of KL[π_old ‖ π_θ], π_old being the policy before the
    update: recompute it from a copy of the policy saved before train()."""
    model = PPOAdaptiveKL("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, **small_kwargs).learn(64)
    model.set_logger(Logger(None, []))
    before = copy.deepcopy(model.policy)
    model.train()  # a second update on the same rollout
    obs = th.as_tensor(model.rollout_buffer.observations).reshape(-1, 3)
    with th.no_grad():
        old = capture(before.get_distribution(obs))
        new = capture(model.policy.get_distribution(obs))
    expected = kl_divergence(old, new).mean().item()
    assert expected > 0
    assert model.logger.name_to_value["train/kl"] == pytest.approx(expected, rel=1e-5)


def test_custom_buffer_that_samples_differently_is_refused(small_kwargs: dict[str, Any]) -> None:
    """The KL term pairs each sample with its old distribution by position; a buffer that shuffles with another
    generator would silently pair the wrong ones, so it is refused."""

    class ReversedBuffer(RolloutBuffer):
        def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
            np.random.permutation(self.buffer_size * self.n_envs)  # draws like SB3, then ignores it
            yield from super().get(batch_size)

    model = PPOFixedKL("MlpPolicy", "Pendulum-v1", rollout_buffer_class=ReversedBuffer, **small_kwargs)
    with pytest.raises(RuntimeError, match="did not sample minibatches"):
        model.learn(64)


def test_adaptive_beta_follows_the_rule_once_per_update(small_kwargs: dict[str, Any]) -> None:
    model = PPOAdaptiveKL("MlpPolicy", "CartPole-v1", kl_target=0.003, learning_rate=1e-3, **small_kwargs)
    model.set_logger(Logger(None, []))
    history = []
    for _ in range(6):
        model.learn(small_kwargs["n_steps"], reset_num_timesteps=False)
        values = model.logger.name_to_value
        history.append((values["train/kl"], values["train/kl_coef"], model.kl_coef))
    for kl, beta_used, beta_next in history:
        assert beta_next == adapt_kl_coef(kl, beta_used, 0.003)
    for (_, _, beta_next), (_, beta_used, _) in itertools.pairwise(history):
        assert beta_used == beta_next  # the adapted beta is the one the next update uses
    assert len({beta for _, beta, _ in history}) > 1  # beta did move in this run


def test_fixed_beta_never_changes(small_kwargs: dict[str, Any]) -> None:
    # kl_target far below any KL an update reaches: the adaptive rule doubles β after every update...
    adaptive = PPOAdaptiveKL("MlpPolicy", "CartPole-v1", kl_coef=3.0, kl_target=1e-9, **small_kwargs).learn(256)
    updates = adaptive.num_timesteps // adaptive.n_steps
    assert updates >= 2 and adaptive.kl_coef == 3.0 * 2**updates
    # ...and through the same end of an update (the rollout KL measured, logged and handed to the variant) the fixed
    # variant keeps it, update after update.
    fixed = PPOFixedKL("MlpPolicy", "CartPole-v1", kl_coef=3.0, **small_kwargs)
    fixed.set_logger(Logger(None, []))
    seen: list[tuple[float, float]] = []

    class Recording(FixedKLPenalty):
        def after_update(self, model: Any, kl: float) -> None:
            super().after_update(model, kl)
            seen.append((kl, model.logger.name_to_value["train/kl_coef"]))

    fixed.objective = Recording()  # type: ignore[misc]
    fixed.learn(256)
    assert len(seen) == updates and all(kl > 0 and logged == 3.0 for kl, logged in seen)
    assert fixed.kl_coef == 3.0


def test_non_finite_loss_stops_before_the_step(small_kwargs: dict[str, Any]) -> None:
    model = PPOFixedKL("MlpPolicy", "Pendulum-v1", **small_kwargs).learn(64)
    before = params_of(model)
    model.rollout_buffer.advantages[:] = float("nan")
    with pytest.raises(FloatingPointError, match=r"PPOFixedKL: the loss is nan .*epoch 1/2, minibatch 1\)"):
        model.train()
    after = params_of(model)
    assert all(th.equal(before[k], after[k]) for k in before)  # the NaN never reached the parameters


def test_non_finite_kl_stops_training(monkeypatch: pytest.MonkeyPatch, small_kwargs: dict[str, Any]) -> None:
    model = PPOAdaptiveKL("MlpPolicy", "Pendulum-v1", **small_kwargs).learn(64)
    beta = model.kl_coef
    # an overflowing KL, as a policy whose mean ran off to 1e30 would give in float32
    monkeypatch.setattr(base, "kl_divergence", lambda old, new: kl_divergence(old, new) + float("inf"))
    with pytest.raises(FloatingPointError, match=r"PPOAdaptiveKL: the loss is inf"):
        model.train()
    assert model.kl_coef == beta  # the failed update did not adapt beta
