from spine.testing import groups, step_names, broken_documents, run_params
for make in (lambda: groups(min_steps=5, max_steps=2),
             lambda: step_names(max_size=500),
             lambda: broken_documents(kinds=["cycle"]),
             lambda: run_params({"name": "x"})):
    try:
        make()
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}")
