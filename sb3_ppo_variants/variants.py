"""The four rows of Table 1 (Schulman et al. 2017) as thin presets of :class:`~sb3_ppo_variants.base.SurrogatePPO`.

Each class only fixes the policy-surrogate term and what happens to β after an update; the training loop is shared.
Every class takes every argument of ``stable_baselines3.PPO`` with the same name, default and meaning.
"""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from sb3_ppo_variants.base import SurrogatePPO, with_common_params_doc
from sb3_ppo_variants.objectives import AdaptiveKLPenalty, FixedKLPenalty
from sb3_ppo_variants.validation import check_float


@with_common_params_doc
class PPOClip(SurrogatePPO):
    """
    PPO with the clipped surrogate objective L^CLIP (eq. 7; Table 1, "Clipping").

    With the same arguments and seed it is bit-for-bit identical to ``stable_baselines3.PPO`` (a test guards it).

    Paper: https://arxiv.org/abs/1707.06347

    {common_params}
    :param clip_range: ε of eq. 7 (paper: 0.1, 0.2, 0.3; best 0.2), or a schedule of the progress remaining (from 1
        to 0). Must be > 0; ``float('inf')`` clips nothing, which is :class:`PPONoClip`.
    """

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
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
        fast: bool = False,
    ):
        if clip_range is None:
            raise ValueError("`clip_range` of PPOClip must be a number > 0 or a schedule; for no clipping use PPONoClip")
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
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
        )


@with_common_params_doc
class PPONoClip(SurrogatePPO):
    """
    PPO's loop with the plain importance-sampled surrogate L^CPI = r_t(θ)·Â_t (eq. 6; Table 1, "No clipping or
    penalty"): nothing keeps the policy close to the one that collected the data. The paper's baseline, which scored
    -0.39 (worse than a random policy on HalfCheetah).

    ``train/clip_fraction`` is still logged, as a diagnostic: the fraction of ratios outside [0.8, 1.2], i.e. what
    PPO-Clip with ε = 0.2 would have clipped.

    Paper: https://arxiv.org/abs/1707.06347

    {common_params}
    """

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
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
        fast: bool = False,
    ):
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
            n_epochs=n_epochs,
            gamma=gamma,
            gae_lambda=gae_lambda,
            clip_range=None,
            clip_range_vf=clip_range_vf,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
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
        )


@with_common_params_doc
class PPOFixedKL(SurrogatePPO):
    """
    PPO with a KL penalty of constant coefficient: L^KLPEN = r_t(θ)·Â_t - β·KL[π_old(·|s_t), π_θ(·|s_t)] (eq. 8;
    Table 1, "Fixed KL"). The KL is analytic, from the old policy to the new one, summed over action dimensions and
    averaged over the minibatch's states.

    Logs ``train/kl`` (the KL of the whole rollout after the update) and ``train/kl_coef`` (β).

    Paper: https://arxiv.org/abs/1707.06347

    {common_params}
    :param kl_coef: β, the penalty coefficient (paper: 0.3, 1, 3, 10; best 3). Must be finite and >= 0; 0 gives
        :class:`PPONoClip`. Its scale is relative to the advantages', which SB3 normalises per minibatch by default.
    :param clip_range: optionally also clip the surrogate with this ε, the penalty then acting "in addition to"
        clipping (Section 4; RLlib's default). None (default): no clipping, as in the paper's Table 1.
    """

    objective = FixedKLPenalty()

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        kl_coef: float = 1.0,
        clip_range: float | Schedule | None = None,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
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
        fast: bool = False,
    ):
        self.kl_coef = check_float("kl_coef", kl_coef, low=0.0)
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
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
        )


@with_common_params_doc
class PPOAdaptiveKL(SurrogatePPO):
    """
    PPO with an adaptive KL penalty (eq. 8 and the rule of Section 4; Table 1, "Adaptive KL").

    The loss is L^KLPEN = r_t(θ)·Â_t - β·KL[π_old(·|s_t), π_θ(·|s_t)], the KL analytic, from the old policy to the
    new one. After the ``n_epochs`` epochs of each update, d = mean KL over **the whole rollout** is measured with the
    updated parameters, and β changes once for the next update: β ← β·kl_coef_factor if d > kl_target·kl_tolerance,
    β ← β/kl_coef_factor if d < kl_target/kl_tolerance. ``model.kl_coef`` always holds the current β; it is saved
    and restored with the model, so training continues where it stopped.

    ``kl_target`` (the paper's d_targ) is not SB3's ``target_kl``: d_targ steers β and never stops an update, while
    ``target_kl`` stops the epochs early when a minibatch's approximate KL exceeds 1.5·target_kl. Both can be used.

    Logs ``train/kl`` (d) and ``train/kl_coef`` (β used in this update).

    Paper: https://arxiv.org/abs/1707.06347

    {common_params}
    :param kl_target: d_targ, the KL per update that β is steered towards (paper: 0.003, 0.01, 0.03; best 0.01).
        Must be finite and > 0.
    :param kl_coef: the initial β (paper: 1). Must be finite and >= 0 (with 0, β stays 0: the rule only multiplies).
    :param kl_tolerance: β changes only when d leaves [kl_target / kl_tolerance, kl_target * kl_tolerance]
        (paper: 1.5). Must be finite and > 1.
    :param kl_coef_factor: β is multiplied or divided by this (paper: 2). Must be finite and > 1.
    :param clip_range: optionally also clip the surrogate with this ε (the penalty "in addition to" clipping, as
        RLlib does by default). None (default): no clipping, as in the paper's Table 1.
    """

    objective = AdaptiveKLPenalty()

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        kl_target: float = 0.01,
        kl_coef: float = 1.0,
        kl_tolerance: float = 1.5,
        kl_coef_factor: float = 2.0,
        clip_range: float | Schedule | None = None,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
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
        fast: bool = False,
    ):
        self.kl_target = check_float("kl_target", kl_target, low=0.0, low_inclusive=False)
        self.kl_coef = check_float("kl_coef", kl_coef, low=0.0)
        self.kl_tolerance = check_float("kl_tolerance", kl_tolerance, low=1.0, low_inclusive=False)
        self.kl_coef_factor = check_float("kl_coef_factor", kl_coef_factor, low=1.0, low_inclusive=False)
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
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
        )
