"""The pytest plugin that runs stable-baselines3's or sb3-contrib's own tests with one of our classes in place of the
stock algorithm (``python -m sb3_ppo_variants.upstream`` starts one pytest process per class with it).

Before the test modules are imported, the stock class (``stable_baselines3.PPO``, ``sb3_contrib.MaskablePPO`` or
``sb3_contrib.RecurrentPPO``) is replaced in the modules that export it, so ``from stable_baselines3 import PPO`` in a
test module gets ours. With ``fast`` the class is a subclass whose ``fast`` defaults to True.

The tests that use the class are selected automatically (:func:`uses_class`); the others are deselected. Tests that
:mod:`~sb3_ppo_variants.upstream.exclusions` lists for this class are deselected and reported as excluded, and our
restated tests run only where they stand in for an excluded one
(:func:`~sb3_ppo_variants.upstream.exclusions.runs_restated`). Every selected test's outcome goes to a JSON file, under
the test's id with our class's name replaced by the stock one, so that the runs of different classes compare test by
test.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import json
import os
import tokenize
from collections.abc import Callable
from typing import Any

import pytest

from sb3_ppo_variants.benchmark.io import atomic_write_json
from sb3_ppo_variants.upstream.exclusions import ORIGINAL_RAN, RESTATED_PREFIX, exclusion_for, runs_restated
from sb3_ppo_variants.upstream.targets import ENV_VAR, UpstreamRun

_run: UpstreamRun | None = None
_class: type | None = None
#: normalised test id -> "passed" | "failed" | "error" | "skipped" | "excluded" (+ collection errors by module)
_outcomes: dict[str, str] = {}
_reasons: dict[str, str] = {}


def substitute_class(run: UpstreamRun) -> type:
    """
    The class the tests get in place of the stock one: the stock class itself, our variant, or, with ``fast``, a
    subclass of our variant named like it (SB3 logs and names ids by ``__name__``) whose ``fast`` defaults to True.

    :param run: what to run
    """
    variant = run.variant_class()
    if variant is None:
        return run.family.stock
    if not run.fast:
        return variant

    class FastVariant(variant):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, fast: bool = True, **kwargs: Any) -> None:
            super().__init__(*args, fast=fast, **kwargs)

    fast_class: type = FastVariant
    fast_class.__name__ = fast_class.__qualname__ = variant.__name__
    fast_class.__module__ = __name__
    fast_class.__doc__ = variant.__doc__
    # importable by name, so that anything that pickles the class (cloudpickle of a model's attributes) finds it
    globals()[variant.__name__] = fast_class
    return fast_class


def install(run: UpstreamRun) -> type:
    """
    Put the run's class in place of the stock one in every module that exports the stock class.

    :param run: what to run
    :return: the class put in place
    """
    cls = substitute_class(run)
    stock = run.family.stock
    for module_name in run.family.exporting_modules:
        module = importlib.import_module(module_name)
        if getattr(module, stock.__name__) is not stock and getattr(module, stock.__name__) is not cls:
            raise RuntimeError(f"{module_name}.{stock.__name__} is not the stock class: installed twice?")
        setattr(module, stock.__name__, cls)
    return cls


# cached: every parametrisation of a test is an item with the same function (SB3's suite: ~900 items, fewer functions)
@functools.cache
def mentions(function: Callable[..., Any], name: str) -> bool:
    """
    Whether the source code of ``function`` uses the identifier ``name`` (a token, not a substring: ``PPO`` is not
    in ``MaskablePPO``).

    :param function: a test function
    :param name: the identifier
    """
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return any(token.type == tokenize.NAME and token.string == name for token in tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return name in source


def _contains(value: Any, cls: type) -> bool:
    if value is cls:
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_contains(item, cls) for item in value)
    if isinstance(value, dict):
        return any(_contains(item, cls) for item in value.values())
    return False


def uses_class(item: pytest.Item, cls: type, stock_name: str) -> bool:
    """
    Whether a collected test uses the stock algorithm (now ``cls``): one of its parameters is the class, or its code
    names the class and it is not one of the cases of a test parametrised over other classes.

    :param item: the collected test
    :param cls: the class put in place of the stock one
    :param stock_name: the stock class's name (``PPO``), as the test code writes it
    """
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(_contains(value, cls) for value in params.values()):
        return True
    function = getattr(item, "function", None)
    if function is None or not mentions(function, stock_name):
        return False
    # e.g. test_x[A2C] of a test parametrised over [A2C, PPO]: the case of another class
    return not any(isinstance(value, type) for value in params.values())


def normalised_id(item: pytest.Item, cls: type, stock_name: str) -> str:
    """
    The test's id as the stock class's run names it: ``tests/test_run.py::test_x[PPO]`` for ``test_x[PPOClip]``;
    tests of our restated modules get ``restated/<file>::<test>``.

    :param item: the collected test
    :param cls: the class put in place of the stock one
    :param stock_name: the stock class's name
    """
    path, _, rest = item.nodeid.partition("::")
    if "sb3_ppo_variants/upstream/restated/" in str(item.path).replace(os.sep, "/"):
        path = RESTATED_PREFIX + item.path.name
    name, bracket, params = rest.partition("[")
    if bracket:
        parts = params[:-1].split("-")
        params = "-".join(stock_name if part == cls.__name__ else part for part in parts) + "]"
    return f"{path}::{name}{bracket}{params}"


def pytest_configure(config: pytest.Config) -> None:
    global _run, _class
    text = os.environ.get(ENV_VAR)
    if not text:
        raise pytest.UsageError(
            f"the sb3_ppo_variants.upstream.plugin needs {ENV_VAR}; use python -m sb3_ppo_variants.upstream"
        )
    _run = UpstreamRun.from_json(text)
    _class = install(_run)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _outcomes[report.nodeid] = "collection error"
        _reasons[report.nodeid] = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    assert _run is not None and _class is not None
    stock_name = _run.family.stock.__name__
    selected, deselected = [], []
    for item in items:
        if not uses_class(item, _class, stock_name):
            deselected.append(item)
            continue
        test_id = normalised_id(item, _class, stock_name)
        if not _run.selects(test_id):
            deselected.append(item)
            continue
        exclusion = exclusion_for(test_id, _run)
        if exclusion is not None:
            _outcomes[test_id] = "excluded"
            _reasons[test_id] = exclusion.reason
            deselected.append(item)
            continue
        if test_id.startswith(RESTATED_PREFIX) and not runs_restated(test_id, _run):
            _outcomes[test_id] = ORIGINAL_RAN
            deselected.append(item)
            continue
        item.user_properties.append(("normalised_id", test_id))
        selected.append(item)
    config.hook.pytest_deselected(items=deselected)
    items[:] = selected


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    test_id = dict(report.user_properties).get("normalised_id")
    if not isinstance(test_id, str):
        return
    previous = _outcomes.get(test_id)
    if report.failed:
        outcome = "failed" if report.when == "call" else "error"
        if previous != "failed":
            _outcomes[test_id] = outcome
            _reasons[test_id] = _summary(report)
    elif report.skipped and previous is None:
        _outcomes[test_id] = "skipped"
    elif report.when == "call" and report.passed and previous is None:
        _outcomes[test_id] = "passed"


def _summary(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0][:300]
    return str(report.longrepr).strip().splitlines()[-1][:300] if report.longrepr else ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    assert _run is not None and _class is not None
    if _run.report:
        atomic_write_json(_run.report, {"run": json.loads(_run.to_json()), "outcomes": _outcomes, "reasons": _reasons})
