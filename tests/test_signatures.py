"""Each public class takes its stock algorithm's constructor arguments under the same names and defaults, and
documents each; and the committed preset classes are what the generator writes. The differences are the ones its
objective declares (Table 1's: the KL rows do not clip by default, the no-clip row has no ε), plus the objective's
own knobs and the loop's own arguments (``fast``, ``normalize_advantage_over``)."""

from __future__ import annotations

import inspect

import pytest

from sb3_ppo_variants import SurrogatePPO
from sb3_ppo_variants.base import LOOP_ARGUMENTS
from sb3_ppo_variants.registry import REGISTRY, Variant


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


@pytest.mark.parametrize("variant", REGISTRY, ids=lambda v: v.cls.__name__)
def test_constructor_has_the_stock_arguments_and_defaults(variant: Variant) -> None:
    ours, stock = _parameters(variant.cls), _parameters(variant.stock)
    objective = variant.objective
    for name, parameter in stock.items():
        if name == "clip_range" and not objective.takes_clip_range:
            assert name not in ours, f"{variant.cls.__name__} takes {name}"
            continue
        expected = objective.clip_range_default if name == "clip_range" else parameter.default
        assert name in ours, f"{variant.cls.__name__} lacks {variant.stock.__name__}'s argument {name}"
        assert ours[name].default == expected, f"{variant.cls.__name__}.{name} defaults to {ours[name].default!r}"
    knobs = {name: knob.default for name, knob in objective.knobs.items()}
    assert {name: ours[name].default for name in set(ours) - set(stock)} == {**knobs, **LOOP_ARGUMENTS}


def test_the_base_class_has_sb3_ppos_arguments_and_defaults() -> None:
    ours, stock = _parameters(SurrogatePPO), _parameters(REGISTRY[0].stock)
    assert {n: p.default for n, p in ours.items() if n not in LOOP_ARGUMENTS} == {n: p.default for n, p in stock.items()}
    assert {n: ours[n].default for n in LOOP_ARGUMENTS} == LOOP_ARGUMENTS


@pytest.mark.parametrize("cls", [SurrogatePPO, *(v.cls for v in REGISTRY)], ids=lambda c: c.__name__)
def test_docstring_documents_every_argument(cls: type) -> None:
    doc = cls.__doc__ or ""
    assert "{params}" not in doc
    for name in _parameters(cls):
        assert f":param {name}:" in doc, f"{cls.__name__} does not document {name}"


def test_the_committed_presets_are_what_the_generator_writes() -> None:
    from sb3_ppo_variants.codegen import module_source, target

    assert target().read_text() == module_source(), "run: python -m sb3_ppo_variants.codegen"


@pytest.mark.parametrize("variant", REGISTRY, ids=lambda v: v.cls.__name__)
def test_a_positional_call_written_for_the_stock_algorithm_means_the_same(variant: Variant) -> None:
    ours, stock = _parameters(variant.cls), _parameters(variant.stock)
    positional = [name for name, p in ours.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    stock_positional = [name for name, p in stock.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    # every stock argument at its stock position; where the objective drops one (no clip: clip_range), the later ones
    # are keyword-only, so a stock positional call fails rather than shifting its values
    if variant.objective.takes_clip_range:
        assert positional == stock_positional
    else:
        assert positional == stock_positional[: stock_positional.index("clip_range")]
    # the knobs and the loop's own arguments are keyword-only
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in ours.items() if name not in positional)


def test_stock_positional_arguments_in_practice() -> None:
    from stable_baselines3 import PPO

    from sb3_ppo_variants import PPOAdaptiveKL, PPONoClip

    args = ("MlpPolicy", "CartPole-v1", 3e-4, 2048, 64, 10, 0.99, 0.95, 0.3)  # the 9th is PPO's clip_range
    assert PPO(*args).clip_range(1.0) == pytest.approx(0.3)
    model = PPOAdaptiveKL(*args)
    assert model.clip_range(1.0) == pytest.approx(0.3) and model.kl_target == 0.01  # not kl_target=0.3
    with pytest.raises(TypeError, match="positional argument"):
        PPONoClip(*args)
