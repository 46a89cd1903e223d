"""The one training loop that every Table 1 variant runs: SB3 PPO's loop with the policy term made pluggable.

A variant is its objective (:attr:`SurrogatePPO.objective`, see :mod:`sb3_ppo_variants.objectives`): the policy term
of the loss (L^CLIP of eq. 7 when ``clip_range`` is set, L^CPI of eq. 6 when it is None, plus β·KL[π_old ‖ π_θ] of
eq. 8 when the objective is penalised), that term's gradient for the closed-form fast path, and what happens to β
after an update. TorchRL's PPOLoss -> ClipPPOLoss / KLPENPPOLoss hierarchy, without its duplicated ``forward``
methods.

Everything else (rollouts, GAE, advantage normalisation, value loss and ``clip_range_vf``, entropy bonus, gradient
clipping, SB3's ``target_kl`` early stopping, logging) is SB3 PPO's, in SB3's order, so that with clipping and no
penalty the loop is bit-for-bit ``stable_baselines3.PPO``.
"""

from __future__ import annotations

import io
import math
import pathlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, RolloutBufferSamples, Schedule
from stable_baselines3.common.utils import FloatSchedule, explained_variance
from stable_baselines3.common.vec_env import VecEnv

from sb3_ppo_variants import objectives
from sb3_ppo_variants.arguments import (
    check_hyperparameters,
    check_policy_for_observations,
    check_scheduled_learning_rate,
    check_scheduled_value,
    check_setup,
)
from sb3_ppo_variants.docstrings import params_doc
from sb3_ppo_variants.fast import (
    AnalyticEvaluator,
    PolicyEvaluator,
    analytic_reason,
    clip_grad_norm,
    fused_adam,
    fused_adam_step,
    make_evaluator,
    no_distribution_checks,
)
from sb3_ppo_variants.fast import collect as fast_collect
from sb3_ppo_variants.guard import UpdateGuard
from sb3_ppo_variants.kl import Captured, capture, concatenate, kl_divergence, kl_divergence_gradient, select
from sb3_ppo_variants.minibatches import is_sb3_buffer, minibatches
from sb3_ppo_variants.objectives import DIAGNOSTIC_CLIP_RANGE, Mean, PolicyObjective, clip_fraction, partition
from sb3_ppo_variants.observations import WithObservationChecks
from sb3_ppo_variants.saved import check_loaded_arguments, check_saved_class, read_saved_data
from sb3_ppo_variants.validation import (
    NUMBER_OR_SCHEDULE,
    AssertionCompatibleValueError,
    check_bool,
    check_float_or_schedule,
    float_unless_schedule,
)

SelfSurrogatePPO = TypeVar("SelfSurrogatePPO", bound="SurrogatePPO")


def _mean_of_each_row(values: th.Tensor) -> th.Tensor:
    """th.mean over the last dimension: a minibatch's average, for a row of stacked minibatches."""
    return values.mean(dim=-1)


#: The arguments the loop adds to every stock algorithm's, with their defaults, which keep the stock numerics (a test
#: checks every class's signature against the stock one plus these and the objective's knobs)
LOOP_ARGUMENTS: dict[str, Any] = {"fast": False, "normalize_advantage_over": "minibatch"}


class SurrogatePPO(OnPolicyAlgorithm):
    """
    SB3 PPO's training loop with the policy-surrogate term of Schulman et al. (2017), Table 1, made pluggable.

    Use one of the presets (Table 1's :class:`PPOClip`, :class:`PPOAdaptiveKL`, :class:`PPOFixedKL`,
    :class:`PPONoClip`, and :class:`PPOPerSampleKL`, :class:`PPOSoftClip` beyond it); subclass this to add a new
    objective: set :attr:`objective` to a
    :class:`~sb3_ppo_variants.objectives.PolicyObjective` and add the objective's knobs to the constructor. Without
    an objective of its own, this class is PPO-Clip with ``clip_range`` set and the unclipped surrogate with None.

    Paper: https://arxiv.org/abs/1707.06347

    {params}
    :param clip_range: ε of the clipped surrogate (eq. 7), or a schedule of the progress remaining; None for the
        unclipped surrogate (eq. 6). ``float('inf')`` clips nothing and equals None.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }

    #: the policy term of the loss and what happens after an update; stateless, so a class attribute (not saved)
    objective: ClassVar[PolicyObjective] = PolicyObjective()
    #: the action spaces of the family's stock algorithm
    family_action_spaces: ClassVar[tuple[type[spaces.Space], ...]] = (
        spaces.Box,
        spaces.Discrete,
        spaces.MultiDiscrete,
        spaces.MultiBinary,
    )
    #: whether the fast path's lean collection and evaluators (:mod:`sb3_ppo_variants.fast`) serve this family; where
    #: they do not (the sb3-contrib families: masks, LSTM states), ``fast=True`` keeps the family's own collection and
    #: evaluation and trains with fused Adam and autograd
    family_has_lean_path: ClassVar[bool] = True
    #: the family's zoo key (``ppo``, ``ppo_mask``, ``ppo_lstm``), saved with a model so that ``load`` can refuse a file
    #: of another family
    family_key: ClassVar[str] = "ppo"
    #: the class every policy of the family derives from (a policy class argument must be one)
    family_policy_class: ClassVar[type[BasePolicy]] = ActorCriticPolicy
    #: whether ``batch_size=None`` (the whole rollout as one minibatch) is accepted, as sb3-contrib's algorithms do
    family_accepts_batch_size_none: ClassVar[bool] = False
    clip_range: Schedule | None
    clip_range_vf: Schedule | None

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
        clip_range: float | Schedule | None = 0.2,
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
        *,
        fast: bool = False,
        normalize_advantage_over: str = "minibatch",
    ):
        # Every check runs before SB3 builds (and maybe seeds and resets) the environment.
        check_bool("fast", fast)
        check_hyperparameters(
            learning_rate,
            n_steps,
            batch_size,
            n_epochs,
            gamma,
            gae_lambda,
            clip_range_vf,
            normalize_advantage,
            ent_coef,
            vf_coef,
            max_grad_norm,
            target_kl,
            normalize_advantage_over,
            self.family_accepts_batch_size_none,
        )
        check_setup(
            policy,
            self.policy_aliases,
            self.family_policy_class,
            policy_kwargs,
            use_sde,
            sde_sample_freq,
            rollout_buffer_class,
            rollout_buffer_kwargs,
            stats_window_size,
            tensorboard_log,
            verbose,
            seed,
            device,
        )
        if clip_range is not None:
            # SB3 does not check it; 0 or a negative ε would freeze or invert the policy update.
            check_float_or_schedule("clip_range", clip_range, allow_inf=True)
        # numpy numbers (np.float32 from a tuner) as Python floats where SB3 builds a schedule of them, which takes
        # Python numbers only
        learning_rate, clip_range, clip_range_vf = map(float_unless_schedule, (learning_rate, clip_range, clip_range_vf))
        # numpy integers (np.int64 from a tuner) as Python ints: the same values, and Python's random.seed refuses them
        n_steps, n_epochs, verbose, stats_window_size = int(n_steps), int(n_epochs), int(verbose), int(stats_window_size)
        sde_sample_freq = int(sde_sample_freq)
        batch_size = None if batch_size is None else int(batch_size)
        seed = None if seed is None else int(seed)
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=self.family_action_spaces,
        )
        if self.env is not None:
            # before the policy is built: SB3's CNN extractor would assert on vector observations
            check_policy_for_observations(self.policy_class, self.policy_kwargs, self.observation_space)
            buffer_size = self.env.num_envs * self.n_steps
            if normalize_advantage and buffer_size <= 1:
                # SB3 PPO asserts it
                raise AssertionCompatibleValueError(
                    f"`n_steps * n_envs` must be greater than 1 when `normalize_advantage=True`, "
                    f"got n_steps={self.n_steps} and n_envs={self.env.num_envs}"
                )
            if batch_size is not None and buffer_size % batch_size > 0:
                warnings.warn(
                    f"You have specified a mini-batch size of {batch_size},"
                    f" but because the `RolloutBuffer` is of size `n_steps * n_envs = {buffer_size}`,"
                    f" after every {buffer_size // batch_size} untruncated mini-batches,"
                    f" there will be a truncated mini-batch of size {buffer_size % batch_size}\n"
                    f"We recommend using a `batch_size` that is a factor of `n_steps * n_envs`.\n"
                    f"Info: (n_steps={self.n_steps} and n_envs={self.env.num_envs})",
                    stacklevel=2,
                )
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_range = clip_range  # type: ignore[assignment]  # a FloatSchedule after _setup_model
        self.clip_range_vf = clip_range_vf  # type: ignore[assignment]
        self.normalize_advantage = bool(normalize_advantage)
        self.normalize_advantage_over = normalize_advantage_over
        # (mean, std) of the rollout's advantages during an update with normalize_advantage_over="rollout"
        self._rollout_advantage_moments: tuple[float, float] | None = None
        self.target_kl = target_kl
        self.fast = bool(fast)
        # saved with the model: what load checks a file against (sb3_ppo_variants.saved)
        self._saved_by = type(self).__name__
        self._objective_key = self.objective.key
        self._family_key = self.family_key

        if _init_setup_model:
            self._setup_model()

    def _setup_stock_model(self, stock_setup: Callable[[Any], None]) -> None:
        """
        Run a family's stock ``_setup_model`` (its policy check, buffers, LSTM states), which wraps ε in a schedule
        unconditionally: the objective's ε may be None (no clipping), so the stock code sees a placeholder and None is
        put back.

        :param stock_setup: the stock algorithm's ``_setup_model``, as a function of the model
        """
        epsilon = self.clip_range
        if epsilon is None:
            self.clip_range = 0.2  # type: ignore[assignment]
        stock_setup(self)
        if epsilon is None:
            self.clip_range = None

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.clip_range is not None:
            self.clip_range = FloatSchedule(self.clip_range)
        if self.clip_range_vf is not None:
            self.clip_range_vf = FloatSchedule(self.clip_range_vf)

    @property
    def _lean_path(self) -> bool:
        """Whether this model collects and evaluates on the fast path's lean code: ``fast=True`` where it serves."""
        return self.fast and self.family_has_lean_path

    # -- What a family changes ----------------------------------------------------------------------------------------

    def _evaluate_actions(self, samples: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """
        Values, log π_θ(a | s) and entropy of a minibatch through the policy's own method (the exact path), leaving
        π_θ(· | s) on ``policy.action_dist``.

        :param samples: the minibatch as the family's buffer gives it
        :param actions: its actions, as the policy takes them
        """
        return self.policy.evaluate_actions(samples.observations, actions)

    def _distribution(self, samples: Any) -> Any:
        """π_θ(· | s) of a batch of the rollout's samples, as the family's policy builds it (no gradient is taken)."""
        return self.policy.get_distribution(samples.observations)

    def _real(self, values: th.Tensor, samples: Any) -> th.Tensor:
        """The values of the minibatch's samples that are rollout steps (all of them; RecurrentPPO pads sequences)."""
        return values

    def _minibatch_mean(self, samples: Any) -> Mean:
        """How the minibatch's per-sample terms are averaged (every loss term, the clip fraction, the approximate
        KL): over all its samples."""
        return th.mean

    def _advantages(self, samples: Any) -> th.Tensor:
        """The minibatch's advantages, standardised over the minibatch (SB3 PPO) or over the rollout when
        ``normalize_advantage``."""
        if self._rollout_advantage_moments is not None:
            return self._standardised_over_rollout(samples.advantages)
        if self.normalize_advantage:
            return self._standardised_over_minibatch(samples)
        return samples.advantages

    def _standardised_over_minibatch(self, samples: Any) -> th.Tensor:
        """The minibatch's advantages standardised by its own mean and standard deviation (SB3 PPO)."""
        advantages = samples.advantages
        # Normalization does not make sense if mini batchsize == 1, see GH issue #325
        if len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        return advantages

    def _standardised_over_rollout(self, advantages: th.Tensor) -> th.Tensor:
        """``advantages`` standardised by the whole rollout's mean and standard deviation (this update's)."""
        assert self._rollout_advantage_moments is not None
        mean, std = self._rollout_advantage_moments
        # the epsilon is SB3's (a rollout of equal advantages would otherwise divide by 0; ppo1 has none)
        return (advantages - mean) / (std + 1e-8)

    def _measure_rollout_advantages(self) -> tuple[float, float] | None:
        """
        Mean and standard deviation of all the rollout's advantages when ``normalize_advantage_over="rollout"``, else
        None. The buffer's ``advantages`` hold each step of the rollout once (sequence padding comes later, in
        ``get()``), so every family reads them alike. numpy's std divides by the number of samples, as ppo1's does.
        """
        if not (self.normalize_advantage and self.normalize_advantage_over == "rollout"):
            return None
        advantages = np.asarray(self.rollout_buffer.advantages, dtype=np.float64)
        return float(advantages.mean()), float(advantages.std())

    def _value_loss(self, values: th.Tensor, samples: Any, clip_range_vf: float | None) -> th.Tensor:
        """SB3 PPO's value loss (:func:`~sb3_ppo_variants.objectives.value_loss`)."""
        return objectives.value_loss(values, samples.old_values, samples.returns, clip_range_vf)

    def _penalty_kl(self, old: Captured, new: Captured, samples: Any) -> th.Tensor:
        """
        KL[π_old(· | s_t) ‖ π_θ(· | s_t)] per sample of the minibatch.

        :param old: π_old at the minibatch's samples' positions in the rollout
        :param new: π_θ of the minibatch, as evaluated
        :param samples: the minibatch
        """
        return kl_divergence(old, new)

    # -- The loop -----------------------------------------------------------------------------------------------------

    def _excluded_save_params(self) -> list[str]:
        # statistics of the rollout that the current update reads, measured again by each update
        return [*super()._excluded_save_params(), "_rollout_advantage_moments"]

    @classmethod
    def _wrap_env(cls, env: GymEnv, verbose: int = 0, monitor_wrapper: bool = True) -> VecEnv:
        """
        SB3's wrapping of an environment (construction, ``set_env`` and ``load``), then the check of its action space
        against the family's, which SB3 makes with a bare ``assert`` after this point: here a ValueError naming
        ``env`` that is also an AssertionError, as SB3's.
        """
        wrapped = super()._wrap_env(env, verbose, monitor_wrapper)
        if not isinstance(wrapped.action_space, cls.family_action_spaces):
            accepted = ", ".join(space.__name__ for space in cls.family_action_spaces)
            # SB3's own wording first, so that code matching SB3's message still matches ours
            raise AssertionCompatibleValueError(
                f"The algorithm only supports ({accepted}) as action spaces: `env` must have an action space "
                f"{cls.__name__} supports, got {wrapped.action_space}"
            )
        return wrapped

    def _fast_evaluator(self) -> PolicyEvaluator:
        """
        The fast path's evaluator for the policy as it is now, made for each rollout and each update: a user
        may replace the policy (``load``), a layer (a new ``value_net``), a parameter, or add hooks between them.
        """
        return make_evaluator(self.policy)

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """
        Collect experiences using the current policy and fill a ``RolloutBuffer`` (SB3's, unless ``fast``).

        :param env: The training environment
        :param callback: Callback that will be called at each step (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with rollouts
        :param n_rollout_steps: Number of experiences to collect per environment
        :return: True if function returned with at least `n_rollout_steps` collected, False if callback terminated
            rollout prematurely.
        """
        if not self._lean_path or not is_sb3_buffer(rollout_buffer) or fast_collect.collection_reason(self.policy) is not None:
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        # the lean collection checks each observation itself, and calls the user's callback without the checking
        # callback's per-step cost
        if isinstance(callback, WithObservationChecks):
            callback = callback.user_callback
        with no_distribution_checks():
            return fast_collect.collect_rollouts(self, self._fast_evaluator(), env, callback, rollout_buffer, n_rollout_steps)

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer.
        """
        # An update that meets a non-finite loss or gradient norm (_check_finite) stops before that step; one whose
        # steps made any parameter non-finite (a huge learning rate) is found at its end. Either way the parameters
        # and the optimizer's state go back to their values before the update (UpdateGuard), so no NaN is kept.
        guard = UpdateGuard(self.policy)
        try:
            # torch's argument checks of each distribution object change no number
            with no_distribution_checks():
                self._train()
        except FloatingPointError as error:
            raise FloatingPointError(f"{error} {self._restored(guard)}") from None
        if not guard.parameters_finite():
            raise FloatingPointError(
                f"{type(self).__name__}: the update after timestep {self.num_timesteps} made parameters of the policy "
                f"non-finite (learning rate {self.policy.optimizer.param_groups[0]['lr']:.6g}). {self._restored(guard)} "
                "Try a smaller learning_rate."
            )

    def _restored(self, guard: UpdateGuard) -> str:
        """Put the parameters and optimizer state from before the update back, and say so as far as it is true."""
        if guard.restore():
            return "The policy's parameters and the optimizer's state are back to their finite values before this update."
        return "The parameters were already non-finite before this update (e.g. loaded so)."

    def _update_learning_rate(self, optimizers: list[th.optim.Optimizer] | th.optim.Optimizer) -> None:
        # A schedule's value is checked before any optimizer uses it (a NaN or a value beyond float32 would write NaN
        # or inf into the parameters); the constructor checked a constant one.
        check_scheduled_learning_rate(
            self.lr_schedule(self._current_progress_remaining), self._current_progress_remaining, self.num_timesteps
        )
        super()._update_learning_rate(optimizers)

    def _init_callback(self, callback: MaybeCallback, progress_bar: bool = False) -> BaseCallback:
        # Every observation the collection sees is checked before the policy acts on it (FiniteObservations in SB3's
        # collection; the lean collection checks them itself).
        checks = WithObservationChecks(super()._init_callback(callback, progress_bar))
        checks.init_callback(self)
        return checks

    @contextmanager
    def _gradient_path(self) -> Iterator[tuple[PolicyEvaluator | AnalyticEvaluator | None, Callable[[], Any]]]:
        """
        How the update evaluates the policy and steps the optimizer: (evaluator, optimizer step).

        - exact (``fast=False``): None (the family's evaluation through the policy's own methods, autograd) and the
          optimizer's ``step``;
        - fast, in a family without the lean path (:attr:`family_has_lean_path`): the family's own evaluation with
          autograd, and fused Adam;
        - fast, for the policies :func:`~sb3_ppo_variants.fast.analytic_reason` accepts and an objective whose
          :meth:`~sb3_ppo_variants.objectives.PolicyObjective.gradient` is its loss's: closed-form gradients on
          flat copies of the parameters, written back into the policy and its optimizer when the block ends;
        - fast, otherwise: the lean or the policy's own evaluation with autograd, and fused Adam.
        """
        if not self.fast:
            yield None, self.policy.optimizer.step
        elif not self.family_has_lean_path:
            with fused_adam(self.policy.optimizer):
                yield None, fused_adam_step(self.policy.optimizer)
        elif analytic_reason(self.policy) is None and self.objective.has_closed_form_gradient():
            evaluator = AnalyticEvaluator(self.policy)
            try:
                yield evaluator, evaluator.step
            finally:
                evaluator.end_update()
        else:
            with fused_adam(self.policy.optimizer):
                yield self._fast_evaluator(), fused_adam_step(self.policy.optimizer)

    def _train(self) -> None:
        """
        The update: SB3 PPO's loop.
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        self._rollout_advantage_moments = self._measure_rollout_advantages()
        # Update optimizer learning rate
        self._update_learning_rate(self.policy.optimizer)
        clip_range, clip_range_vf = self._scheduled_clip_ranges()
        # Variants that do not clip still report how often PPO-Clip's ε = 0.2 would have clipped.
        clip_fraction_range = DIAGNOSTIC_CLIP_RANGE if clip_range is None else clip_range
        kl_coef = self.objective.kl_coef(self)
        settings = self.objective.loss_settings(self)
        # π_old(· | s) for every state of the rollout, taken before the first gradient step of the update (eq. 8)
        old_distribution: Captured | None = None

        # Listed once: Module.parameters() walks every submodule, once per minibatch in SB3 (same tensors, same order).
        parameters = list(self.policy.parameters())
        entropy_losses = []
        pg_losses, value_losses = [], []
        clip_fractions = []
        # what the partition of the samples with respect to ε is computed from, per minibatch: kept, and computed once
        # after the update (_record_partition), off the per-minibatch hot path
        partition_samples: list[tuple[th.Tensor, th.Tensor, th.Tensor | None, Mean]] = []

        continue_training = True
        with self._gradient_path() as (evaluator, optimizer_step):
            analytic = evaluator if isinstance(evaluator, AnalyticEvaluator) else None
            for epoch in range(self.n_epochs):
                approx_kl_divs = []
                for minibatch, (indices, rollout_data) in enumerate(self._minibatches(kl_coef is not None)):
                    values, log_prob, entropy, new_distribution = self._evaluate(evaluator, rollout_data, kl_coef is not None)
                    # how the family averages per-sample terms (RecurrentPPO: over the real steps of padded sequences)
                    mean = self._minibatch_mean(rollout_data)
                    advantages = self._advantages(rollout_data)

                    # r_t(θ), one at the first minibatch of an update
                    log_ratio = log_prob - rollout_data.old_log_prob
                    ratio = th.exp(log_ratio)

                    old_selected: Captured | None = None
                    kl: th.Tensor | None = None
                    if kl_coef is not None:
                        assert indices is not None and new_distribution is not None
                        if old_distribution is None:  # the first minibatch: no gradient step yet, θ is still θ_old
                            old_distribution = self._rollout_distribution()
                        old_selected = select(old_distribution, indices)
                        kl = self._penalty_kl(old_selected, new_distribution, rollout_data)
                    policy = self.objective.loss(ratio, advantages, clip_range, kl_coef, kl, mean, settings)
                    policy_loss = policy.total

                    # Logging: kept as tensors and read once after the update (the finiteness checks, and target_kl's
                    # early stopping, still read one number per minibatch)
                    pg_losses.append(policy.surrogate.detach())
                    clip_fractions.append(clip_fraction(ratio, clip_fraction_range, mean))
                    partition_samples.append((ratio.detach(), advantages, policy.sample_kl_coef, mean))

                    # Value loss using the TD(gae_lambda) target (SB3's, with its clip_range_vf)
                    value_loss = self._value_loss(values, rollout_data, clip_range_vf)
                    value_losses.append(value_loss.detach())

                    # Entropy loss favor exploration
                    # With ent_coef = 0 the term only adds exact zeros (to the loss and its gradients): the fast path
                    # leaves it off the graph.
                    entropy_in_loss = evaluator is None or self.ent_coef != 0
                    with th.set_grad_enabled(entropy_in_loss):
                        if entropy is None:
                            # Approximate entropy when no analytical form
                            entropy_loss = -mean(-log_prob)
                        else:
                            entropy_loss = -mean(entropy)

                    entropy_losses.append(entropy_loss.detach())

                    if entropy_in_loss:
                        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
                    else:
                        loss = policy_loss + self.vf_coef * value_loss

                    # SB3's approximate KL (k3 estimator of KL[old‖new] from the sampled actions), for its early
                    # stopping, see issue #417 and http://joschu.net/blog/kl-approx.html. Without early stopping only
                    # the last epoch's values are logged, so only they are computed.
                    if self.target_kl is not None or epoch == self.n_epochs - 1:
                        with th.no_grad():
                            approx_kl_div = mean((th.exp(log_ratio) - 1) - log_ratio)
                            approx_kl_divs.append(approx_kl_div)

                    if self.target_kl is not None and approx_kl_div.item() > 1.5 * self.target_kl:
                        continue_training = False
                        if self.verbose >= 1:
                            print(f"Early stopping at step {epoch} due to reaching max kl: {approx_kl_div.item():.2f}")
                        break

                    if evaluator is None:  # the fast path checks the gradient norm only, which a non-finite loss makes NaN
                        self._check_finite("loss", loss.item(), epoch, minibatch)
                    if analytic is not None:
                        # the same loss, differentiated by hand (each gradient next to its loss, tested against autograd)
                        assert entropy is not None
                        gradient = self.objective.gradient(ratio, advantages, clip_range, kl_coef, settings)
                        analytic.backward(
                            gradient.log_prob,
                            None if self.ent_coef == 0 else -self.ent_coef / entropy.numel(),
                            None
                            if gradient.kl is None or old_selected is None or new_distribution is None
                            else kl_divergence_gradient(old_selected, new_distribution, gradient.kl),
                            objectives.value_loss_gradient(
                                values, rollout_data.old_values, rollout_data.returns, clip_range_vf
                            ).mul_(self.vf_coef),
                        )
                    self._optimization_step(loss, parameters, optimizer_step, evaluator, epoch, minibatch)

                self._n_updates += 1
                if not continue_training:
                    break

        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())

        # Logs: the per-minibatch values SB3 logs, read in one go (same numbers, same means)
        self.logger.record("train/entropy_loss", np.mean(th.stack(entropy_losses).tolist()))
        self.logger.record("train/policy_gradient_loss", np.mean(th.stack(pg_losses).tolist()))
        self.logger.record("train/value_loss", np.mean(th.stack(value_losses).tolist()))
        self.logger.record("train/approx_kl", np.mean(th.stack(approx_kl_divs).cpu().numpy()))
        self.logger.record("train/clip_fraction", np.mean(th.stack(clip_fractions).tolist()))
        self._record_partition(partition_samples, clip_fraction_range)
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/explained_variance", explained_var)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self._end_update(clip_range, clip_range_vf, kl_coef, old_distribution)

    def _scheduled_clip_ranges(self) -> tuple[float | None, float | None]:
        """ε and the value function's clip range for this update, from their schedules (None where not set)."""
        values = []
        for name in ("clip_range", "clip_range_vf"):
            schedule = getattr(self, name)
            value = None if schedule is None else schedule(self._current_progress_remaining)
            # a schedule's NaN would poison the loss on the exact path and, in the fast path's closed form, silently
            # zero the policy gradient: refused before any step, as the learning rate's is
            if value is not None:
                check_scheduled_value(name, value, self._current_progress_remaining, self.num_timesteps)
            values.append(value)
        return values[0], values[1]

    def _record_partition(self, samples: list[tuple[th.Tensor, th.Tensor, th.Tensor | None, Mean]], clip_range: float) -> None:
        """
        Log the update's partition of the samples with respect to ε (its own, else
        :data:`~sb3_ppo_variants.objectives.DIAGNOSTIC_CLIP_RANGE`): the fractions in band, killed and passed
        (:func:`~sb3_ppo_variants.objectives.partition`), averaged over minibatches as SB3 averages
        ``train/clip_fraction``, and for a per-sample penalty the mean abs(β_t) over the killed samples.

        :param samples: per minibatch, its r_t(θ) (detached), Â_t, β_t of a per-sample penalty (or None) and the
            family's average over it
        :param clip_range: ε
        """
        ratios, advantages, coefs, means = zip(*samples, strict=True)
        per_sample_coef = coefs[0] is not None
        if all(mean is th.mean for mean in means) and len({len(ratio) for ratio in ratios}) == 1:
            # minibatches of one size averaged by th.mean: all of them in one batched computation, a row each
            fractions = partition(
                th.stack(ratios),
                th.stack(advantages),
                clip_range,
                _mean_of_each_row,
                th.stack(coefs) if per_sample_coef else None,
            )
        else:  # a truncated last minibatch, or a family's own average (RecurrentPPO's over real steps)
            fractions = th.stack([partition(r, a, clip_range, m, c) for r, a, c, m in samples])
        in_band, cut, passed, weighted = fractions.mean(dim=0).tolist()
        self.logger.record("train/frac_in_band", in_band)
        self.logger.record("train/frac_killed", cut)
        self.logger.record("train/frac_passed", passed)
        if per_sample_coef:
            self.logger.record("train/kl_coef_killed", weighted / cut if cut > 0 else 0.0)

    def _evaluate(
        self,
        evaluator: PolicyEvaluator | AnalyticEvaluator | None,
        rollout_data: RolloutBufferSamples,
        with_distribution: bool,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None, Captured | None]:
        """Values, log π_θ(a | s), entropy and (when ``with_distribution``) π_θ(· | s) of a minibatch."""
        if evaluator is not None:
            return evaluator.evaluate(rollout_data.observations, rollout_data.actions, with_distribution)
        actions = rollout_data.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = rollout_data.actions.long().flatten()
        values, log_prob, entropy = self._evaluate_actions(rollout_data, actions)
        # evaluate_actions has just left π_θ(· | s) on policy.action_dist, a mutable object that every forward pass
        # reuses: take its parameters now, before another pass overwrites them (see kl.capture)
        return values.flatten(), log_prob, entropy, capture(self.policy.action_dist) if with_distribution else None

    def _optimization_step(
        self,
        loss: th.Tensor,
        parameters: list[th.nn.Parameter],
        optimizer_step: Callable[[], Any],
        evaluator: PolicyEvaluator | AnalyticEvaluator | None,
        epoch: int,
        minibatch: int,
    ) -> None:
        """SB3's step (zero_grad, backward, clip_grad_norm_, step), refused if the gradient norm is not finite."""
        if isinstance(evaluator, AnalyticEvaluator):  # the gradient is already in its flat buffer
            grad_norm = evaluator.clip_grad_norm(self.max_grad_norm)
        elif evaluator is not None:
            for parameter in parameters:
                parameter.grad = None
            loss.backward()
            grad_norm = clip_grad_norm(parameters, self.max_grad_norm)
        else:
            self.policy.optimizer.zero_grad()
            loss.backward()
            # Clip grad norm
            grad_norm = th.nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
        self._check_finite("gradient norm", grad_norm.item(), epoch, minibatch)
        optimizer_step()

    # -- End of an update ---------------------------------------------------------------------------------------------

    def _end_update(
        self,
        clip_range: float | None,
        clip_range_vf: float | None,
        kl_coef: float | None,
        old_distribution: Captured | None,
    ) -> None:
        """Log the update's coefficients; with a penalty, measure d over the rollout and hand it to the objective."""
        if clip_range is not None:
            self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)
        if kl_coef is None or old_distribution is None:
            return
        # d (Section 4): the KL of the whole rollout with the updated parameters, not the noisy minibatch KLs seen
        # during the update (adapting β per minibatch, as TorchRL does, reacts to noise)
        rollout_kl = kl_divergence(old_distribution, self._rollout_distribution()).mean().item()
        if not math.isfinite(rollout_kl):
            raise FloatingPointError(
                f"{type(self).__name__}: KL[π_old ‖ π_θ] over the rollout is {rollout_kl} after the update at timestep "
                f"{self.num_timesteps}; the policy diverged in this update. Try a smaller learning_rate."
            )
        self.logger.record("train/kl", rollout_kl)
        self.logger.record("train/kl_coef", kl_coef)
        self.objective.after_update(self, rollout_kl)

    # -- Helpers of the KL term ---------------------------------------------------------------------------------------

    def _rollout_distribution(self) -> Captured:
        """
        π_θ(· | s) for every state of the (flattened) rollout, in the buffer's order, with the current parameters and
        no gradient. Evaluated once before the first step of an update, it is π_old for the whole update: one batched
        forward pass instead of one per minibatch, and no copy of the policy to keep in sync. The buffer is read in
        order, so no random number is drawn.
        """
        buffer_size = self.rollout_buffer.buffer_size * self.rollout_buffer.n_envs
        chunk = max(self.batch_size or 0, 1024)  # bounded, for image observations
        chunks = []
        with th.no_grad():
            for start in range(0, buffer_size, chunk):
                indices = np.arange(start, min(start + chunk, buffer_size))
                chunks.append(capture(self._distribution(self.rollout_buffer._get_samples(indices))))
        return concatenate(chunks)

    def _minibatches(self, with_indices: bool) -> Iterator[tuple[th.Tensor | None, RolloutBufferSamples]]:
        """
        One epoch of minibatches with the samples' positions in the rollout (for the KL term). SB3's own buffers are
        read by :func:`~sb3_ppo_variants.minibatches.minibatches`: the same draw and the same values as their
        ``get()``, without its per-minibatch copies. Other buffers are read through ``get()``; their positions are
        then predicted from numpy's generator, and checked, when ``with_indices``.
        """
        if is_sb3_buffer(self.rollout_buffer):
            yield from minibatches(self.rollout_buffer, self.batch_size)  # type: ignore[misc]
            return
        permutation = self._peek_permutation() if with_indices else None
        for minibatch, rollout_data in enumerate(self.rollout_buffer.get(self.batch_size)):
            if permutation is None:
                yield None, rollout_data
            else:
                yield self._minibatch_indices(permutation, minibatch, rollout_data), rollout_data

    def _peek_permutation(self) -> np.ndarray:
        """
        The permutation that the coming ``rollout_buffer.get()`` will draw: SB3's buffers shuffle with
        ``np.random.permutation(buffer_size * n_envs)``, so a copy of numpy's global generator draws the same one
        without consuming anything from it.
        """
        generator = np.random.RandomState()
        generator.set_state(np.random.get_state())
        return generator.permutation(self.rollout_buffer.buffer_size * self.rollout_buffer.n_envs)

    def _minibatch_indices(self, permutation: np.ndarray, minibatch: int, samples: Any) -> th.Tensor:
        """Positions in the rollout of the minibatch's samples; checked against the buffer once per epoch."""
        size = self.batch_size or len(permutation)  # None: the whole rollout in one minibatch (sb3-contrib's families)
        indices = permutation[minibatch * size : (minibatch + 1) * size]
        if minibatch == 0:
            expected = self.rollout_buffer.log_probs.reshape(-1)[indices]
            if not np.array_equal(self._real(samples.old_log_prob, samples).cpu().numpy(), expected):
                raise RuntimeError(
                    f"{type(self).__name__}: the rollout buffer ({type(self.rollout_buffer).__name__}) did not sample "
                    "minibatches with np.random.permutation as SB3's RolloutBuffer does, so the KL penalty cannot "
                    "match samples with their old action distributions. Use a buffer whose get() shuffles like SB3's."
                )
        return th.as_tensor(indices, device=self.device)

    def _check_finite(self, what: str, value: float, epoch: int, minibatch: int) -> None:
        if math.isfinite(value):
            return
        where = f"epoch {epoch + 1}/{self.n_epochs}, minibatch {minibatch + 1}"
        raise FloatingPointError(
            f"{type(self).__name__}: the {what} is {value} in the update after timestep {self.num_timesteps} "
            f"({where}); training stopped before the optimizer step that would have used it. Try a smaller "
            "learning_rate or kl_coef, or normalise observations and rewards (VecNormalize)."
        )

    @classmethod
    def load(
        cls: type[SelfSurrogatePPO],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfSurrogatePPO:
        """
        Load the model from a zip-file (SB3's ``load``), after checking that the file is whole, that a class of the
        same objective and family saved it, and that its arguments with the keyword overrides pass the constructor's
        checks (:mod:`sb3_ppo_variants.saved`).

        :param path: path to the file (or a file-like) where to load the agent from
        :param env: the new environment to run the loaded model on (can be None if you only need prediction from a
            trained model) has priority over any saved environment
        :param device: Device on which the code should run.
        :param custom_objects: Dictionary of objects to replace upon loading.
        :param print_system_info: Whether to print system info from the saved model and the current system info
        :param force_reset: Force call to ``reset()`` before training to avoid unexpected behavior.
        :param kwargs: extra arguments to change the model when loading (checked as the constructor checks them)
        :return: new model instance with loaded parameters
        """
        data = read_saved_data(path, custom_objects)
        check_saved_class(cls, data, path)
        check_loaded_arguments(cls, {**data, **kwargs})
        kwargs = {name: float_unless_schedule(v) if name in NUMBER_OR_SCHEDULE else v for name, v in kwargs.items()}
        return super().load(
            path,
            env=env,
            device=device,
            custom_objects=custom_objects,
            print_system_info=print_system_info,
            force_reset=force_reset,
            **kwargs,
        )

    def learn(
        self: SelfSurrogatePPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str | None = None,
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfSurrogatePPO:
        """
        Return a trained model (SB3's ``learn``).

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging; defaults to the class name
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=type(self).__name__ if tb_log_name is None else tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


SurrogatePPO.__doc__ = (SurrogatePPO.__doc__ or "").replace("{params}", params_doc())
