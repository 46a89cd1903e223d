"""Scoped torch settings that the training loop switches for speed, each restored on exit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch as th
from torch.optim import optimizer as optimizer_module

try:  # torch >= 2.4 lists the devices with fused optimizer kernels (CPU among them)
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
except ImportError:  # pragma: no cover - older torch

    def _get_fused_kernels_supported_devices() -> list[str]:
        return ["cuda"]


@contextmanager
def no_distribution_checks() -> Iterator[None]:
    """
    Turn torch's argument validation of ``torch.distributions`` objects off (a global default) for a block.

    The checks compute nothing that is used; SB3 builds a distribution per forward pass, and checking it costs ~15%
    of a small-MLP gradient step.
    """
    previous = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        th.distributions.Distribution.set_default_validate_args(previous)


@contextmanager
def fused_adam(optimizer: th.optim.Optimizer) -> Iterator[None]:
    """
    Run an Adam or AdamW optimizer's steps with torch's fused kernel inside the block: one kernel for all
    parameters instead of ~10 ops per parameter tensor. Not bit-identical to the single-tensor loop that SB3's
    default Adam runs on CPU. The optimizer's own flags are restored on exit, so that a saved optimizer keeps them.

    :param optimizer: the policy's optimizer (others than Adam/AdamW, or devices without fused kernels, are left as
        they are)
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    devices = {p.device.type for p in params}
    if (
        type(optimizer) not in (th.optim.Adam, th.optim.AdamW)
        or not devices <= set(_get_fused_kernels_supported_devices())
        or any(group.get("differentiable") for group in optimizer.param_groups)
        or not all(p.dtype.is_floating_point for p in params)
    ):
        yield
        return
    saved = [(group["fused"], group["foreach"]) for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["fused"], group["foreach"] = True, False
    # The single-tensor loop keeps its step counters on the CPU; the fused kernel wants them beside the parameters.
    for param, state in optimizer.state.items():
        if "step" in state and state["step"].device != param.device:
            state["step"] = state["step"].to(param.device, th.float32)
    try:
        yield
    finally:
        for group, (fused, foreach) in zip(optimizer.param_groups, saved, strict=True):
            group["fused"], group["foreach"] = fused, foreach


def fused_adam_step(optimizer: th.optim.Optimizer) -> Callable[[], None]:
    """
    ``optimizer.step`` for use inside :func:`fused_adam`: once the optimizer's state exists, the two kernel calls that
    torch's fused Adam makes per parameter group (step counters, then the update), without ``Optimizer.step``'s
    profiling records and regrouping of the tensors on every call. Same kernels, same numbers. An optimizer with step
    hooks (:func:`optimizer_hooks`) steps through ``optimizer.step``, which runs them.

    :param optimizer: the optimizer (anything but a plain Adam/AdamW, or state not built yet: ``optimizer.step``)
    :return: a function that makes one step
    """

    def step() -> None:
        if optimizer_hooks(optimizer):  # the user's hooks run inside Optimizer.step
            optimizer.step()
            return
        groups = []
        for group in optimizer.param_groups:
            params = group["params"]
            grads = [p.grad for p in params]
            states = [optimizer.state.get(p, {}) for p in params]
            if (
                not group["fused"]
                or group["amsgrad"]
                or any(g is None or g.is_sparse for g in grads)
                or any(not state for state in states)
            ):
                optimizer.step()
                return
            groups.append((group, params, grads, states))
        for group, params, grads, states in groups:
            steps = [state["step"] for state in states]
            th._foreach_add_(steps, 1)
            kernel, hyperparameters = fused_adam_kernel(optimizer, group)
            exp_avgs = [state["exp_avg"] for state in states]
            kernel(params, grads, exp_avgs, [state["exp_avg_sq"] for state in states], [], steps, **hyperparameters)

    if type(optimizer) not in (th.optim.Adam, th.optim.AdamW):
        return optimizer.step
    return step


def optimizer_hooks(optimizer: th.optim.Optimizer) -> bool:
    """
    Whether ``optimizer.step`` would run hooks: the optimizer's own (``register_step_pre_hook`` /
    ``register_step_post_hook``) or every optimizer's (``torch.optim.optimizer.register_optimizer_step_*_hook``).

    :param optimizer: the optimizer
    """
    own = (getattr(optimizer, name, None) for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"))
    shared = (getattr(optimizer_module, f"_global_optimizer_{when}_hooks", None) for when in ("pre", "post"))
    return any(own) or any(shared)


def fused_adam_kernel(optimizer: th.optim.Optimizer, group: dict[str, Any]) -> tuple[Callable[..., None], dict[str, Any]]:
    """
    torch's fused kernel for an Adam or AdamW parameter group (without amsgrad), and the keyword arguments that
    ``Optimizer.step`` passes it: call it with (params, grads, exp_avgs, exp_avg_sqs, [], steps, **kwargs) after
    adding 1 to the step counters.

    :param optimizer: the Adam or AdamW optimizer
    :param group: one of its parameter groups
    """
    decoupled = group.get("decoupled_weight_decay", False) or isinstance(optimizer, th.optim.AdamW)
    beta1, beta2 = group["betas"]
    hyperparameters = dict(
        amsgrad=False,
        lr=group["lr"],
        beta1=beta1,
        beta2=beta2,
        weight_decay=group["weight_decay"],
        eps=group["eps"],
        maximize=group["maximize"],
        grad_scale=None,
        found_inf=None,
    )
    return (th._fused_adamw_ if decoupled else th._fused_adam_), hyperparameters


def clip_grad_norm(parameters: Sequence[th.Tensor], max_norm: float) -> th.Tensor:
    """
    ``torch.nn.utils.clip_grad_norm_`` for the parameters of one device and dtype: the same formula (the 2-norm of
    all gradients, scaled by min(1, max_norm / (norm + 1e-6))) without torch's grouping of the tensors on each call.

    :param parameters: the parameters, all on one device
    :param max_norm: the largest norm kept
    :return: the total norm before clipping
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return th.zeros(())
    total_norm = th.linalg.vector_norm(th.stack(th._foreach_norm(grads)))
    th._foreach_mul_(grads, th.clamp(max_norm / (total_norm + 1e-6), max=1.0))
    return total_norm
