"""The upstream tests that a variant legitimately fails, each with the reason, and where its other checks still run.

An upstream test is excluded for a variant only when it checks something that the stock objective produces and the
variant's objective does not by design (Table 1 of Schulman et al. 2017: the default ε, a reward only the clipped
objective reaches at the test's budget) or a convention SB3 itself keeps (names in messages come from the class name). A
test excluded for one check but with other checks inside is restated in ``sb3_ppo_variants/upstream/restated/`` with
only that check changed, so the others still run for the classes it excludes the test from, and for the stock class
(:func:`runs_restated`). ``python -m sb3_ppo_variants.upstream`` fails on an exclusion that no longer excludes any test,
so this list cannot outlive the tests it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sb3_ppo_variants.upstream.targets import UpstreamRun

from sb3_ppo_variants.objectives import OBJECTIVES

ALL_OBJECTIVES = tuple(objective.key for objective in OBJECTIVES)
#: the objectives whose clip_range default is None (Table 1's KL-penalty and no-clip rows)
UNCLIPPED_BY_DEFAULT = tuple(
    objective.key for objective in OBJECTIVES if not objective.takes_clip_range or objective.clip_range_default is None
)


@dataclass(frozen=True)
class Exclusion:
    """
    An upstream test that some of our classes do not run, and why.

    :param test: the test's normalised id (the stock run's id: ``tests/test_run.py::test_ppo_warnings``); ``*`` matches
        any characters, e.g. ``test_x[*]`` every parametrisation of a test
    :param families: the family keys it applies to
    :param objectives: the objective keys it applies to
    :param reason: why the test does not hold for them
    :param restated: the restated test that runs the test's other checks (``restated/<file>::<test>``), or empty
    :param fast: None for both paths, True for ``fast=True`` only, False for the exact path only
    """

    test: str
    families: tuple[str, ...]
    objectives: tuple[str, ...]
    reason: str
    restated: str = ""
    fast: bool | None = None

    def matches(self, test_id: str) -> bool:
        """Whether ``test_id`` (normalised) is the excluded test."""
        return re.fullmatch(".*".join(re.escape(part) for part in self.test.split("*")), test_id) is not None

    def covers(self, run: UpstreamRun) -> bool:
        """Whether it is about ``run``'s class and path (never about a stock class's run)."""
        return (
            run.variant_key is not None
            and run.family_key in self.families
            and run.objective_key in self.objectives
            and (self.fast is None or self.fast == run.fast)
        )

    def applies(self, test_id: str, run: UpstreamRun) -> bool:
        """Whether it excludes ``test_id`` from ``run``."""
        return self.covers(run) and self.matches(test_id)


EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(
        "tests/test_run.py::test_ppo_warnings",
        ("ppo",),
        ALL_OBJECTIVES,
        "its last check matches the warning text 'You are trying to run PPO on the GPU'; SB3 writes the class's name "
        "there ('... run PPOClip on the GPU'), as it does in the logs, one name per algorithm",
        "restated/test_sb3.py::test_ppo_warnings",
    ),
    Exclusion(
        "tests/test_save_load.py::test_save_load_clip_range_portable[PPO]",
        ("ppo",),
        UNCLIPPED_BY_DEFAULT,
        "it checks that the default clip_range is ConstantSchedule(0.2); Table 1's KL-penalty and no-clip rows do not "
        "clip by default (clip_range=None), and PPONoClip takes no clip_range",
        "restated/test_sb3.py::test_save_load_clip_range_portable",
    ),
    Exclusion(
        "tests/test_save_load.py::test_save_load_backward_compatible[PPO]",
        ("ppo",),
        ("no_clip",),
        "it passes clip_range=lambda _: 0.3, which PPONoClip refuses (Table 1's no-clip row has no ε)",
        "restated/test_sb3.py::test_save_load_backward_compatible",
    ),
    Exclusion(
        "tests/test_identity.py::test_discrete[env2-PPO]",
        ("ppo",),
        ("no_clip", "soft_clip"),
        "it asserts a reward of 90 on IdentityEnvMultiBinary after 1200 steps, which the clipped objective reaches and "
        "the unclipped one (Table 1's worst row) does not, nor soft clipping (87.3: its gate passes part of the "
        "gradient that clipping cuts off)",
        "restated/test_sb3.py::test_discrete",
    ),
    Exclusion(
        "tests/test_invalid_actions.py::test_identity",
        ("ppo_mask",),
        ("no_clip",),
        "it passes clip_range=0.4, which MaskablePPONoClip refuses (Table 1's no-clip row has no ε)",
        "restated/test_contrib.py::test_identity",
    ),
)


def exclusion_for(test_id: str, run: UpstreamRun) -> Exclusion | None:
    """
    :param test_id: a normalised test id
    :param run: the run
    :return: the exclusion of that test from that run, or None
    """
    for exclusion in EXCLUSIONS:
        if exclusion.applies(test_id, run):
            return exclusion
    return None


#: how a restated test's normalised id begins (``restated/<file>::<test>``), whichever distribution's suite it restates
RESTATED_PREFIX = "restated/"
#: the outcome recorded for a restated test that a variant's run skips: upstream's own test ran unchanged instead
ORIGINAL_RAN = "original ran"
#: the outcomes of tests a run leaves out on purpose: neither run, nor a regression, nor for the stock class to judge
LEFT_OUT = ("excluded", ORIGINAL_RAN)


def runs_restated(test_id: str, run: UpstreamRun) -> bool:
    """
    Whether ``run`` runs a restated test: the stock class every one it is given (that it passes shows the restatement keeps
    upstream's other checks), a variant only those that stand in for a test excluded from it; where the upstream
    test is not excluded, it runs unchanged and checks everything the restatement would.

    :param test_id: a restated test's normalised id (``restated/test_sb3.py::test_discrete[env0]``)
    :param run: the run
    """
    if run.variant_key is None:
        return True
    name = test_id.partition("[")[0]
    return any(exclusion.restated == name and exclusion.covers(run) for exclusion in EXCLUSIONS)
