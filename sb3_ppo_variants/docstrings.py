"""The ``:param`` texts that every variant's docstring shares: SB3 PPO's arguments, with SB3's meaning, and the two
arguments the loop adds (``fast``, ``normalize_advantage_over``)."""

from __future__ import annotations

#: ``:param`` lines shared by every variant's docstring (they are SB3 PPO's arguments, with SB3's meaning).
COMMON_PARAMS_DOC = """:param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, or a policy class)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param n_steps: The number of steps to run for each environment per update (the paper's horizon T;
        the rollout buffer holds n_steps * n_envs samples, which must be greater than 1)
    :param batch_size: Minibatch size
    :param n_epochs: Number of epochs (the paper's K) when optimizing the surrogate loss
    :param gamma: Discount factor
    :param gae_lambda: Factor for trade-off of bias vs variance for Generalized Advantage Estimator
    :param clip_range_vf: Clipping parameter for the value function (SB3/OpenAI-baselines specific, not in the paper),
        it can be a function of the current progress remaining. None (default) means no value clipping.
        IMPORTANT: this clipping depends on the reward scaling.
    :param normalize_advantage: Whether to normalize the advantage per minibatch (SB3 does, the paper does not say)
    :param ent_coef: Entropy coefficient for the loss calculation (the paper's c2; 0 in its Table 1 runs)
    :param vf_coef: Value function coefficient for the loss calculation (the paper's c1)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE) instead of action noise exploration
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE.
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use. If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation
    :param target_kl: SB3's early stopping, unchanged: stop the epochs of an update as soon as a minibatch's
        approximate KL exceeds 1.5 * target_kl (checked before that minibatch's step). None (default) disables it.
        This is *not* the paper's d_targ (``kl_target`` of :class:`PPOAdaptiveKL`), which steers β and stops nothing.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    :param fast: Opt-in fast path (see :mod:`sb3_ppo_variants.fast`): the same algorithm, policy and buffers with less
        work per step (actions sampled by the actor alone, values and log-probabilities in batched passes after the
        rollout, gradients in closed form without autograd for MLP policies, fused Adam). Results match the default
        path up to float rounding, not bit for bit. False (default): bit-for-bit ``stable_baselines3.PPO``'s numerics.
    :param normalize_advantage_over: What the advantages are standardised over when ``normalize_advantage``:
        ``"minibatch"`` (default, SB3's: each minibatch by its own mean and standard deviation) or ``"rollout"`` (by
        the mean and standard deviation of the whole rollout, computed once per update before the first epoch, as the
        code behind the paper's numbers does: OpenAI baselines ``ppo1`` standardises its batch of T samples once)."""


def params_doc(exclude: tuple[str, ...] = ()) -> str:
    """
    :data:`COMMON_PARAMS_DOC` without the ``:param`` blocks of ``exclude`` (for a family whose stock algorithm does not
    take them, e.g. MaskablePPO has no gSDE).

    :param exclude: the parameter names to leave out
    :return: the text, its first line unindented, the others as in :data:`COMMON_PARAMS_DOC`
    """
    kept: list[str] = []
    skipping = False
    for line in COMMON_PARAMS_DOC.split("\n"):
        stripped = line.strip()
        if stripped.startswith(":param "):
            skipping = stripped[len(":param ") :].split(":", 1)[0] in exclude
        if not skipping:
            kept.append(line)
    return "\n".join(kept).lstrip()
