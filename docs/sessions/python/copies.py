from spine.orchestration import PipelineGroup

base = PipelineGroup(name="demo.weekly")
one = base.add("ingest", "demo.ingest")
two = one.add("normalize", "demo.normalize", depends_on=["ingest"])
print(len(base.steps), len(one.steps), len(two.steps))

parallel = two.with_policy(execution="parallel", max_concurrency=8, timeout_minutes=30)
print(two.policy.execution.value, "->", parallel.policy)

more = parallel.with_defaults(force=False).with_defaults(tier="{{ params.tier }}")
print(dict(parallel.defaults), "->", dict(more.defaults))

for change in (
    lambda: setattr(two, "name", "other"),
    lambda: more.defaults.update(force=True),
    lambda: two.with_policy(execution="fast"),
):
    try:
        change()
    except (AttributeError, TypeError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}")
