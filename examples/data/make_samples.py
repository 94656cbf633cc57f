"""Regenerate the sample CSVs in this folder (deterministic; stdlib only).

    python3 examples/data/make_samples.py

The numbers are synthetic. They are *shaped* like the real thing (FINRA OTC Transparency
weekly ATS summaries; end-of-day OHLCV bars) but are not real market data. A few rows are
deliberately messy so that the normalize / validate steps have something to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240105

# -- FINRA OTC Transparency: weekly ATS volume by tier, symbol and venue (MPID) ----------

WEEKS = [dt.date(2023, 12, 1) + dt.timedelta(weeks=i) for i in range(6)]  # Fridays … 2024-01-05
TIERS = {
    # tier: (symbols with a base weekly share volume, venues with a relative weight)
    "NMS_TIER_1": (
        {"AAPL": 9_500_000, "MSFT": 6_200_000, "NVDA": 11_800_000, "AMZN": 7_400_000, "TSLA": 14_100_000},
        {"UBSA": 0.32, "JPMX": 0.24, "MSPL": 0.18, "SGMT": 0.26},
    ),
    "NMS_TIER_2": (
        {"CAKE": 310_000, "BLMN": 420_000, "ACHC": 260_000},
        {"UBSA": 0.45, "IATS": 0.30, "JPMX": 0.25},
    ),
    "OTCE": (
        {"TCEHY": 1_150_000, "NSRGY": 240_000, "RHHBY": 380_000},
        {"NITE": 0.55, "CDEL": 0.45},
    ),
}
AVG_TRADE_SIZE = {"NMS_TIER_1": 180, "NMS_TIER_2": 140, "OTCE": 420}


def finra_rows(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    for week in WEEKS:
        seasonal = 0.55 if week == dt.date(2023, 12, 29) else 1.0  # the holiday week is quiet
        for tier, (symbols, venues) in TIERS.items():
            for symbol, base in symbols.items():
                for venue, weight in venues.items():
                    noise = 0.75 + 0.5 * rng.random()
                    shares = int(base * weight * noise * seasonal)
                    trades = max(1, int(shares / (AVG_TRADE_SIZE[tier] * (0.8 + 0.4 * rng.random()))))
                    rows.append([week.isoformat(), tier, symbol, venue, str(shares), str(trades)])
    # The mess real feeds have, so that normalize_week does real work:
    rows[3][2] = f" {rows[3][2].lower()} "                   # padded, lower-case symbol
    rows[7][3] = rows[7][3].lower()                          # lower-case MPID
    rows[12][4] = f"{int(rows[12][4]):,}"                    # thousands separators
    rows[40][4] = f"{int(rows[40][4]):,}"
    rows.append(list(rows[50]))                              # an exact duplicate row
    bad = list(rows[60]); bad[3] = ""; rows.append(bad)      # a row without a venue
    zero = list(rows[70]); zero[3] = "XXXX"; zero[4] = "0"; zero[5] = "0"; rows.append(zero)  # an empty line item
    return rows


# -- daily prices: OHLCV bars, a random walk per symbol ----------------------------------

HOLIDAYS = {dt.date(2023, 11, 23), dt.date(2023, 12, 25), dt.date(2024, 1, 1)}
START, END = dt.date(2023, 11, 20), dt.date(2024, 1, 5)
PRICES = {"AAPL": 190.0, "MSFT": 375.0, "NVDA": 490.0, "SPY": 455.0, "ACME": 96.0}
VOLUMES = {"AAPL": 52_000_000, "MSFT": 24_000_000, "NVDA": 41_000_000, "SPY": 78_000_000, "ACME": 1_900_000}
#: ACME is a fictional company; its 3-for-1 split is fictional too.
SPLITS = [("2023-12-18", "ACME", 3.0)]


def trading_days() -> list[dt.date]:
    days, d = [], START
    while d <= END:
        if d.weekday() < 5 and d not in HOLIDAYS:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def price_rows(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    split_day = {sym: dt.date.fromisoformat(day) for day, sym, _ in SPLITS}
    split_ratio = {sym: ratio for _, sym, ratio in SPLITS}
    for symbol, price in PRICES.items():
        close = price
        for day in trading_days():
            if symbol in split_day and day == split_day[symbol]:
                close /= split_ratio[symbol]  # the raw (unadjusted) series jumps at the split
            open_ = close * (1 + 0.006 * (rng.random() - 0.5))
            close = open_ * math.exp(0.018 * (rng.random() - 0.5) * 2)
            high = max(open_, close) * (1 + 0.008 * rng.random())
            low = min(open_, close) * (1 - 0.008 * rng.random())
            volume = int(VOLUMES[symbol] * (0.6 + 0.8 * rng.random()))
            if symbol in split_day and day >= split_day[symbol]:
                volume = int(volume * split_ratio[symbol])
            rows.append([day.isoformat(), symbol, f"{open_:.2f}", f"{high:.2f}", f"{low:.2f}", f"{close:.2f}", str(volume)])
    # Bad rows for validate_daily to catch:
    rows.append(list(rows[10]))                                   # a duplicate (date, symbol)
    i = 40; rows[i][3], rows[i][4] = rows[i][4], rows[i][3]       # high and low swapped
    rows[75][6] = "-100"                                          # a negative volume
    rows[101][5] = ""                                             # a missing close
    return rows


def main() -> None:
    rng = random.Random(SEED)
    with open(HERE / "finra_otc_weekly.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["week_ending", "tier", "symbol", "venue", "shares", "trades"])
        w.writerows(finra_rows(rng))
    with open(HERE / "daily_prices.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "symbol", "open", "high", "low", "close", "volume"])
        w.writerows(price_rows(rng))
    with open(HERE / "splits.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "symbol", "ratio"])
        w.writerows([[d, s, f"{r:g}"] for d, s, r in SPLITS])


if __name__ == "__main__":
    main()
