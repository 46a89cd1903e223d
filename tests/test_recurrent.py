"""The RecurrentPPO family: RecurrentPPOClip is sb3-contrib's RecurrentPPO bit for bit, the other objectives'
corners are RecurrentPPONoClip bit for bit, π_old is the distribution that acted, and d is the KL over the rollout's
real steps, each environment's LSTM run in time order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger

from sb3_ppo_variants import (
    RecurrentPPOAdaptiveKL,
    RecurrentPPOClip,
    RecurrentPPOFixedKL,
    RecurrentPPONoClip,
    RecurrentSurrogatePPO,
)
from sb3_ppo_variants.kl import capture, concatenate, kl_divergence, select
from sb3_ppo_variants.registry import REGISTRY
from tests.conftest import SB3_TRAIN_KEYS, assert_params_differ, assert_same_params, best_mean_return, logged_keys

SMALL_LSTM = {"lstm_hidden_size": 16}
BUDGET: dict[str, Any] = dict(n_steps=64, batch_size=32, n_epochs=3, device="cpu", policy_kwargs=SMALL_LSTM)
TIMESTEPS = 3 * 64
RECURRENT = [v.cls for v in REGISTRY if v.family.key == "ppo_lstm"]
ENVS: dict[str, Any] = {
    "discrete": "CartPole-v1",  # short episodes: several end inside each rollout
    "box": "Pendulum-v1",
}
#: (name, env, n_envs, constructor arguments)
CASES: list[tuple[str, str, int, dict[str, Any]]] = [
    ("discrete", "discrete", 1, {}),
    ("box", "box", 1, {}),
    ("several_envs", "discrete", 3, {}),
    (
        "shared_lstm",
        "discrete",
        2,
        {"policy_kwargs": {"lstm_hidden_size": 16, "shared_lstm": True, "enable_critic_lstm": False}},
    ),
    ("no_critic_lstm", "box", 1, {"policy_kwargs": {**SMALL_LSTM, "enable_critic_lstm": False}}),
    ("target_kl", "discrete", 1, {"target_kl": 1e-5, "learning_rate": 3e-3}),
    ("clip_range_vf", "box", 2, {"clip_range_vf": 0.1, "ent_coef": 0.01}),
    ("whole_rollout_batch", "discrete", 2, {"batch_size": None}),
]


def _train(cls: type, env: str, n_envs: int, kwargs: dict[str, Any], seed: int = 0, timesteps: int = TIMESTEPS) -> Any:
    model = cls("MlpLstmPolicy", make_vec_env(ENVS[env], n_envs=n_envs, seed=seed), seed=seed, **{**BUDGET, **kwargs})
    return model.learn(timesteps)


@pytest.mark.parametrize("name, env, n_envs, kwargs", CASES, ids=[c[0] for c in CASES])
def test_recurrent_ppo_clip_is_recurrent_ppo_bit_for_bit(name: str, env: str, n_envs: int, kwargs: dict[str, Any]) -> None:
    stock = _train(RecurrentPPO, env, n_envs, kwargs)
    ours = _train(RecurrentPPOClip, env, n_envs, kwargs)
    assert_same_params(stock, ours)
    assert ours._n_updates == stock._n_updates
    if name == "target_kl":  # early stopping did stop something
        assert_params_differ(stock, _train(RecurrentPPO, env, n_envs, {**kwargs, "target_kl": None}))


@pytest.mark.parametrize("env", ["discrete", "box"])
def test_the_unclipped_and_unpenalised_corners_are_recurrent_no_clip(env: str) -> None:
    reference = _train(RecurrentPPONoClip, env, 2, {})
    for cls, kwargs in [
        (RecurrentPPOClip, {"clip_range": math.inf}),
        (RecurrentPPOFixedKL, {"kl_coef": 0.0}),
        (RecurrentPPOAdaptiveKL, {"kl_coef": 0.0}),
    ]:
        assert_same_params(reference, _train(cls, env, 2, kwargs))
    assert_params_differ(reference, _train(RecurrentPPOFixedKL, env, 2, {"kl_coef": 3.0}))


def _acting_distributions(model: Any) -> Any:
    """π_θ at every step of the stored rollout, stepping each environment's LSTM one step at a time from the state
    stored at the rollout's first step, reset at episode starts: what collection did, written independently."""
    buffer = model.rollout_buffer
    steps, n_envs = buffer.buffer_size, buffer.n_envs
    # the buffer's arrays are flattened environment-major (position e * steps + t) once get() has run
    observations = buffer.observations.reshape(n_envs, steps, -1)
    starts = buffer.episode_starts.reshape(n_envs, steps)
    hidden = buffer.hidden_states_pi.reshape(n_envs, steps, *buffer.hidden_states_pi.shape[1:])
    cells = buffer.cell_states_pi.reshape(n_envs, steps, *buffer.cell_states_pi.shape[1:])
    lstm = model.policy.lstm_actor
    per_env = []
    for env in range(n_envs):
        state = (th.as_tensor(hidden[env, 0]).unsqueeze(1), th.as_tensor(cells[env, 0]).unsqueeze(1))
        outputs = []
        with th.no_grad():
            for t in range(steps):
                keep = 1.0 - float(starts[env, t])
                features = model.policy.extract_features(
                    th.as_tensor(observations[env, t : t + 1]), model.policy.pi_features_extractor
                )
                output, state = lstm(features.unsqueeze(0), (keep * state[0], keep * state[1]))
                outputs.append(output[0])
            latent = model.policy.mlp_extractor.forward_actor(th.cat(outputs))
            per_env.append(capture(model.policy._get_action_dist_from_latent(latent)))
    return concatenate(per_env)


def _log_prob(captured: Any, actions: th.Tensor) -> th.Tensor:
    """log π(a|s) of a captured Gaussian or categorical, written from the parameters."""
    (params,) = captured
    if params.family == "normal":
        return th.distributions.Normal(params.a, params.b).log_prob(actions).sum(dim=1)
    return params.a.gather(1, actions.long().reshape(-1, 1)).squeeze(1)


@pytest.mark.parametrize("env", ["discrete", "box"])
def test_pi_old_is_the_distribution_that_acted_and_d_is_the_kl_over_the_rollout(env: str) -> None:
    model = RecurrentPPOAdaptiveKL("MlpLstmPolicy", make_vec_env(ENVS[env], n_envs=2, seed=0), seed=0, **BUDGET)
    model.set_logger(Logger(None, []))
    model.learn(2 * 64)  # one rollout, one update
    model.collect_rollouts(model.env, _no_callback(model), model.rollout_buffer, model.n_steps)
    next(model.rollout_buffer.get(model.batch_size))  # get() flattens the buffer, as the update's first minibatch does
    # π_old as the loop evaluates it, for the parameters that collected this rollout...
    old = model._rollout_distribution()
    by_hand = _acting_distributions(model)
    for ours, theirs in zip(old, by_hand, strict=True):
        th.testing.assert_close(ours.a, theirs.a, rtol=1e-5, atol=1e-5)
    # ...is the distribution that acted: the actions' log-probabilities are those stored when they were taken
    actions = th.as_tensor(model.rollout_buffer.actions)
    stored = th.as_tensor(model.rollout_buffer.log_probs).flatten()
    th.testing.assert_close(_log_prob(old, actions), stored, rtol=1e-5, atol=1e-5)
    # d after the update: the logged train/kl is the mean KL over all rollout steps, π_θ run the same way
    model.train()
    d = kl_divergence(by_hand, _acting_distributions(model)).mean().item()
    assert d > 0
    assert model.logger.name_to_value["train/kl"] == pytest.approx(d, rel=1e-4)


def _no_callback(model: Any) -> CallbackList:
    """The smallest callback collect_rollouts accepts."""
    callback = CallbackList([])
    callback.init_callback(model)
    return callback


def test_padded_steps_count_for_nothing_in_the_penalty() -> None:
    model = _train(RecurrentPPOFixedKL, "discrete", 3, {"kl_coef": 3.0})
    order = model._peek_permutation()
    batches = list(enumerate(model.rollout_buffer.get(model.batch_size)))
    minibatch, samples = next((k, batch) for k, batch in batches if (batch.mask < 1e-8).any())
    mask = samples.mask > 1e-8
    indices = th.as_tensor(model._minibatch_indices(order, minibatch, samples))
    old = select(model._rollout_distribution(), indices)
    with th.no_grad():  # a step away from π_old
        for parameter in model.policy.parameters():
            parameter.add_(0.05 * th.randn_like(parameter))
    model._evaluate_actions(samples, samples.actions.long().flatten())
    new = capture(model.policy.action_dist)
    kl = model._penalty_kl(old, new, samples)
    assert kl.shape == mask.shape and (kl[~mask] == 0).all() and (kl[mask] > 0).all()
    assert model._minibatch_mean(samples)(kl) == kl[mask].mean()


@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
def test_every_recurrent_class_runs_saves_and_loads(cls: type, tmp_path: Any) -> None:
    model = _train(cls, "box", 2, {})
    assert all(th.isfinite(p).all() for p in model.policy.parameters())
    model.save(tmp_path / "model")
    loaded = cls.load(tmp_path / "model")
    assert_same_params(model, loaded)
    assert isinstance(loaded, RecurrentSurrogatePPO)
    if hasattr(model, "kl_coef"):
        assert loaded.kl_coef == model.kl_coef
    # predict with the LSTM state, as RecurrentPPO's
    observation = model.env.reset()
    action, state = loaded.predict(observation, state=None, episode_start=np.ones(2, dtype=bool))
    action, _ = loaded.predict(observation, state=state, episode_start=np.zeros(2, dtype=bool))
    assert action.shape == (2, 1)


@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
def test_the_fast_path_is_the_same_update_within_float_rounding(cls: type) -> None:
    # one rollout, one update (3 epochs): the family's own collection and evaluation, fused Adam
    exact = _train(cls, "discrete", 2, {}, timesteps=BUDGET["n_steps"] * 2)
    fast = _train(cls, "discrete", 2, {"fast": True}, timesteps=BUDGET["n_steps"] * 2)
    assert fast.fast and not exact.fast
    for name, tensor in exact.policy.state_dict().items():
        th.testing.assert_close(fast.policy.state_dict()[name], tensor, rtol=0, atol=1e-6)
    assert_params_differ(exact, fast)  # not bit for bit: the fused kernel rounds differently
    # the optimizer's own flags are restored after each update, so that a saved model keeps them
    assert all(not group["fused"] for group in fast.policy.optimizer.param_groups)


@pytest.mark.slow
def test_a_kl_variant_learns_cartpole_without_velocities() -> None:
    # One penalty class: the family's piece (sequences, LSTM states) is the same for every objective, and each
    # objective's learning is tested on the PPO family (tests/test_variants.py::test_learns_cartpole). The adaptive one,
    # whose beta changes as it trains. Measured: 354 (RecurrentPPOFixedKL 286); with learning_rate=0, 9.6.
    assert _best_evaluation_on_cartpole_without_velocities(RecurrentPPOAdaptiveKL, learning_rate=1e-3) > 150


def _best_evaluation_on_cartpole_without_velocities(cls: type, learning_rate: float) -> float:
    from stable_baselines3.common.vec_env import VecNormalize
    from torch import nn

    from sb3_ppo_variants.envs import NO_VELOCITY_ENV_ID, register_envs

    register_envs()
    env = VecNormalize(make_vec_env(NO_VELOCITY_ENV_ID, n_envs=8, seed=0), norm_reward=False)
    kwargs = dict(n_steps=32, batch_size=256, n_epochs=10, gae_lambda=0.8, gamma=0.98, seed=0)
    policy_kwargs = dict(ortho_init=False, activation_fn=nn.ReLU, lstm_hidden_size=64, net_arch=dict(pi=[64], vf=[64]))
    # The return after a fixed budget swings between about 30 and 500 from one 10k steps to the next, so the test takes
    # the best of six evaluations. A memoryless policy gets no more than about 50 on this task, a uniformly random one
    # about 22: above 150 the LSTM is used.
    eval_env = VecNormalize(make_vec_env(NO_VELOCITY_ENV_ID, n_envs=10, seed=1), training=False, norm_reward=False)
    model = cls("MlpLstmPolicy", env, device="cpu", learning_rate=learning_rate, policy_kwargs=policy_kwargs, **kwargs)
    return best_mean_return(model, eval_env, 30_000, evaluations=6)


def test_a_kl_variant_with_the_whole_rollout_as_one_minibatch() -> None:
    # batch_size=None, as RecurrentPPO accepts it: the penalty still pairs each step with its rollout position
    model = _train(RecurrentPPOAdaptiveKL, "discrete", 2, {"batch_size": None, "kl_target": 1e-9})
    updates = model._n_updates // model.n_epochs
    assert model.batch_size is None and updates == 2 and model.kl_coef == 2.0**updates


CLIP_CLASS, KL_CLASS, POLICY, LOG_ENV = RecurrentPPOClip, RecurrentPPOAdaptiveKL, "MlpLstmPolicy", ENVS["box"]


def test_the_logged_keys_are_the_stock_algorithms_plus_the_kl() -> None:
    for cls, extra in [(CLIP_CLASS, {"train/clip_range"}), (KL_CLASS, {"train/kl", "train/kl_coef"})]:
        model = cls(POLICY, make_vec_env(LOG_ENV, n_envs=2, seed=0), seed=0, **BUDGET)
        assert logged_keys(model, 2 * BUDGET["n_steps"]) >= SB3_TRAIN_KEYS | extra, cls.__name__
