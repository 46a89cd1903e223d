"""Clipping as a per-sample KL penalty and soft clipping (KLip-PPO, ../shared/klip-notes.md): the per-sample penalty's
gradient is PPO-Clip's on every action space, one update lands where PPO-Clip's does, soft clipping tends to PPO-Clip
as its softness goes to 0, and every objective logs the partition of its samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from sb3_contrib.common.envs import InvalidActionEnvDiscrete
from stable_baselines3.common.env_util import make_vec_env

from sb3_ppo_variants import (
    MaskablePPOClip,
    MaskablePPOPerSampleKL,
    PPOClip,
    PPOPerSampleKL,
    PPOSoftClip,
    RecurrentPPOClip,
    RecurrentPPOPerSampleKL,
    RecurrentPPOSoftClip,
    SurrogatePPO,
)
from sb3_ppo_variants.objectives import (
    Clipping,
    PerSampleKLPenalty,
    SoftClip,
    harmful_excess,
    killed,
    partition,
    surrogate_loss,
)
from sb3_ppo_variants.registry import REGISTRY
from tests.conftest import ACTION_SPACE_ENVS, logged_keys, params_of

#: the largest gradient difference between PPOClip's loss and the per-sample penalty's, relative to the gradient's
#: scale, on frozen minibatches (float32 rounding of r·Â + β: a few ulps)
GRADIENT_RTOL = 1e-5


def minibatch_gradients(cls: type, env: Any, objective: Any, settings: dict[str, Any]) -> tuple[th.Tensor, th.Tensor]:
    """The policy parameters' gradients of PPO-Clip's loss and of ``objective``'s on one frozen minibatch of a rollout,
    with the parameters moved so that ratios spread well outside [0.8, 1.2]."""
    model = cls("MlpPolicy", make_vec_env(env, n_envs=1, seed=0), n_steps=64, batch_size=64, seed=0, device="cpu")
    model.learn(64)  # fills the buffer; the update then moves θ away from θ_old
    with th.no_grad():
        generator = th.Generator().manual_seed(1)
        for parameter in model.policy.parameters():
            parameter.add_(0.3 * th.randn(parameter.shape, generator=generator))
    samples = next(iter(model.rollout_buffer.get(64)))
    actions = (
        samples.actions.long().flatten()
        if isinstance(model.action_space, __import__("gymnasium").spaces.Discrete)
        else samples.actions
    )
    gradients = []
    for each in (Clipping(), objective):
        model.policy.zero_grad()
        _, log_prob, _ = model.policy.evaluate_actions(samples.observations, actions)
        ratio = th.exp(log_prob - samples.old_log_prob)
        advantages = (samples.advantages - samples.advantages.mean()) / (samples.advantages.std() + 1e-8)
        each.loss(ratio, advantages, 0.2, None, None, th.mean, settings).total.backward()
        gradients.append(th.cat([p.grad.flatten() for p in model.policy.parameters() if p.grad is not None]))
        fraction = killed(ratio.detach(), advantages, 0.2).float().mean().item()
    assert 0.05 < fraction < 0.95  # the case is not trivial: many samples are cut off, many are not
    return gradients[0], gradients[1]


@pytest.mark.parametrize("space", sorted(ACTION_SPACE_ENVS))
def test_per_sample_penalty_gradient_is_ppo_clips_on_every_action_space(space: str) -> None:
    clip, per_sample = minibatch_gradients(PPOClip, ACTION_SPACE_ENVS[space], PerSampleKLPenalty(), {})
    error = (clip - per_sample).abs().max().item() / clip.abs().max().item()
    assert error < GRADIENT_RTOL, f"{space}: relative gradient error {error:.2e}"
    assert clip.abs().max().item() > 0


def _one_update(cls: type, env_id: Any, fast: bool, **kwargs: Any) -> Any:
    policy = "MlpLstmPolicy" if cls.family_key == "ppo_lstm" else "MlpPolicy"
    env = make_vec_env(env_id, n_envs=1, seed=0)
    model = cls(policy, env, n_steps=64, batch_size=32, n_epochs=4, seed=0, device="cpu", fast=fast, **kwargs)
    return model.learn(64)


def _max_difference(a: Any, b: Any) -> float:
    pa, pb = params_of(a), params_of(b)
    return max((pa[k] - pb[k]).abs().max().item() for k in pa)


@pytest.mark.parametrize(
    ("clip_cls", "per_sample_cls", "env_id"),
    [
        (PPOClip, PPOPerSampleKL, "Pendulum-v1"),
        (PPOClip, PPOPerSampleKL, "CartPole-v1"),
        (MaskablePPOClip, MaskablePPOPerSampleKL, lambda: InvalidActionEnvDiscrete(dim=4, n_invalid_actions=1)),
        (RecurrentPPOClip, RecurrentPPOPerSampleKL, "Pendulum-v1"),
    ],
    ids=["ppo-box", "ppo-discrete", "maskable", "recurrent"],
)
@pytest.mark.parametrize("fast", [False, True], ids=["exact", "fast"])
def test_one_update_lands_where_ppo_clips_does(clip_cls: type, per_sample_cls: type, env_id: Any, fast: bool) -> None:
    clip = _one_update(clip_cls, env_id, fast)
    per_sample = _one_update(per_sample_cls, env_id, fast)
    assert _max_difference(clip, per_sample) < 1e-6
    assert _max_difference(clip, _one_update(clip_cls, env_id, fast, learning_rate=1e-4)) > 1e-4  # it did move


@pytest.mark.parametrize("gate", ["linear", "sigmoid"])
def test_soft_clipping_tends_to_ppo_clip_as_the_softness_goes_to_zero(gate: str) -> None:
    generator = th.Generator().manual_seed(0)
    n = 4096
    log_ratio = th.empty(n, dtype=th.float64).uniform_(-0.6, 0.5, generator=generator).requires_grad_()
    advantages = th.randn(n, generator=generator, dtype=th.float64)

    def gradient(objective: Any, settings: dict[str, Any]) -> th.Tensor:
        ratio = th.exp(log_ratio)
        (grad,) = th.autograd.grad(objective.loss(ratio, advantages, 0.2, None, None, th.mean, settings).total, log_ratio)
        return grad

    reference = gradient(Clipping(), {})
    errors = [
        (gradient(SoftClip(), {"soft_clip": gate, "softness": s}) - reference).abs().max().item()
        for s in (0.1, 1e-2, 1e-3, 1e-6)
    ]
    assert errors == sorted(errors, reverse=True) and errors[0] > 1e-4, errors
    assert errors[-1] < 1e-4 * errors[0]


def test_soft_gates_by_hand() -> None:
    ratio = th.tensor([1.0, 1.21, 1.3, 0.75, 1.3])
    advantages = th.tensor([1.0, 1.0, 1.0, -1.0, -1.0])
    th.testing.assert_close(harmful_excess(ratio, advantages, 0.2), th.tensor([-0.2, 0.01, 0.1, 0.05, -0.5]))
    coef = SoftClip().sample_kl_coef(ratio, advantages, 0.2, {"soft_clip": "linear", "softness": 0.05})
    # β_t = -r·Â·clamp(h / 0.05, 0, 1): 0 in band and on the harmless side, partial at h = 0.01, full past 0.05
    th.testing.assert_close(coef, th.tensor([0.0, -1.21 * 0.2, -1.3, 0.75, 0.0]))
    sigmoid = SoftClip().sample_kl_coef(ratio, advantages, 0.2, {"soft_clip": "sigmoid", "softness": 0.05})
    assert 0 < -sigmoid[0].item() < 0.02  # nonzero inside the band
    assert th.equal(
        PerSampleKLPenalty().sample_kl_coef(ratio, advantages, 0.2, None), th.tensor([0.0, -1.21, -1.3, 0.75, 0.0])
    )


def test_partition_by_hand() -> None:
    ratio = th.tensor([1.0, 1.3, 1.3, 0.7, 0.7, 1.3])
    advantages = th.tensor([1.0, 1.0, -1.0, -1.0, 1.0, 0.0])
    # in band; killed (up, Â > 0); passed (up, Â < 0); killed (down, Â < 0); passed (down, Â > 0); outside, Â = 0: none
    coef = PerSampleKLPenalty().sample_kl_coef(ratio, advantages, 0.2, None)
    fractions = partition(ratio, advantages, 0.2, th.mean, coef)
    th.testing.assert_close(fractions, th.tensor([1 / 6, 2 / 6, 2 / 6, (1.3 + 0.7) / 6]))
    assert th.equal(killed(ratio, advantages, 0.2), th.tensor([False, True, False, True, False, False]))
    # ties at the band's edge pass the gradient, as eq. 7's min does through autograd
    edge = th.tensor([1.2], requires_grad=True)
    surrogate_loss(edge, th.tensor([1.0]), 0.2).backward()
    assert edge.grad is not None and edge.grad.item() != 0 and not killed(edge.detach(), th.tensor([1.0]), 0.2).item()


def test_partition_of_stacked_minibatches_is_each_minibatchs() -> None:
    # the loop computes an update's partitions in one go, a row per minibatch: each row is that minibatch's partition
    generator = th.Generator().manual_seed(0)
    ratio = th.exp(0.3 * th.randn(5, 64, generator=generator))
    advantages = th.randn(5, 64, generator=generator)
    advantages[0, :7] = 0.0  # outside the band with Â_t = 0: in none of the three
    coef = PerSampleKLPenalty().sample_kl_coef(ratio, advantages, 0.2, None)
    rows = partition(ratio, advantages, 0.2, lambda values: values.mean(dim=-1), coef)
    assert rows.shape == (5, 4)
    for row, r, a, c in zip(rows, ratio, advantages, coef, strict=True):
        th.testing.assert_close(row, partition(r, a, 0.2, th.mean, c))


@pytest.mark.parametrize(
    ("cls", "kwargs", "minibatches"),
    [
        (PPOSoftClip, dict(n_steps=64, batch_size=32), 6),  # minibatches of one size: the batched computation
        (PPOSoftClip, dict(n_steps=64, batch_size=48), 6),  # a truncated last minibatch: one minibatch at a time
        (RecurrentPPOSoftClip, dict(n_steps=64, batch_size=32), None),  # RecurrentPPO's average over the real steps
        (PPOSoftClip, dict(n_steps=64, batch_size=32, fast=True), 6),  # closed-form gradients: the tensors kept intact
    ],
    ids=["batched", "truncated", "recurrent", "fast"],
)
def test_the_logged_partition_is_the_mean_of_the_minibatches_partitions(
    cls: Any, kwargs: dict[str, Any], minibatches: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stable_baselines3.common.logger import Logger

    captured: list[tuple[list[Any], float]] = []
    record = SurrogatePPO._record_partition

    def recording(self: Any, samples: list[Any], clip_range: float) -> None:
        captured.append((list(samples), clip_range))
        record(self, samples, clip_range)

    monkeypatch.setattr(SurrogatePPO, "_record_partition", recording)
    policy = "MlpLstmPolicy" if cls is RecurrentPPOSoftClip else "MlpPolicy"
    # a narrow band and large steps, so that some samples are killed
    model = cls(policy, "Pendulum-v1", n_epochs=3, clip_range=0.02, learning_rate=3e-3, seed=0, device="cpu", **kwargs)
    model.set_logger(Logger(None, []))
    model.learn(64)  # one rollout, one update
    ((samples, clip_range),) = captured
    assert len(samples) == minibatches if minibatches is not None else len(samples) >= 2
    # the definition: each minibatch's partition under the family's average, averaged over the minibatches
    in_band, cut, passed, weighted = th.stack([partition(r, a, clip_range, m, c) for r, a, c, m in samples]).mean(0).tolist()
    values = model.logger.name_to_value
    assert values["train/frac_in_band"] == pytest.approx(in_band, abs=1e-6)
    assert values["train/frac_killed"] == pytest.approx(cut, abs=1e-6) and cut > 0
    assert values["train/frac_passed"] == pytest.approx(passed, abs=1e-6)
    assert values["train/kl_coef_killed"] == pytest.approx(weighted / cut, rel=1e-5)


@pytest.mark.parametrize("variant", [v for v in REGISTRY if v.family.key == "ppo"], ids=lambda v: v.key)
def test_every_objective_logs_the_partition(variant: Any, small_kwargs: dict[str, Any]) -> None:
    keys = logged_keys(variant.cls("MlpPolicy", "Pendulum-v1", **small_kwargs), 128)
    assert {"train/frac_in_band", "train/frac_killed", "train/frac_passed"} <= keys
    assert ("train/kl_coef_killed" in keys) == (variant.objective.key in ("per_sample_kl", "soft_clip"))


def test_partition_values_sum_to_at_most_one_and_match_clip_fraction(small_kwargs: dict[str, Any]) -> None:
    from stable_baselines3.common.logger import Logger

    model = PPOSoftClip("MlpPolicy", "Pendulum-v1", **small_kwargs)
    model.set_logger(Logger(None, []))
    model.learn(64)
    model.train()
    values = model.logger.name_to_value
    fractions = [values["train/frac_in_band"], values["train/frac_killed"], values["train/frac_passed"]]
    assert all(0 <= f <= 1 for f in fractions) and sum(fractions) <= 1 + 1e-6
    assert values["train/frac_in_band"] == pytest.approx(1 - values["train/clip_fraction"], abs=1e-6)
    assert values["train/kl_coef_killed"] >= 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(soft_clip="cubic"), ValueError, "`soft_clip` must be 'linear' or 'sigmoid', got 'cubic'"),
        (dict(soft_clip=1), TypeError, "`soft_clip` must be 'linear' or 'sigmoid', got int 1"),
        (dict(softness=0.0), ValueError, r"`softness` must be in \(0.0, inf\), got 0.0"),
        (dict(softness="a"), TypeError, "`softness`"),
        (dict(clip_range=None), ValueError, "for no clipping use PPONoClip"),
    ],
)
def test_soft_clip_arguments_are_checked_before_the_env_is_built(kwargs: dict[str, Any], error: type, message: str) -> None:
    from tests.test_validation import ExplodingEnv  # noqa: F401  (registers ExplodingEnv-v0)

    with pytest.raises(error, match=message):
        PPOSoftClip("MlpPolicy", "ExplodingEnv-v0", **kwargs)


def test_soft_clip_knobs_are_saved_and_loaded(tmp_path: Any) -> None:
    model = PPOSoftClip("MlpPolicy", "Pendulum-v1", soft_clip="sigmoid", softness=0.01, n_steps=64, batch_size=32)
    model.save(tmp_path / "soft")
    loaded = PPOSoftClip.load(tmp_path / "soft")
    assert (loaded.soft_clip, loaded.softness) == ("sigmoid", 0.01)
    with pytest.raises(ValueError, match="`softness`"):
        PPOSoftClip.load(tmp_path / "soft", softness=-1.0)
    np.testing.assert_equal(loaded.clip_range(1.0), 0.2)
