import demo_pipelines  # noqa: F401  (registers demo.ingest, demo.normalize, …)
from spine.framework import default_pipeline_registry as registry
from spine.orchestration import PlanResolver, check_group, load_groups
from spine.render.report import build_report, write_report
from spine.render.svg import draw_svg

group = load_groups("groups/weekly.yaml")[0]
params = {"tier": "T1", "week_ending": "2024-01-05"}
plan = PlanResolver(registry).resolve(group, params)
data = build_report(group, findings=check_group(group, registry), plan=plan, run_params=params, registry=registry)
print(data.valid, len(data.steps), data.generations, data.critical_path, data.widest_generation)
picture = draw_svg(data.graph.dot)           # runs Graphviz's dot; or draw_svg(text, "/opt/graphviz/bin/dot")
print(picture.drawn, picture.missing)
print(write_report("build/api.html", data.with_picture(picture)))
