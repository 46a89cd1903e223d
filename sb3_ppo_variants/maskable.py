"""The MaskablePPO family: sb3-contrib's ``MaskablePPO`` (invalid-action masking) running the one training loop.

What the family changes, and nothing else: collection is MaskablePPO's own (it asks the env for its action masks at
every step and stores them with the rollout), and every evaluation of the policy in the update, π_old's for the KL
included, applies the masks stored at collection time. So the KL of the penalty is KL[π_old ‖ π_θ] between the two
masked distributions: an invalid action has probability 0 under both (its logit is -1e8) and contributes exactly 0;
MultiDiscrete and MultiBinary masks apply per sub-space, whose KLs add up. ``learn(use_masking=...)``,
``predict(..., action_masks=...)``, the policies, buffers and action spaces are MaskablePPO's.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.vec_env import VecEnv

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.docstrings import params_doc

SelfMaskableSurrogatePPO = TypeVar("SelfMaskableSurrogatePPO", bound="MaskableSurrogatePPO")

MASKABLE_FAST_DOC = """:param fast: Opt-in fast path: in this family, MaskablePPO's own collection and masked evaluation with
        autograd, and torch's fused Adam kernel (the lean collection and closed-form evaluators of
        :mod:`sb3_ppo_variants.fast` do not handle masks yet). Results match the default path up to float rounding,
        not bit for bit. False (default): bit-for-bit ``sb3_contrib.MaskablePPO``'s numerics."""


class MaskableSurrogatePPO(SurrogatePPO):
    """
    sb3-contrib's MaskablePPO running the one training loop with the policy term of Schulman et al. (2017), Table 1.

    Use one of its presets (:class:`MaskablePPOClip`, :class:`MaskablePPOAdaptiveKL`, :class:`MaskablePPOFixedKL`,
    :class:`MaskablePPONoClip`, :class:`MaskablePPOPerSampleKL`, :class:`MaskablePPOSoftClip`). Without an
    objective of its own, this class is MaskablePPO with ``clip_range`` set
    and the unclipped surrogate with None.

    Paper: https://arxiv.org/abs/1707.06347

    {params}
    :param clip_range: ε of the clipped surrogate (eq. 7), or a schedule of the progress remaining; None for the
        unclipped surrogate (eq. 6). ``float('inf')`` clips nothing and equals None.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = MaskablePPO.policy_aliases
    family_action_spaces: ClassVar[tuple[type[spaces.Space], ...]] = (
        spaces.Discrete,
        spaces.MultiDiscrete,
        spaces.MultiBinary,
    )
    family_policy_class = MaskableActorCriticPolicy
    family_key = "ppo_mask"
    family_has_lean_path = False
    family_accepts_batch_size_none = True

    def __init__(
        self,
        policy: str | type[MaskableActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int | None = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule | None = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
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
        super().__init__(
            policy,  # type: ignore[arg-type]
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
            use_sde=False,
            sde_sample_freq=-1,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
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
        self._setup_stock_model(MaskablePPO._setup_model)  # its policy check, its masked buffers

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
        use_masking: bool = True,
    ) -> bool:
        """MaskablePPO's collection: the env's action masks at every step, stored with the rollout."""
        return MaskablePPO.collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps, use_masking)  # type: ignore[arg-type]

    def learn(  # type: ignore[override]
        self: SelfMaskableSurrogatePPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str | None = None,
        reset_num_timesteps: bool = True,
        use_masking: bool = True,
        progress_bar: bool = False,
    ) -> SelfMaskableSurrogatePPO:
        """
        Return a trained model (MaskablePPO's ``learn``).

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging; defaults to the class name
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param use_masking: Whether or not to use invalid action masks during collection
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        MaskablePPO.learn(  # type: ignore[type-var]
            self,
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=type(self).__name__ if tb_log_name is None else tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            use_masking=use_masking,
            progress_bar=progress_bar,
        )
        return self

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Get the policy action from an observation, with the valid actions given by ``action_masks`` (MaskablePPO's
        ``predict``).

        :param observation: the input observation
        :param state: The last hidden states (unused: the policy has none)
        :param episode_start: The last masks (unused)
        :param deterministic: Whether or not to return deterministic actions.
        :param action_masks: Action masks to apply to the action distribution
        :return: the model's action and the next hidden state
        """
        return self.policy.predict(observation, state, episode_start, deterministic, action_masks=action_masks)  # type: ignore[call-arg]

    def _evaluate_actions(self, samples: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        # the masks stored at collection time (all ones after learn(use_masking=False))
        return self.policy.evaluate_actions(samples.observations, actions, action_masks=samples.action_masks)  # type: ignore[call-arg]

    def _distribution(self, samples: Any) -> Any:
        return self.policy.get_distribution(samples.observations, action_masks=samples.action_masks)  # type: ignore[call-arg]


MaskableSurrogatePPO.__doc__ = (MaskableSurrogatePPO.__doc__ or "").replace(
    "{params}", params_doc(exclude=("use_sde", "sde_sample_freq", "fast")) + "\n    " + MASKABLE_FAST_DOC
)
