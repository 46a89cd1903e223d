"""Flat parameters step like torch's fused Adam and hand back a state that torch's Adam continues from."""

from __future__ import annotations

import pytest
import torch as th
from torch import nn

from sb3_ppo_variants.fast.flat import FlatParameters, flat_adam_reason


def net_and_grads(seed: int = 0) -> tuple[nn.Module, list[th.Tensor]]:
    th.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    grads = [th.randn_like(p) for p in net.parameters()]
    return net, grads


def flat_steps(flat: FlatParameters, parameters: list[nn.Parameter], grads: list[th.Tensor], n: int) -> None:
    for _ in range(n):
        for p, g in zip(parameters, grads, strict=True):
            flat.view(p)[1].copy_(g)
        flat.step()


@pytest.mark.parametrize("optimizer_class", [th.optim.Adam, th.optim.AdamW])
def test_steps_are_torchs_fused_adam(optimizer_class: type) -> None:
    (a, grads), (b, _) = net_and_grads(), net_and_grads()
    kwargs = dict(lr=1e-2, eps=1e-5, weight_decay=0.01)
    reference = optimizer_class(a.parameters(), fused=True, **kwargs)
    for _ in range(3):
        for p, g in zip(a.parameters(), grads, strict=True):
            p.grad = g.clone()
        reference.step()
    parameters = list(b.parameters())
    optimizer = optimizer_class(parameters, **kwargs)
    flat = FlatParameters(parameters, optimizer)
    flat_steps(flat, parameters, grads, 3)
    flat.write_back()
    for pa, pb in zip(a.parameters(), parameters, strict=True):
        th.testing.assert_close(pa, pb, rtol=0, atol=1e-7)
        sa, sb = reference.state[pa], optimizer.state[pb]
        assert float(sa["step"]) == float(sb["step"]) == 3
        th.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=0, atol=1e-9)


def test_written_back_state_is_what_torchs_adam_continues_from() -> None:
    """Two flat steps, write back, then torch's own (single-tensor) step: as three steps of torch's Adam."""
    (a, grads), (b, _) = net_and_grads(), net_and_grads()
    reference = th.optim.Adam(a.parameters(), lr=1e-2)
    parameters = list(b.parameters())
    optimizer = th.optim.Adam(parameters, lr=1e-2)
    flat = FlatParameters(parameters, optimizer)
    flat_steps(flat, parameters, grads, 2)
    flat.write_back()
    for p, g in zip(parameters, grads, strict=True):
        p.grad = g.clone()
    optimizer.step()
    # a fresh optimizer loads the written state: it is in torch's format
    th.optim.Adam(list(nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).parameters())).load_state_dict(
        optimizer.state_dict()
    )
    for _ in range(3):
        for p, g in zip(a.parameters(), grads, strict=True):
            p.grad = g.clone()
        reference.step()
    for pa, pb in zip(a.parameters(), parameters, strict=True):
        th.testing.assert_close(pa, pb, rtol=0, atol=1e-6)


def test_clip_grad_norm_is_torchs() -> None:
    net, grads = net_and_grads()
    parameters = list(net.parameters())
    flat = FlatParameters(parameters, th.optim.Adam(parameters))
    for p, g in zip(parameters, grads, strict=True):
        p.grad = g.clone()
        flat.view(p)[1].copy_(g)
    expected = th.nn.utils.clip_grad_norm_(parameters, 0.5)
    th.testing.assert_close(flat.clip_grad_norm(0.5), expected, rtol=1e-6, atol=0)
    for p in parameters:
        assert p.grad is not None
        th.testing.assert_close(flat.view(p)[1], p.grad, rtol=1e-6, atol=1e-9)


def test_without_steps_no_state_is_written() -> None:
    net, _ = net_and_grads()
    parameters = list(net.parameters())
    optimizer = th.optim.Adam(parameters)
    FlatParameters(parameters, optimizer).write_back()
    assert not optimizer.state


def test_optimizers_it_cannot_take_over_are_refused() -> None:
    net, _ = net_and_grads()
    parameters = list(net.parameters())
    assert flat_adam_reason(parameters, th.optim.Adam(parameters)) is None
    assert "RMSprop" in (flat_adam_reason(parameters, th.optim.RMSprop(parameters)) or "")
    assert "amsgrad" in (flat_adam_reason(parameters, th.optim.Adam(parameters, amsgrad=True)) or "")
    two_groups = th.optim.Adam([{"params": parameters[:2]}, {"params": parameters[2:]}])
    assert "one group" in (flat_adam_reason(parameters, two_groups) or "")
    partial = th.optim.Adam(parameters)
    partial.state[parameters[0]] = {"step": th.tensor(1.0), "exp_avg": th.zeros(1), "exp_avg_sq": th.zeros(1)}
    assert "some parameters only" in (flat_adam_reason(parameters, partial) or "")
