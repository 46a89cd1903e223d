"""The fast path's torch switches: the same kernels with less overhead, and every setting restored."""

from __future__ import annotations

import pytest
import torch as th

from sb3_ppo_variants.fast import clip_grad_norm, fused_adam, fused_adam_step, no_distribution_checks


def net_with_grads(seed: int = 0) -> th.nn.Module:
    th.manual_seed(seed)
    net = th.nn.Sequential(th.nn.Linear(5, 8), th.nn.Tanh(), th.nn.Linear(8, 2))
    net(th.randn(16, 5)).pow(2).sum().backward()
    return net


@pytest.mark.parametrize("optimizer_class", [th.optim.Adam, th.optim.AdamW])
def test_direct_fused_step_is_torchs_fused_step(optimizer_class: type) -> None:
    nets = [net_with_grads(), net_with_grads()]
    optimizers = [optimizer_class(net.parameters(), lr=1e-2, eps=1e-5, weight_decay=0.01) for net in nets]
    for _ in range(3):
        with fused_adam(optimizers[0]), fused_adam(optimizers[1]):
            optimizers[0].step()
            fused_adam_step(optimizers[1])()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert th.equal(a, b)
    assert all(group["fused"] is None and group["foreach"] is None for group in optimizers[1].param_groups)


def test_other_optimizers_keep_their_own_step() -> None:
    net = net_with_grads()
    optimizer = th.optim.SGD(net.parameters(), lr=0.1)
    with fused_adam(optimizer):
        assert fused_adam_step(optimizer) == optimizer.step
        assert optimizer.param_groups[0]["fused"] is None


def test_clip_grad_norm_is_torchs() -> None:
    a, b = net_with_grads(), net_with_grads()
    norm_a = th.nn.utils.clip_grad_norm_(list(a.parameters()), 0.5)
    norm_b = clip_grad_norm(list(b.parameters()), 0.5)
    th.testing.assert_close(norm_a, norm_b, rtol=1e-6, atol=0)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert pa.grad is not None and pb.grad is not None
        th.testing.assert_close(pa.grad, pb.grad, rtol=1e-6, atol=1e-9)


def test_distribution_checks_are_restored_after_an_error() -> None:
    before = th.distributions.Distribution._validate_args
    with pytest.raises(RuntimeError), no_distribution_checks():
        assert th.distributions.Distribution._validate_args is False
        raise RuntimeError
    assert th.distributions.Distribution._validate_args == before
