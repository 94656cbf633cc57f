"""Pipelines for the groups in ``examples/groups/public/``: well-known public DAGs, translated.

These bodies are stand-ins: they do not run dbt, Airflow or Kedro. Each one checks its
params and returns what the original task would have done, so the groups validate, plan,
draw and run end to end. The point of these examples is the *shape* of the DAGs.

* ``dbt.*`` — dbt-labs ``jaffle_shop``: seeds, staging models, marts.
* ``airflow_tutorial.*`` — the ``tutorial`` DAG from Apache Airflow's documentation.
* ``kedro_spaceflights.*`` — the nodes of Kedro's ``spaceflights`` starter.

Imported by :mod:`examples.pipelines`; importing it on its own registers the same pipelines.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

from spine.framework import ParamDef, check_params, register_pipeline


def _checked(defs: Iterable[ParamDef], params: dict[str, Any] | None, name: str) -> dict[str, Any]:
    defs = tuple(defs)
    bound = {d.name: d.default for d in defs if not d.required and d.default is not None}
    bound.update(params or {})
    problems = check_params(defs, bound)
    if problems:
        raise ValueError(f"{name}: " + "; ".join(problems))
    return bound


# -- dbt jaffle_shop ---------------------------------------------------------------------

DBT_COMMON = (
    ParamDef("target", str, default="dev", description="the dbt target (profiles.yml output)"),
    ParamDef("project_dir", str, default=".", description="folder holding dbt_project.yml"),
)
DBT_SEED_PARAMS = (
    ParamDef("seed", str, required=True, description="the seed (CSV in seeds/) to load"),
    ParamDef("full_refresh", bool, default=False, description="drop and recreate the seed table"),
    *DBT_COMMON,
)
DBT_MODEL_PARAMS = (
    ParamDef("model", str, required=True, description="the model to build"),
    ParamDef("materialized", str, default="view", choices=("view", "table", "incremental", "ephemeral"),
             description="how dbt materializes the model"),
    *DBT_COMMON,
)


@register_pipeline("dbt.seed", params=DBT_SEED_PARAMS, description="Load one dbt seed (stand-in: returns the command)")
def dbt_seed(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _checked(DBT_SEED_PARAMS, params, "dbt.seed")
    cmd = ["dbt", "seed", "--select", p["seed"], "--target", p["target"], "--project-dir", p["project_dir"]]
    if p["full_refresh"]:
        cmd.append("--full-refresh")
    return {"command": cmd, "relation": p["seed"]}


@register_pipeline("dbt.model", params=DBT_MODEL_PARAMS, description="Build one dbt model (stand-in: returns the command)")
def dbt_model(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _checked(DBT_MODEL_PARAMS, params, "dbt.model")
    cmd = ["dbt", "run", "--select", p["model"], "--target", p["target"], "--project-dir", p["project_dir"]]
    return {"command": cmd, "relation": p["model"], "materialized": p["materialized"]}


# -- Airflow tutorial --------------------------------------------------------------------

PRINT_DATE_PARAMS = (ParamDef("format", str, default="%a %b %d %H:%M:%S UTC %Y", description="strftime format, like date(1)"),)
SLEEP_PARAMS = (ParamDef("seconds", float, default=5.0, description="how long to sleep"),)
TEMPLATED_PARAMS = (
    ParamDef("ds", "date", required=True, description="the logical date (Airflow's {{ ds }})"),
    ParamDef("days", int, default=7, description="days added by macros.ds_add"),
    ParamDef("repeat", int, default=5, description="how many times the loop echoes"),
)


@register_pipeline("airflow_tutorial.print_date", params=PRINT_DATE_PARAMS, description="The 'date' BashOperator")
def print_date(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _checked(PRINT_DATE_PARAMS, params, "airflow_tutorial.print_date")
    return {"output": dt.datetime.now(dt.UTC).strftime(p["format"])}


@register_pipeline("airflow_tutorial.sleep", params=SLEEP_PARAMS, description="The 'sleep 5' BashOperator")
def sleep(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _checked(SLEEP_PARAMS, params, "airflow_tutorial.sleep")
    if p["seconds"] < 0:
        raise ValueError(f"airflow_tutorial.sleep: seconds must be ≥ 0, got {p['seconds']}")
    start = time.monotonic()
    time.sleep(p["seconds"])
    return {"slept_seconds": round(time.monotonic() - start, 3)}


@register_pipeline("airflow_tutorial.templated", params=TEMPLATED_PARAMS,
                   description="The templated BashOperator: echo ds and ds + 7 days, five times")
def templated(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _checked(TEMPLATED_PARAMS, params, "airflow_tutorial.templated")
    ds = p["ds"] if isinstance(p["ds"], dt.date) else dt.date.fromisoformat(p["ds"])
    later = ds + dt.timedelta(days=p["days"])
    lines = [line for _ in range(p["repeat"]) for line in (ds.isoformat(), later.isoformat())]
    return {"output": lines}


# -- Kedro spaceflights ------------------------------------------------------------------

#: node → (inputs, outputs), as in the spaceflights starter's pipeline definitions.
KEDRO_NODES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "preprocess_companies": (("companies",), ("preprocessed_companies",)),
    "preprocess_shuttles": (("shuttles",), ("preprocessed_shuttles",)),
    "create_model_input_table": (("preprocessed_shuttles", "preprocessed_companies", "reviews"), ("model_input_table",)),
    "split_data": (("model_input_table", "params:model_options"), ("X_train", "X_test", "y_train", "y_test")),
    "train_model": (("X_train", "y_train"), ("regressor",)),
    "evaluate_model": (("regressor", "X_test", "y_test"), ("metrics",)),
    "compare_passenger_capacity_exp": (("preprocessed_shuttles",), ("shuttle_passenger_capacity_plot_exp",)),
    "compare_passenger_capacity_go": (("preprocessed_shuttles",), ("shuttle_passenger_capacity_plot_go",)),
    "create_confusion_matrix": (("companies",), ("dummy_confusion_matrix",)),
}
SPLIT_PARAMS = (
    ParamDef("test_size", float, default=0.2, description="fraction of rows held out for testing"),
    ParamDef("random_state", int, default=3, description="seed of the train/test split"),
    ParamDef("features", list, required=True, description="model_input_table columns used as features"),
)


def _kedro_node(node: str, defs: tuple[ParamDef, ...] = ()) -> None:
    inputs, outputs = KEDRO_NODES[node]
    name = f"kedro_spaceflights.{node}"

    def run(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
        p = _checked(defs, params, name)
        return {"node": node, "inputs": list(inputs), "outputs": list(outputs), "params": p}

    run.__name__ = run.__qualname__ = node
    register_pipeline(name, params=defs, description=f"Kedro node {node}: {', '.join(inputs)} -> {', '.join(outputs)}")(run)


for _node in KEDRO_NODES:
    _kedro_node(_node, SPLIT_PARAMS if _node == "split_data" else ())
