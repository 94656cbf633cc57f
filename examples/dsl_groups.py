"""The FINRA weekly refresh in the Python DSL — the same group as
``examples/groups/finra_weekly_refresh.yaml``.

Importing this module registers the group in ``spine.orchestration.default_group_registry``.
Groups are immutable: ``add``, ``with_defaults`` and ``with_policy`` each return a new
group, so the calls chain. The group built here is *equal* (``==``) to the one loaded from
the YAML file (where a group came from is not part of equality). Check it with::

    PYTHONPATH=src python3 -m examples.dsl_groups
"""

from __future__ import annotations

from spine.orchestration import PipelineGroup, register_group

FINRA = "finra.otc_transparency"


@register_group
def finra_weekly_refresh() -> PipelineGroup:
    """ingest → normalize → (aggregate → rolling, venue_share)."""
    return (
        PipelineGroup(
            name="finra.weekly_refresh",
            domain=FINRA,
            version=1,
            description=(
                "Weekly refresh of FINRA OTC Transparency ATS volume for one tier: ingest the week, "
                "normalize it, aggregate by symbol and venue, compute venue shares and a rolling average."
            ),
            tags=("finra", "otc", "weekly"),
        )
        .with_defaults(
            tier="{{ params.tier }}",
            week_ending="{{ params.week_ending }}",
            force=False,
        )
        .add(
            "ingest",
            f"{FINRA}.ingest_week",
            params={"source_type": "sample"},
            description="Copy the tier's rows for the week into the raw layer",
        )
        .add(
            "normalize",
            f"{FINRA}.normalize_week",
            depends_on=["ingest"],
            description="Clean symbols and MPIDs, parse volumes, drop bad and duplicate rows",
        )
        .add(
            "aggregate",
            f"{FINRA}.aggregate_week",
            depends_on=["normalize"],
            description="Weekly totals by symbol and by venue",
        )
        .add(
            "venue_share",
            f"{FINRA}.compute_venue_share",
            depends_on=["normalize"],
            description="Each venue's share of each symbol's volume",
        )
        .add(
            "rolling",
            f"{FINRA}.compute_rolling",
            depends_on=["aggregate"],
            params={"window_weeks": 4},
            description="Rolling average of weekly volume per symbol",
        )
        .with_policy(execution="parallel", max_concurrency=2, on_failure="stop", timeout_minutes=60)
        .add_schedule(
            "monday_morning",
            "0 6 * * 1",
            timezone="America/New_York",
            params={"tier": "NMS_TIER_1", "week_ending": "{{ (schedule.logical_date - timedelta(days=3)).date() }}"},
            catchup=False,
        )
    )


# ``@register_group`` calls the function once and binds the name to the group it returned.
GROUPS = [finra_weekly_refresh]


def _main() -> int:
    from pathlib import Path

    import examples.pipelines  # noqa: F401  (registers the pipelines)
    from spine.framework import default_pipeline_registry
    from spine.orchestration import group_to_yaml, load_groups, validate_group

    yaml_file = Path(__file__).resolve().parent / "groups" / "finra_weekly_refresh.yaml"
    (from_yaml,) = load_groups(yaml_file)
    dsl = finra_weekly_refresh
    findings = validate_group(dsl, default_pipeline_registry)
    for f in findings:
        print(f)
    if dsl == from_yaml:
        print(f"OK: the DSL group equals {yaml_file.name}")
        return 1 if findings else 0
    import difflib

    print(f"DIFFERENT from {yaml_file.name}:")
    print("".join(difflib.unified_diff(
        group_to_yaml(from_yaml).splitlines(keepends=True),
        group_to_yaml(dsl).splitlines(keepends=True),
        "yaml", "dsl",
    )))
    return 1


if __name__ == "__main__":
    raise SystemExit(_main())
