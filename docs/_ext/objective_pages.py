"""Write ``docs/modules/<objective>.rst`` from the registry and the committed results, before Sphinx reads the
sources: one page per objective, its classes in every family, in SB3's section order (Notes, Can I use?, Example,
Results, How to replicate, Parameters). Nothing on these pages is copied by hand, so they cannot drift from the code
or from ``results/``."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from gymnasium import spaces

from sb3_ppo_variants.benchmark.report import read_scores_csv

ROOT = Path(__file__).resolve().parents[2]
MODULES = Path(__file__).resolve().parents[1] / "modules"
#: committed benchmark folders whose aggregate.json the Results sections read, with what they are
RESULT_FOLDERS = {
    "table1_1m": "Table 1 grid at the paper's 1M steps",
    "table1": "Table 1 grid at 300k steps",
    # not committed yet: their grids run after the Table 1 grid (scripts/grids.sh); a page shows them once they are
    "klip": "KLip-PPO's comparison, in their configuration (normalized over this grid's own runs)",
    "paper_code": "Table 1 settings with the paper's code-level settings (normalized over this grid's own runs)",
}
SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def _title(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _paragraphs(description: str) -> list[str]:
    return [line for paragraph in description.split("\n\n") for line in (paragraph, "")]


def _can_i_use(variants: list[Any]) -> list[str]:
    rows = []
    for variant in variants:
        cls = variant.cls
        supported = cls.family_action_spaces
        marks = ["yes" if space in supported else "no" for space in SPACES]
        dict_obs = "yes" if "MultiInputPolicy" in cls.policy_aliases or "MultiInputLstmPolicy" in cls.policy_aliases else "no"
        gsde = "yes" if "use_sde" in inspect.signature(cls).parameters else "no"
        fast = "lean path" if cls.family_has_lean_path else "fused Adam only"
        rows.append(f"   * - ``{cls.__name__}``\n     - " + "\n     - ".join([*marks, dict_obs, "yes", gsde, fast]))
    header = (
        ".. list-table::\n   :header-rows: 1\n\n   * - class\n     - Box\n     - Discrete\n     - MultiDiscrete\n"
        "     - MultiBinary\n     - Dict observations\n     - several envs\n     - gSDE\n     - ``fast=True``\n"
    )
    return [header + "\n".join(rows), ""]


def _results(algo: str) -> list[str]:
    lines: list[str] = []
    for folder, what in RESULT_FOLDERS.items():
        path = ROOT / "results" / folder / "aggregate.json"
        rows_of_report = read_scores_csv(path.parent)
        if not path.is_file() or not rows_of_report:
            continue
        settings = {row["setting"] for row in rows_of_report if row["algo"] == algo}
        summary = json.loads(path.read_text())
        rows = [a for a in summary["aggregate"] if a["setting"] in settings]
        if not rows:
            continue
        lines += [
            # how far a grid in progress got: the guide's summary says it per seed and env (scripts/results_blocks.py)
            f"**{what}** (``results/{folder}/``, {summary['timesteps']:,} timesteps, {len(rows_of_report)} runs in its "
            f"report; the full report is ``results/{folder}/report.md`` in the repository):",
            "",
        ]
        lines += [
            ".. list-table::",
            "   :header-rows: 1",
            "",
            "   * - setting",
            "     - paper (Table 1)",
            "     - mean normalized score",
            "     - 95% CI",
            "     - runs",
        ]
        for a in rows:
            ci = "n/a (1 seed)" if a["mean_ci"] is None else f"[{a['mean_ci'][0]:.2f}, {a['mean_ci'][1]:.2f}]"
            paper = "" if a["paper"] is None else f"{a['paper']:.2f}"
            lines += [
                f"   * - ``{a['setting']}``",
                f"     - {paper}",
                f"     - {a['mean']:.2f}",
                f"     - {ci}",
                f"     - {a['runs']}",
            ]
        lines.append("")
    return lines or ["No committed benchmark of this objective yet; :doc:`../guide/benchmark` runs one.", ""]


def page(objective: Any, variants: list[Any]) -> str:
    main = next(v for v in variants if v.family.key == "ppo")
    table1 = objective.key in ("clip", "adaptive_kl", "fixed_kl", "no_clip")
    name = main.cls.__name__
    lines = [f".. _{objective.key}:", "", *_title(name, "=")]
    lines += _paragraphs(f"{main.family.prefix} with {objective.description}")
    lines += _title("Notes", "-")
    lines += [
        f"- Zoo keys: {', '.join(f'``{v.key}``' for v in variants)}; classes: "
        + ", ".join(f":class:`~sb3_ppo_variants.{v.cls.__name__}`" for v in variants)
        + ".",
        f"- Objective object: :class:`sb3_ppo_variants.objectives.{type(objective).__name__}`; "
        f"its knobs: {', '.join(f'``{k}``' for k in objective.knobs) or 'none'}"
        + (f"; ``clip_range`` default {objective.clip_range_default}" if objective.takes_clip_range else "; no ``clip_range``")
        + ".",
        "- Paper: `Schulman et al. 2017 <https://arxiv.org/abs/1707.06347>`_ (Table 1, Sections 3-4)."
        if table1
        else "- Paper: KLip-PPO (Colletti and Holzinger 2026), built on Schulman et al. 2017.",
        "",
    ]
    lines += _title("Can I use?", "-") + _can_i_use(variants)
    lines += _title("Example", "-")
    lines += [
        ".. doctest::",
        "",
        f"   >>> from sb3_ppo_variants import {name}",
        f'   >>> model = {name}("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, seed=0).learn(128)',
        "   >>> model.num_timesteps",
        "   128",
        f'   >>> model.save("{objective.key}_cartpole")',
        f'   >>> {name}.load("{objective.key}_cartpole").num_timesteps',
        "   128",
        "",
    ]
    lines += _title("Results", "-") + _results(main.key)
    lines += _title("How to replicate", "-")
    lines += [
        ".. code-block:: bash",
        "",
        f"   python -m sb3_ppo_variants.zoo train --algo {main.key} --env HalfCheetah-v5 --paper   # one run, Table 3 setting",
        "   python -m sb3_ppo_variants.benchmark run --preset table1 --fast --out results/table1_1m --workers 1"
        if table1
        else "   python -m sb3_ppo_variants.benchmark run --preset klip --envs Ant-v5 Humanoid-v5 --fast --out results/klip "
        "--workers 1",
        "",
        "A 1M-step run on the fast path takes 5-8 minutes on one idle core here (the Table 1 tasks); see "
        ":doc:`../guide/benchmark`.",
        "",
    ]
    lines += _title("Parameters", "-")
    for variant in variants:
        lines += [f".. autoclass:: sb3_ppo_variants.{variant.cls.__name__}", "   :members: learn, load", ""]
    return "\n".join(lines) + "\n"


def write_pages(app: Any = None) -> list[Path]:
    from sb3_ppo_variants.registry import OBJECTIVES, REGISTRY

    MODULES.mkdir(exist_ok=True)
    written = []
    for objective in OBJECTIVES:
        variants = [v for v in REGISTRY if v.objective.key == objective.key]
        path = MODULES / f"{objective.key}.rst"
        text = page(objective, variants)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True}
