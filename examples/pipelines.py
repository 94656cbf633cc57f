"""Example pipelines for the groups in ``examples/groups/`` (stdlib only).

Importing this module registers every pipeline the example groups call:

* ``finra.otc_transparency.*`` — a weekly refresh of FINRA OTC Transparency ATS data:
  ingest one tier and week from ``examples/data/finra_otc_weekly.csv``, normalize it,
  aggregate it by symbol and venue, compute each venue's share, and a rolling average;
* ``market_data.prices.*`` — end-of-day prices: ingest ``examples/data/daily_prices.csv``,
  validate the bars, adjust for splits, compute returns, and write a quality report;
* the pipelines of the translated public examples (:mod:`examples.public_pipelines`).

Every pipeline takes ``(params, ctx)``, works without a context (``ctx=None``), writes its
files under ``output_dir`` (default ``build/example-output``, relative to the working
directory) and returns a small JSON-able summary. A step whose input file is missing runs
the step before it first, so any pipeline can be called on its own::

    from spine.framework import default_pipeline_registry as R
    import examples.pipelines  # noqa: F401  (registers)
    R.get("finra.otc_transparency.compute_rolling").call(
        {"tier": "NMS_TIER_1", "week_ending": "2024-01-05"}, ctx=None)

The sample data is synthetic (see ``examples/data/make_samples.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from spine.framework import ParamDef, Pipeline, check_params, register_pipeline

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_OUTPUT_DIR = "build/example-output"

#: FINRA OTC Transparency tiers: Tier 1 and Tier 2 NMS stocks, and OTC equities.
TIERS = ("NMS_TIER_1", "NMS_TIER_2", "OTCE")


# -- helpers -------------------------------------------------------------------------------


def _bind(defs: Iterable[ParamDef], params: Mapping[str, Any] | None, pipeline: str) -> dict[str, Any]:
    """``params`` checked against ``defs``, with ParamDef defaults filled in and dates parsed.

    The planner already merges defaults and checks params; this makes a direct
    ``spec.call(params, ctx=None)`` behave the same way.
    """
    defs = tuple(defs)
    bound = {d.name: d.default for d in defs if not d.required and d.default is not None}
    bound.update(params or {})
    problems = check_params(defs, bound)
    if problems:
        raise ValueError(f"{pipeline}: " + "; ".join(problems))
    for d in defs:
        bound.setdefault(d.name, None)
        if d.type_name == "date" and isinstance(bound[d.name], str):
            bound[d.name] = dt.date.fromisoformat(bound[d.name])
    return bound


def _only(params: Mapping[str, Any], defs: Iterable[ParamDef]) -> dict[str, Any]:
    """The subset of ``params`` that ``defs`` declares (to call an upstream pipeline)."""
    names = {d.name for d in defs}
    return {k: v for k, v in params.items() if k in names and v is not None}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write_csv(path: Path, fields: list[str], rows: Iterable[Mapping[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: _fmt(row.get(k)) for k in fields})
            n += 1
    return n


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return "" if value is None else value


def _ensure(path: Path, upstream: Callable[[dict[str, Any], Any], Any], params: Mapping[str, Any], ctx: Any) -> Path:
    """``path``, running ``upstream`` first when it is missing (so a step can run alone)."""
    if not path.exists():
        log.info("%s is missing; running %s first", path, getattr(upstream, "__name__", upstream))
        upstream(dict(params), ctx)
    return path


def _int(text: str) -> int:
    return int(text.replace(",", "").replace("_", "").strip())


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


# == FINRA OTC Transparency: weekly refresh ===============================================

TIER = ParamDef("tier", str, required=True, choices=TIERS, description="FINRA OTC Transparency tier")
WEEK_ENDING = ParamDef("week_ending", "date", required=True, description="the Friday that ends the FINRA week")
OUTPUT_DIR = ParamDef("output_dir", str, default=DEFAULT_OUTPUT_DIR, description="folder the outputs are written under")

INGEST_PARAMS = (
    TIER,
    WEEK_ENDING,
    ParamDef("source_type", str, default="sample", choices=("sample", "file"),
             description="'sample': the bundled CSV; 'file': the CSV at source_path"),
    ParamDef("source_path", str, description="CSV with week_ending,tier,symbol,venue,shares,trades (source_type=file)"),
    ParamDef("force", bool, default=False, description="ingest again even when the raw file exists"),
    OUTPUT_DIR,
)
NORMALIZE_PARAMS = (
    TIER,
    WEEK_ENDING,
    ParamDef("min_shares", int, default=1, description="drop venue rows with fewer shares than this"),
    OUTPUT_DIR,
)
AGGREGATE_PARAMS = (
    TIER,
    WEEK_ENDING,
    ParamDef("top_n", int, default=5, description="how many top symbols the summary names"),
    OUTPUT_DIR,
)
VENUE_SHARE_PARAMS = (TIER, WEEK_ENDING, OUTPUT_DIR)
ROLLING_PARAMS = (
    TIER,
    WEEK_ENDING,
    ParamDef("window_weeks", int, default=4, description="weeks in the rolling window, this week included"),
    ParamDef("backfill", bool, default=True, description="process earlier weeks of the window that are missing"),
    OUTPUT_DIR,
)


def _week_dir(p: Mapping[str, Any]) -> Path:
    return Path(p["output_dir"]) / "finra" / p["tier"] / p["week_ending"].isoformat()


@register_pipeline(
    "finra.otc_transparency.ingest_week",
    params=INGEST_PARAMS,
    description="Copy one tier and week of FINRA OTC weekly ATS data into the raw layer",
)
def ingest_week(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(INGEST_PARAMS, params, "ingest_week")
    if p["source_type"] == "file":
        if not p["source_path"]:
            raise ValueError("ingest_week: source_type 'file' needs source_path")
        source = Path(p["source_path"])
    else:
        source = DATA_DIR / "finra_otc_weekly.csv"
    out = _week_dir(p) / "raw.csv"
    if out.exists() and not p["force"]:
        return {"status": "cached", "path": str(out), "rows": len(_read_csv(out))}
    rows = _read_csv(source)
    week = p["week_ending"].isoformat()
    picked = [r for r in rows if r["tier"].strip().upper() == p["tier"] and r["week_ending"].strip() == week]
    if not picked:
        weeks = sorted({r["week_ending"] for r in rows if r["tier"].strip().upper() == p["tier"]})
        raise LookupError(
            f"ingest_week: {source} has no {p['tier']} rows for week ending {week}; "
            f"weeks available: {', '.join(weeks) or 'none'}"
        )
    n = _write_csv(out, list(rows[0].keys()), picked)
    return {"status": "ingested", "path": str(out), "rows": n, "source": str(source)}


@register_pipeline(
    "finra.otc_transparency.normalize_week",
    params=NORMALIZE_PARAMS,
    description="Clean symbols and MPIDs, parse volumes, drop empty, bad and duplicate rows",
)
def normalize_week(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(NORMALIZE_PARAMS, params, "normalize_week")
    folder = _week_dir(p)
    raw = _read_csv(_ensure(folder / "raw.csv", ingest_week, _only(p, INGEST_PARAMS), ctx))
    dropped: Counter[str] = Counter()
    cleaned: Counter[str] = Counter()
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in raw:
        symbol = r["symbol"].strip().upper()
        venue = r["venue"].strip().upper()
        cleaned["symbol"] += symbol != r["symbol"]
        cleaned["venue"] += bool(venue) and venue != r["venue"]
        cleaned["volume"] += not (r["shares"].isdigit() and r["trades"].isdigit())
        if not symbol or not venue:
            dropped["missing symbol or venue"] += 1
            continue
        try:
            shares, trades = _int(r["shares"]), _int(r["trades"])
        except ValueError:
            dropped["unparseable volume"] += 1
            continue
        if shares < p["min_shares"] or trades <= 0:
            dropped["below min_shares or no trades"] += 1
            continue
        key = (symbol, venue)
        if key in seen:
            dropped["duplicate" if seen[key]["shares"] == shares else "conflicting duplicate"] += 1
            continue
        seen[key] = {
            "week_ending": p["week_ending"].isoformat(),
            "tier": p["tier"],
            "symbol": symbol,
            "venue": venue,
            "shares": shares,
            "trades": trades,
            "avg_trade_size": round(shares / trades, 2),
        }
    rows = sorted(seen.values(), key=lambda r: (r["symbol"], r["venue"]))
    fields = ["week_ending", "tier", "symbol", "venue", "shares", "trades", "avg_trade_size"]
    _write_csv(folder / "normalized.csv", fields, rows)
    return {
        "rows_in": len(raw),
        "rows_out": len(rows),
        "cleaned": {k: n for k, n in cleaned.items() if n},
        "dropped": dict(dropped),
        "path": str(folder / "normalized.csv"),
    }


def _normalized(p: Mapping[str, Any], ctx: Any) -> list[dict[str, Any]]:
    path = _ensure(_week_dir(p) / "normalized.csv", normalize_week, _only(p, NORMALIZE_PARAMS), ctx)
    return [{**r, "shares": int(r["shares"]), "trades": int(r["trades"])} for r in _read_csv(path)]


@register_pipeline(
    "finra.otc_transparency.aggregate_week",
    params=AGGREGATE_PARAMS,
    description="Weekly totals by symbol and by venue",
)
def aggregate_week(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(AGGREGATE_PARAMS, params, "aggregate_week")
    rows = _normalized(p, ctx)
    by_symbol: dict[str, dict[str, Any]] = defaultdict(lambda: {"shares": 0, "trades": 0, "venues": 0, "top_venue": "", "top_venue_shares": -1})
    by_venue: dict[str, dict[str, Any]] = defaultdict(lambda: {"shares": 0, "trades": 0, "symbols": 0})
    for r in rows:
        s, v = by_symbol[r["symbol"]], by_venue[r["venue"]]
        s["shares"] += r["shares"]
        s["trades"] += r["trades"]
        s["venues"] += 1
        if r["shares"] > s["top_venue_shares"]:
            s["top_venue"], s["top_venue_shares"] = r["venue"], r["shares"]
        v["shares"] += r["shares"]
        v["trades"] += r["trades"]
        v["symbols"] += 1
    week = p["week_ending"].isoformat()
    symbols = sorted(
        ({"week_ending": week, "symbol": k, **v, "avg_trade_size": round(v["shares"] / v["trades"], 2)} for k, v in by_symbol.items()),
        key=lambda r: (-r["shares"], r["symbol"]),
    )
    venues = sorted(
        ({"week_ending": week, "venue": k, **v, "avg_trade_size": round(v["shares"] / v["trades"], 2)} for k, v in by_venue.items()),
        key=lambda r: (-r["shares"], r["venue"]),
    )
    folder = _week_dir(p)
    _write_csv(folder / "symbol_summary.csv", ["week_ending", "symbol", "shares", "trades", "venues", "avg_trade_size", "top_venue"], symbols)
    _write_csv(folder / "venue_summary.csv", ["week_ending", "venue", "shares", "trades", "symbols", "avg_trade_size"], venues)
    return {
        "symbols": len(symbols),
        "venues": len(venues),
        "total_shares": sum(r["shares"] for r in symbols),
        "total_trades": sum(r["trades"] for r in symbols),
        "top_symbols": [r["symbol"] for r in symbols[: p["top_n"]]],
        "path": str(folder / "symbol_summary.csv"),
    }


@register_pipeline(
    "finra.otc_transparency.compute_venue_share",
    params=VENUE_SHARE_PARAMS,
    description="Each venue's share of each symbol's weekly volume, with a concentration index",
)
def compute_venue_share(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(VENUE_SHARE_PARAMS, params, "compute_venue_share")
    rows = _normalized(p, ctx)
    per_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        per_symbol[r["symbol"]].append(r)
    out: list[dict[str, Any]] = []
    hhi: dict[str, float] = {}
    for symbol in sorted(per_symbol):
        items = sorted(per_symbol[symbol], key=lambda r: (-r["shares"], r["venue"]))
        total = sum(r["shares"] for r in items)
        shares_pct = [_pct(r["shares"], total) for r in items]
        # Herfindahl–Hirschman index on percentages: 10 000 = one venue has it all.
        hhi[symbol] = round(sum(x * x for x in shares_pct), 1)
        for rank, (r, pct) in enumerate(zip(items, shares_pct, strict=True), start=1):
            out.append({"week_ending": r["week_ending"], "symbol": symbol, "venue": r["venue"], "shares": r["shares"],
                        "share_pct": pct, "rank": rank, "symbol_hhi": hhi[symbol]})
    tier_total = sum(r["shares"] for r in rows)
    venue_totals: Counter[str] = Counter()
    for r in rows:
        venue_totals[r["venue"]] += r["shares"]
    path = _week_dir(p) / "venue_share.csv"
    _write_csv(path, ["week_ending", "symbol", "venue", "shares", "share_pct", "rank", "symbol_hhi"], out)
    return {
        "rows": len(out),
        "tier_venue_share_pct": {v: _pct(n, tier_total) for v, n in venue_totals.most_common()},
        "most_concentrated_symbol": max(hhi, key=lambda s: (hhi[s], s)) if hhi else None,
        "path": str(path),
    }


@register_pipeline("finra.otc_transparency.compute_rolling")
class ComputeRolling(Pipeline):
    """Rolling average of each symbol's weekly volume over the last ``window_weeks`` weeks."""

    params = ROLLING_PARAMS

    def run(self, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
        p = _bind(ROLLING_PARAMS, params, "compute_rolling")
        if p["window_weeks"] < 1:
            raise ValueError(f"compute_rolling: window_weeks must be ≥ 1, got {p['window_weeks']}")
        history: dict[str, list[dict[str, Any]]] = {}
        backfilled: list[str] = []
        unavailable: list[str] = []
        for k in range(p["window_weeks"]):
            week = p["week_ending"] - dt.timedelta(weeks=k)
            wp = {**p, "week_ending": week}
            path = _week_dir(wp) / "symbol_summary.csv"
            if not path.exists():
                if k > 0 and not p["backfill"]:
                    unavailable.append(week.isoformat())
                    continue
                try:
                    aggregate_week(_only(wp, AGGREGATE_PARAMS), ctx)
                except LookupError:
                    if k == 0:
                        raise
                    unavailable.append(week.isoformat())  # before the start of the data
                    continue
                if k > 0:
                    backfilled.append(week.isoformat())
            history[week.isoformat()] = _read_csv(path)
        weeks = sorted(history)
        latest = weeks[-1]
        series: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        for week, rows in history.items():
            for r in rows:
                series[r["symbol"]][week] = (int(r["shares"]), int(r["trades"]))
        out = []
        for symbol in sorted(series):
            points = series[symbol]
            avg_shares = sum(s for s, _ in points.values()) / len(points)
            avg_trades = sum(t for _, t in points.values()) / len(points)
            now = points.get(latest, (0, 0))[0]
            out.append({
                "week_ending": latest, "symbol": symbol, "weeks": len(points),
                "shares": now, "avg_shares": round(avg_shares, 1), "avg_trades": round(avg_trades, 1),
                "vs_avg_pct": round(100.0 * (now / avg_shares - 1), 2) if avg_shares else None,
            })
        path = _week_dir(p) / "rolling.csv"
        _write_csv(path, ["week_ending", "symbol", "weeks", "shares", "avg_shares", "avg_trades", "vs_avg_pct"], out)
        movers = sorted((r for r in out if r["vs_avg_pct"] is not None), key=lambda r: -abs(r["vs_avg_pct"]))
        return {
            "weeks_used": weeks,
            "backfilled": backfilled,
            "unavailable": unavailable,
            "symbols": len(out),
            "biggest_mover": movers[0]["symbol"] if movers else None,
            "path": str(path),
        }


# == Market data: daily prices ============================================================

TRADE_DATE = ParamDef("trade_date", "date", required=True, description="the trading day being processed")
MD_INGEST_PARAMS = (
    TRADE_DATE,
    ParamDef("symbols", list, description="symbols to keep (default: every symbol in the source)"),
    ParamDef("lookback_days", int, default=45, description="calendar days of history kept before trade_date"),
    ParamDef("source_path", str, description="CSV with date,symbol,open,high,low,close,volume (default: the bundled sample)"),
    OUTPUT_DIR,
)
MD_VALIDATE_PARAMS = (
    TRADE_DATE,
    ParamDef("max_move_pct", float, default=25.0, description="flag close-to-close moves larger than this"),
    ParamDef("max_bad_rows_pct", float, default=5.0, description="fail when more rows than this are rejected"),
    OUTPUT_DIR,
)
MD_SPLIT_PARAMS = (
    TRADE_DATE,
    ParamDef("splits_path", str, description="CSV with date,symbol,ratio (default: the bundled sample)"),
    OUTPUT_DIR,
)
MD_RETURNS_PARAMS = (
    TRADE_DATE,
    ParamDef("horizons", list, default=[1, 5, 20], description="return horizons in trading days"),
    ParamDef("vol_window", int, default=20, description="trading days in the realised-volatility window"),
    OUTPUT_DIR,
)
MD_QUALITY_PARAMS = (TRADE_DATE, OUTPUT_DIR)
PRICE_FIELDS = ["date", "symbol", "open", "high", "low", "close", "volume"]


def _day_dir(p: Mapping[str, Any]) -> Path:
    return Path(p["output_dir"]) / "market_data" / p["trade_date"].isoformat()


@register_pipeline(
    "market_data.prices.ingest_daily",
    params=MD_INGEST_PARAMS,
    description="Load daily OHLCV bars up to trade_date, with lookback history",
)
def ingest_daily(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(MD_INGEST_PARAMS, params, "ingest_daily")
    source = Path(p["source_path"]) if p["source_path"] else DATA_DIR / "daily_prices.csv"
    first = p["trade_date"] - dt.timedelta(days=p["lookback_days"])
    wanted = {s.upper() for s in p["symbols"]} if p["symbols"] else None
    rows = []
    for r in _read_csv(source):
        try:
            day = dt.date.fromisoformat(r["date"].strip())
        except ValueError:
            continue
        if first <= day <= p["trade_date"] and (wanted is None or r["symbol"].strip().upper() in wanted):
            rows.append(r)
    if not any(r["date"].strip() == p["trade_date"].isoformat() for r in rows):
        raise LookupError(f"ingest_daily: {source} has no bars for {p['trade_date']} (a holiday or weekend?)")
    path = _day_dir(p) / "prices_raw.csv"
    _write_csv(path, PRICE_FIELDS, rows)
    return {
        "rows": len(rows),
        "symbols": sorted({r["symbol"].strip().upper() for r in rows}),
        "from": min(r["date"] for r in rows),
        "to": p["trade_date"].isoformat(),
        "path": str(path),
    }


@register_pipeline(
    "market_data.prices.validate_daily",
    params=MD_VALIDATE_PARAMS,
    description="Reject malformed bars (missing fields, high < low, negative volume, duplicates); flag big moves",
)
def validate_daily(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(MD_VALIDATE_PARAMS, params, "validate_daily")
    folder = _day_dir(p)
    raw = _read_csv(_ensure(folder / "prices_raw.csv", ingest_daily, _only(p, MD_INGEST_PARAMS), ctx))
    issues: list[dict[str, Any]] = []
    valid: dict[tuple[str, str], dict[str, Any]] = {}

    def issue(r: Mapping[str, str], check: str, detail: str, action: str = "rejected") -> None:
        issues.append({"date": r.get("date", ""), "symbol": r.get("symbol", ""), "check": check, "detail": detail, "action": action})

    for r in raw:
        try:
            bar = {"date": r["date"].strip(), "symbol": r["symbol"].strip().upper()}
            for k in ("open", "high", "low", "close"):
                bar[k] = float(r[k])
            bar["volume"] = int(r["volume"])
        except (ValueError, KeyError) as exc:
            issue(r, "unparseable", f"{exc}")
            continue
        if min(bar["open"], bar["high"], bar["low"], bar["close"]) <= 0:
            issue(r, "non_positive_price", "a price is ≤ 0")
        elif bar["high"] < max(bar["open"], bar["close"]) or bar["low"] > min(bar["open"], bar["close"]):
            issue(r, "inconsistent_range", f"high {bar['high']} / low {bar['low']} do not bracket open and close")
        elif bar["volume"] < 0:
            issue(r, "negative_volume", f"volume {bar['volume']}")
        elif (bar["date"], bar["symbol"]) in valid:
            issue(r, "duplicate", "a second bar for this date and symbol", "dropped")
        else:
            valid[(bar["date"], bar["symbol"])] = bar
    rejected = sum(1 for i in issues if i["action"] == "rejected")
    bars = sorted(valid.values(), key=lambda b: (b["symbol"], b["date"]))
    previous: dict[str, float] = {}
    for b in bars:  # big moves are flagged, not rejected: a split looks like one
        prev = previous.get(b["symbol"])
        if prev and abs(b["close"] / prev - 1) * 100 > p["max_move_pct"]:
            issue(b, "large_move", f"close {prev} -> {b['close']} ({100 * (b['close'] / prev - 1):+.1f}%)", "flagged")
        previous[b["symbol"]] = b["close"]
    day = p["trade_date"].isoformat()
    for symbol in sorted({b["symbol"] for b in bars} - {b["symbol"] for b in bars if b["date"] == day}):
        issue({"date": day, "symbol": symbol}, "missing_trade_date_bar", "no valid bar on trade_date", "flagged")
    _write_csv(folder / "prices_valid.csv", PRICE_FIELDS, bars)
    _write_csv(folder / "validation_issues.csv", ["date", "symbol", "check", "detail", "action"], issues)
    bad_pct = _pct(rejected, len(raw))
    if bad_pct > p["max_bad_rows_pct"]:
        raise ValueError(f"validate_daily: {bad_pct}% of rows rejected (limit {p['max_bad_rows_pct']}%); see {folder / 'validation_issues.csv'}")
    return {
        "rows_in": len(raw),
        "rows_valid": len(bars),
        "rejected_pct": bad_pct,
        "issues": dict(Counter(i["check"] for i in issues)),
        "path": str(folder / "prices_valid.csv"),
    }


@register_pipeline(
    "market_data.prices.adjust_splits",
    params=MD_SPLIT_PARAMS,
    description="Back-adjust prices and volumes for stock splits",
)
def adjust_splits(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(MD_SPLIT_PARAMS, params, "adjust_splits")
    folder = _day_dir(p)
    bars = _read_csv(_ensure(folder / "prices_valid.csv", validate_daily, _only(p, MD_VALIDATE_PARAMS), ctx))
    splits_path = Path(p["splits_path"]) if p["splits_path"] else DATA_DIR / "splits.csv"
    splits = [
        (s["date"], s["symbol"].strip().upper(), float(s["ratio"]))
        for s in _read_csv(splits_path)
        if s["date"] <= p["trade_date"].isoformat()
    ]
    adjusted = 0
    out = []
    for b in bars:
        factor = 1.0
        for day, symbol, ratio in splits:
            if b["symbol"] == symbol and b["date"] < day:
                factor *= ratio
        row = {k: b[k] for k in PRICE_FIELDS}
        for k in ("open", "high", "low", "close"):
            row[k] = round(float(b[k]) / factor, 4)
        row["volume"] = round(int(b["volume"]) * factor)
        row["adj_factor"] = factor
        adjusted += factor != 1.0
        out.append(row)
    path = folder / "prices_adjusted.csv"
    _write_csv(path, [*PRICE_FIELDS, "adj_factor"], out)
    return {"splits_applied": [f"{s} {r:g}:1 on {d}" for d, s, r in splits], "rows_adjusted": adjusted, "path": str(path)}


@register_pipeline(
    "market_data.prices.compute_returns",
    params=MD_RETURNS_PARAMS,
    description="Returns over several horizons and annualised realised volatility, per symbol",
)
def compute_returns(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(MD_RETURNS_PARAMS, params, "compute_returns")
    horizons = p["horizons"]
    if not horizons or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in horizons):
        raise ValueError(f"compute_returns: horizons must be positive integers, got {horizons!r}")
    folder = _day_dir(p)
    bars = _read_csv(_ensure(folder / "prices_adjusted.csv", adjust_splits, _only(p, MD_SPLIT_PARAMS), ctx))
    closes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for b in bars:
        closes[b["symbol"]].append((b["date"], float(b["close"])))
    day = p["trade_date"].isoformat()
    out = []
    for symbol in sorted(closes):
        series = sorted(closes[symbol])
        if series[-1][0] != day:
            continue  # no bar on trade_date: validate_daily flagged it
        px = [c for _, c in series]
        row: dict[str, Any] = {"date": day, "symbol": symbol, "close": px[-1], "history_days": len(px)}
        for h in horizons:
            row[f"ret_{h}d_pct"] = round(100 * (px[-1] / px[-1 - h] - 1), 4) if len(px) > h else None
        logs = [math.log(b / a) for a, b in zip(px, px[1:], strict=False)][-p["vol_window"]:]
        if len(logs) >= 2:
            mean = sum(logs) / len(logs)
            var = sum((x - mean) ** 2 for x in logs) / (len(logs) - 1)
            row["vol_ann_pct"] = round(100 * math.sqrt(var * 252), 4)
        else:
            row["vol_ann_pct"] = None
        out.append(row)
    path = folder / "returns.csv"
    fields = ["date", "symbol", "close", "history_days", *(f"ret_{h}d_pct" for h in horizons), "vol_ann_pct"]
    _write_csv(path, fields, out)
    first = f"ret_{horizons[0]}d_pct"
    ranked = sorted((r for r in out if r[first] is not None), key=lambda r: r[first])
    return {
        "symbols": len(out),
        "best": ranked[-1]["symbol"] if ranked else None,
        "worst": ranked[0]["symbol"] if ranked else None,
        "path": str(path),
    }


@register_pipeline(
    "market_data.prices.quality_report",
    params=MD_QUALITY_PARAMS,
    description="Per-symbol completeness and validation issues, as JSON",
)
def quality_report(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    p = _bind(MD_QUALITY_PARAMS, params, "quality_report")
    folder = _day_dir(p)
    issues = _read_csv(_ensure(folder / "validation_issues.csv", validate_daily, _only(p, MD_VALIDATE_PARAMS), ctx))
    raw = _read_csv(folder / "prices_raw.csv")
    valid = _read_csv(folder / "prices_valid.csv")
    calendar = sorted({r["date"].strip() for r in raw})
    symbols = sorted({r["symbol"].strip().upper() for r in raw})
    report: dict[str, Any] = {"trade_date": p["trade_date"].isoformat(), "trading_days": len(calendar), "symbols": {}}
    for symbol in symbols:
        days = {r["date"] for r in valid if r["symbol"] == symbol}
        mine = [i for i in issues if i["symbol"].strip().upper() == symbol]
        report["symbols"][symbol] = {
            "valid_bars": len(days),
            "completeness_pct": _pct(len(days), len(calendar)),
            "has_trade_date_bar": p["trade_date"].isoformat() in days,
            "issues": dict(Counter(i["check"] for i in mine)),
        }
    path = folder / "quality_report.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    worst = min(symbols, key=lambda s: (report["symbols"][s]["completeness_pct"], s)) if symbols else None
    return {
        "symbols": len(symbols),
        "issues": len(issues),
        "least_complete": worst,
        "least_complete_pct": report["symbols"][worst]["completeness_pct"] if worst else None,
        "path": str(path),
    }


# The translated public examples (dbt jaffle_shop, Airflow tutorial, Kedro spaceflights).
from examples import public_pipelines as _public_pipelines  # noqa: E402,F401
