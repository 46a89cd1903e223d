"""The RecurrentPPO family: sb3-contrib's ``RecurrentPPO`` (LSTM policies) running the one training loop.

What the family changes, and nothing else:

- collection is RecurrentPPO's own (it carries the LSTM states and stores, at each step, the states before it and the
  episode starts); its buffer cuts each minibatch into sequences (at episode starts, environment changes and
  minibatch ends), pads them, and marks the real steps in ``mask``;
- every evaluation in the update runs the LSTMs over those sequences from their stored states, and every average of
  per-sample terms (the surrogate, the penalty, the value loss, the entropy, the advantages' standardisation, the clip
  fraction, the approximate KL) is over the real steps only, as RecurrentPPO's own ``train()`` does;
- π_old(· | s_t), for the KL, is the distribution that acted at step t: before the first gradient step of an update,
  the policy's LSTM runs over every environment's rollout in time order, from the state stored at the rollout's first
  step, reset at episode starts (RecurrentPPO's own sequence processing); d, for the adaptive rule and ``train/kl``,
  is the mean KL over all rollout steps after the update, with π_θ evaluated the same way. Inside the update the
  penalty is the KL at the minibatch's real steps, paired with their rollout positions (the buffer's random split
  point is read from a copy of numpy's generator and checked against the stored log-probabilities); padded steps
  count for nothing in the penalty, its gradient or ``train/kl``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.vec_env import VecEnv

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.docstrings import params_doc
from sb3_ppo_variants.kl import Captured, capture, kl_divergence, select
from sb3_ppo_variants.objectives import Mean, clipped_values

RECURRENT_FAST_DOC = """:param fast: Opt-in fast path: in this family, RecurrentPPO's own collection and sequence evaluation
        with autograd, and torch's fused Adam kernel (the lean collection and closed-form evaluators of
        :mod:`sb3_ppo_variants.fast` do not handle LSTM states yet). Results match the default path up to float
        rounding, not bit for bit. False (default): bit-for-bit ``sb3_contrib.RecurrentPPO``'s numerics."""


class RecurrentSurrogatePPO(SurrogatePPO):
    """
    sb3-contrib's RecurrentPPO running the one training loop with the policy term of Schulman et al. (2017), Table 1.

    Use one of its presets (:class:`RecurrentPPOClip`, :class:`RecurrentPPOAdaptiveKL`,
    :class:`RecurrentPPOFixedKL`, :class:`RecurrentPPONoClip`, :class:`RecurrentPPOPerSampleKL`,
    :class:`RecurrentPPOSoftClip`). Without an objective of its own, this class is
    RecurrentPPO with ``clip_range`` set and the unclipped surrogate with None.

    Paper: https://arxiv.org/abs/1707.06347

    {params}
    :param clip_range: ε of the clipped surrogate (eq. 7), or a schedule of the progress remaining; None for the
        unclipped surrogate (eq. 6). ``float('inf')`` clips nothing and equals None.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = RecurrentPPO.policy_aliases
    family_policy_class = RecurrentActorCriticPolicy
    family_key = "ppo_lstm"
    family_has_lean_path = False
    family_accepts_batch_size_none = True

    def __init__(
        self,
        policy: str | type[RecurrentActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 128,
        batch_size: int | None = 128,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule | None = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        target_kl: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        *,
        fast: bool = False,
        normalize_advantage_over: str = "minibatch",
    ):
        self._last_lstm_states: Any = None
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,  # type: ignore[arg-type]  # None: the whole rollout (family_accepts_batch_size_none)
            n_epochs=n_epochs,
            gamma=gamma,
            gae_lambda=gae_lambda,
            clip_range=clip_range,
            clip_range_vf=clip_range_vf,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=None,
            rollout_buffer_kwargs=None,
            target_kl=target_kl,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
            fast=fast,
            normalize_advantage_over=normalize_advantage_over,
        )

    def _setup_model(self) -> None:
        self._setup_stock_model(RecurrentPPO._setup_model)  # its policy, LSTM states and recurrent buffers

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_last_lstm_states"]

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """RecurrentPPO's collection: the LSTM states carried along and stored with each step."""
        return RecurrentPPO.collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps)  # type: ignore[arg-type]

    # -- What the family changes --------------------------------------------------------------------------------------

    def _evaluate_actions(self, samples: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        return self.policy.evaluate_actions(samples.observations, actions, samples.lstm_states, samples.episode_starts)  # type: ignore[call-arg]

    def _real(self, values: th.Tensor, samples: Any) -> th.Tensor:
        return values[samples.mask > 1e-8]

    def _minibatch_mean(self, samples: Any) -> Mean:
        mask = samples.mask > 1e-8

        def mean(values: th.Tensor) -> th.Tensor:
            return th.mean(values[mask])

        return mean

    def _standardised_over_minibatch(self, samples: Any) -> th.Tensor:
        # RecurrentPPO's: the moments of the real steps of the padded sequences
        advantages = samples.advantages
        mask = samples.mask > 1e-8
        return (advantages - advantages[mask].mean()) / (advantages[mask].std() + 1e-8)

    def _value_loss(self, values: th.Tensor, samples: Any, clip_range_vf: float | None) -> th.Tensor:
        # RecurrentPPO's masked mean squared error
        values_pred = clipped_values(values, samples.old_values, clip_range_vf)
        return th.mean(((samples.returns - values_pred) ** 2)[samples.mask > 1e-8])

    def _penalty_kl(self, old: Captured, new: Captured, samples: Any) -> th.Tensor:
        # old holds the minibatch's real steps only; padded steps get a KL of 0, which the masked mean leaves out
        mask = samples.mask > 1e-8
        kl = th.zeros(mask.shape[0], device=mask.device)
        kl[mask] = kl_divergence(old, select(new, mask))
        return kl

    def _peek_permutation(self) -> np.ndarray:
        """
        The order in which the coming ``rollout_buffer.get()`` will read the rollout: RecurrentPPO's buffer rotates it
        at a random split point, ``np.random.randint(buffer_size * n_envs)``, drawn here from a copy of numpy's
        generator without consuming anything from it.
        """
        size = self.rollout_buffer.buffer_size * self.rollout_buffer.n_envs
        generator = np.random.RandomState()
        generator.set_state(np.random.get_state())
        split = generator.randint(size)
        indices = np.arange(size)
        return np.concatenate((indices[split:], indices[:split]))

    def _rollout_distribution(self) -> Captured:
        """
        π_θ(· | s_t) for every step of the rollout, in the buffer's order (environment by environment, each in time
        order), with no gradient: each environment's LSTM runs over its whole rollout from the state stored at its
        first step, reset at episode starts.
        """
        buffer: Any = self.rollout_buffer
        steps = buffer.buffer_size
        # the buffer's get() has flattened its arrays environment-major: position e * n_steps + t
        observations = (
            {key: buffer.to_torch(value) for key, value in buffer.observations.items()}
            if isinstance(buffer.observations, dict)
            else buffer.to_torch(buffer.observations)
        )
        states = tuple(
            buffer.to_torch(s[::steps].swapaxes(0, 1)).contiguous() for s in (buffer.hidden_states_pi, buffer.cell_states_pi)
        )
        policy: Any = self.policy
        with th.no_grad():
            distribution, _ = policy.get_distribution(observations, states, buffer.to_torch(buffer.episode_starts))
        return capture(distribution)


RecurrentSurrogatePPO.__doc__ = (RecurrentSurrogatePPO.__doc__ or "").replace(
    "{params}", params_doc(exclude=("rollout_buffer_class", "rollout_buffer_kwargs", "fast")) + "\n    " + RECURRENT_FAST_DOC
)
