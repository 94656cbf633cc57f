import datetime as dt

from spine.framework import ParamDef, check_params

limit = ParamDef("limit", int, default=100)
ratio = ParamDef("ratio", "float")
day = ParamDef("week_ending", "date", required=True)
tier = ParamDef("tier", str, choices=("T1", "T2"))

print(limit.problem(5), limit.problem(True), limit.problem("5"), limit.problem(None), sep=" | ")
print(ratio.problem(3), ratio.problem(0.5), sep=" | ")
print(day.problem(dt.date(2024, 1, 5)), day.problem("2024-01-05"), day.problem("05/01/2024"), sep=" | ")
print(tier.problem("T3"))
print(limit.to_dict())

print(check_params([limit, day, tier], {"limit": "ten", "tier": "T1", "extra": 1}))
print(check_params([limit, day], {"week_ending": "2024-01-05", "extra": 1}, allow_unknown=True))

for bad in (
    lambda: ParamDef("amount", "decimal"),
    lambda: ParamDef("tier", str, required=True, default="T1"),
):
    try:
        bad()
    except ValueError as exc:
        print("ValueError:", exc)
