"""The registry: every registered objective's closed-form gradient is autograd's gradient of its own loss, and what
the zoo, the benchmark and the package export all come from it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch as th

import sb3_ppo_variants
from sb3_ppo_variants.benchmark import ALGORITHMS
from sb3_ppo_variants.benchmark.report import FAMILIES
from sb3_ppo_variants.registry import BY_KEY, REGISTRY, TABLE1, VARIANTS, Variant


def _model(variant: Variant) -> SimpleNamespace:
    """The algorithm as the objective sees it: its knobs, with β away from its default."""
    return SimpleNamespace(**{**{name: knob.default for name, knob in variant.objective.knobs.items()}, "kl_coef": 0.7})


def _cases(variant: Variant) -> list[float | None]:
    if not variant.objective.takes_clip_range:
        return [None]
    try:
        variant.objective.check_clip_range(variant.cls.__name__, None)
    except ValueError:  # an objective built on ε
        return [0.2, 0.05, float("inf")]
    return [None, 0.2, 0.05, float("inf")]


@pytest.mark.parametrize("variant", REGISTRY, ids=lambda v: v.key)
def test_every_objectives_gradient_is_autograds_gradient_of_its_loss(variant: Variant) -> None:
    objective = variant.cls.objective
    generator = th.Generator().manual_seed(0)
    n = 257
    old_log_prob = th.randn(n, generator=generator, dtype=th.float64)
    # ratios spread over [0.5, 1.6], so that every clipping case has samples inside and outside [1 - ε, 1 + ε]
    log_prob = (old_log_prob + th.empty(n, dtype=th.float64).uniform_(-0.7, 0.47, generator=generator)).requires_grad_()
    advantages = th.randn(n, generator=generator, dtype=th.float64)
    kl = th.rand(n, generator=generator, dtype=th.float64).requires_grad_()
    kl_coef = objective.kl_coef(_model(variant))
    settings = objective.loss_settings(_model(variant))
    assert (kl_coef is not None) == variant.penalised
    for clip_range in _cases(variant):
        ratio = th.exp(log_prob - old_log_prob)
        loss = objective.loss(ratio, advantages, clip_range, kl_coef, kl if variant.penalised else None, th.mean, settings)
        d_log_prob, d_kl = th.autograd.grad(loss.total, [log_prob, kl], allow_unused=True)
        gradient = objective.gradient(ratio.detach(), advantages, clip_range, kl_coef, settings)
        th.testing.assert_close(gradient.log_prob, d_log_prob, rtol=1e-12, atol=1e-15)
        if variant.penalised:
            assert gradient.kl is not None
            th.testing.assert_close(th.full_like(kl, gradient.kl), d_kl, rtol=1e-12, atol=1e-15)
        else:
            assert gradient.kl is None and d_kl is None
        # the logged surrogate is the loss without its penalty (a per-sample penalty is part of the objective itself)
        if loss.sample_kl_coef is None:
            assert th.equal(loss.surrogate, objective.loss(ratio, advantages, clip_range, None, None).total)


def test_the_package_the_zoo_and_the_benchmark_read_the_registry() -> None:
    from sb3_ppo_variants.zoo import ZOO_KEYS, hyperparams_file
    from sb3_ppo_variants.zoo.hyperparams import PAPER_FAMILIES
    from sb3_ppo_variants.zoo.samplers import SAMPLERS

    keys = [variant.key for variant in REGISTRY]
    assert len(set(keys)) == len(keys) and set(BY_KEY) == set(keys)
    assert sb3_ppo_variants.VARIANTS is VARIANTS and list(VARIANTS) == keys
    assert set(ZOO_KEYS) == set(SAMPLERS) == set(keys)
    for variant in REGISTRY:
        assert getattr(sb3_ppo_variants, variant.cls.__name__) is variant.cls
        assert ALGORITHMS[variant.key] is variant.cls
        assert hyperparams_file(variant.key).is_file()
        if variant.family.key in PAPER_FAMILIES:
            assert hyperparams_file(variant.key, paper=True).is_file()
        if variant.family.key == "ppo" and variant.objective in TABLE1:  # Table 1's ordering claims: the PPO family
            assert FAMILIES[variant.key] == variant.objective.title
    # the report's order of merit is Table 1's
    assert [FAMILIES[f"ppo_{o.key}"] for o in TABLE1] == list(FAMILIES.values())
