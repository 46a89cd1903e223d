"""What an upstream test run puts in place of what: the stock libraries whose tests are run, and one run's settings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sb3_ppo_variants.families import FAMILIES, MASKABLE_FAMILY, PPO_FAMILY, RECURRENT_FAMILY, Family
from sb3_ppo_variants.registry import BY_KEY, Variant

#: The environment variable that carries a pytest run's :class:`UpstreamRun` (as JSON) to the plugin.
ENV_VAR = "SB3_PPO_VARIANTS_UPSTREAM"


@dataclass(frozen=True)
class UpstreamFamily:
    """
    An algorithm family as the upstream test suites see it.

    :param family: our family
    :param distribution: the PyPI distribution whose sdist ships the tests
    :param exporting_modules: the modules from which the tests import the stock class (all of them are patched)
    :param deselect_marker: upstream's marker of its long tests, which its own CI leaves out and so do we
    """

    family: Family
    distribution: str
    exporting_modules: tuple[str, ...]
    deselect_marker: str

    @property
    def key(self) -> str:
        """The family's zoo key (``ppo``, ``ppo_mask``, ``ppo_lstm``)."""
        return self.family.key

    @property
    def stock(self) -> type:
        """The stock algorithm the tests are written for."""
        return self.family.stock


UPSTREAM_FAMILIES: dict[str, UpstreamFamily] = {
    upstream.key: upstream
    for upstream in (
        UpstreamFamily(PPO_FAMILY, "stable-baselines3", ("stable_baselines3", "stable_baselines3.ppo"), "expensive"),
        UpstreamFamily(MASKABLE_FAMILY, "sb3-contrib", ("sb3_contrib", "sb3_contrib.ppo_mask"), "slow"),
        UpstreamFamily(RECURRENT_FAMILY, "sb3-contrib", ("sb3_contrib", "sb3_contrib.ppo_recurrent"), "slow"),
    )
}
assert set(UPSTREAM_FAMILIES) == {family.key for family in FAMILIES}, "every family has its upstream tests"


@dataclass(frozen=True)
class UpstreamRun:
    """
    One pytest run of a family's upstream tests.

    :param family_key: the family (``ppo``, ``ppo_mask``, ``ppo_lstm``)
    :param variant_key: our class's registry key (``ppo_adaptive_kl``), or None for the stock class
    :param fast: whether the class runs with ``fast=True``
    :param report: where the plugin writes the outcomes (JSON), or empty for nowhere
    :param only: run only these tests (normalised ids, or a module's path for all its tests), or None for every test
        that uses the class
    """

    family_key: str
    variant_key: str | None = None
    fast: bool = False
    report: str = ""
    only: tuple[str, ...] | None = None

    @property
    def family(self) -> UpstreamFamily:
        """The family's upstream tests."""
        return UPSTREAM_FAMILIES[self.family_key]

    @property
    def objective_key(self) -> str | None:
        """The Table 1 objective of our class (``adaptive_kl``), or None for the stock class."""
        variant = self.variant()
        return None if variant is None else variant.objective.key

    def variant(self) -> Variant | None:
        """Our class's registry entry, or None for the stock class."""
        if self.variant_key is None:
            return None
        variant = BY_KEY.get(self.variant_key)
        if variant is None or variant.family.key != self.family_key:
            raise ValueError(f"{self.variant_key!r} is not a variant of the {self.family_key!r} family")
        return variant

    def variant_class(self) -> type | None:
        """Our class, or None for the stock class."""
        variant = self.variant()
        return None if variant is None else variant.cls

    @property
    def label(self) -> str:
        """``PPOClip``, ``PPOClip fast=True`` or ``PPO (stock)``."""
        cls = self.variant_class()
        if cls is None:
            return f"{self.family.stock.__name__} (stock)"
        return f"{cls.__name__} fast=True" if self.fast else cls.__name__

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> UpstreamRun:
        fields = json.loads(text)
        if fields.get("only") is not None:
            fields["only"] = tuple(fields["only"])
        return cls(**fields)

    def selects(self, test_id: str) -> bool:
        """Whether the run runs the test (normalised id) that uses its class: every one, or those ``only`` names."""
        return self.only is None or test_id in self.only or test_id.partition("::")[0] in self.only
