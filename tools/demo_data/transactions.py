#!/usr/bin/python3
"""Card transactions with a spending category: the demo's training data (docs/training-data.md).

Writes a CSV with a header: 64 numeric feature columns, as a card issuer's feature pipeline
would compute them for one transaction, and `category`, the class to learn (0-9, CATEGORIES).
Each category has its own habits (amounts, hours, weekdays, channels, merchants, countries);
they overlap, merchants are shared between categories, and some labels are wrong, as in real
data, so a model learns it well but not perfectly. Deterministic: the same --seed and --rows
give the same bytes. Standard library only.

    /usr/bin/python3 tools/demo_data/transactions.py --out transactions.csv
    /usr/bin/python3 tools/demo_data/transactions.py --rows 1000 --seed 7 > small.csv
"""

import argparse
import math
import random
import sys

CATEGORIES = [
    "groceries", "dining", "transport", "travel", "utilities",
    "entertainment", "health", "shopping", "cash", "subscriptions",
]

MERCHANT_GROUPS = [
    "supermarket", "restaurant", "fast_food", "fuel", "transit", "airline_hotel",
    "telecom_energy", "streaming_media", "pharmacy_clinic", "retail", "electronics", "atm",
]
CHANNELS = ["card_present", "contactless", "online", "atm"]
CURRENCIES = ["local", "eur", "usd"]
EMBEDDING_DIMS = 16
MERCHANTS_PER_GROUP = 40

# Per category: (share of transactions, log-amount mean and spread, peak hours, weekday weights
# Mon..Sun, merchant groups with weights, channel weights, chance abroad, chance recurring).
HABITS = {
    "groceries": (0.20, 3.6, 0.6, [10, 18], [1, 1, 1, 1, 1.3, 1.8, 1.2],
                  {"supermarket": 6, "retail": 2, "pharmacy_clinic": 1, "fast_food": 1},
                  [5, 4, 1, 0], 0.02, 0.0),
    "dining": (0.15, 3.2, 0.7, [12.5, 19.5], [0.8, 0.8, 0.9, 1, 1.4, 1.6, 1.2],
               {"restaurant": 5, "fast_food": 4, "supermarket": 1}, [3, 5, 2, 0], 0.06, 0.0),
    "transport": (0.12, 2.6, 0.8, [8, 17.5], [1.3, 1.3, 1.3, 1.3, 1.2, 0.6, 0.5],
                  {"transit": 5, "fuel": 4, "supermarket": 1}, [3, 5, 2, 0], 0.04, 0.1),
    "travel": (0.05, 5.8, 0.9, [14], [1, 1, 1, 1.1, 1.4, 1.2, 1],
               {"airline_hotel": 5, "restaurant": 2, "transit": 2, "retail": 1}, [2, 1, 7, 0], 0.45,
               0.0),
    "utilities": (0.07, 4.3, 0.5, [9], [1.2, 1.2, 1.1, 1.1, 1, 0.4, 0.3],
                  {"telecom_energy": 8, "streaming_media": 1, "retail": 1}, [0, 0, 10, 0], 0.01, 0.85),
    "entertainment": (0.08, 3.5, 0.8, [20.5], [0.6, 0.6, 0.8, 0.9, 1.5, 1.8, 1.3],
                      {"streaming_media": 4, "restaurant": 2, "retail": 2, "electronics": 2},
                      [3, 3, 4, 0], 0.05, 0.1),
    "health": (0.06, 3.9, 0.9, [11, 16], [1.2, 1.2, 1.2, 1.2, 1.1, 0.6, 0.3],
               {"pharmacy_clinic": 6, "supermarket": 2, "retail": 2}, [5, 3, 2, 0], 0.02, 0.05),
    "shopping": (0.15, 4.1, 1.0, [15, 20], [0.8, 0.8, 0.8, 0.9, 1.1, 1.8, 1.4],
                 {"retail": 5, "electronics": 3, "supermarket": 2}, [4, 2, 4, 0], 0.08, 0.0),
    "cash": (0.05, 4.6, 0.6, [12, 18], [1, 1, 1, 1, 1.5, 1.4, 0.8],
             {"atm": 9, "retail": 1}, [0, 0, 0, 1], 0.05, 0.0),
    "subscriptions": (0.07, 2.5, 0.6, [3], [1, 1, 1, 1, 1, 1, 1],
                      {"streaming_media": 6, "telecom_energy": 3, "electronics": 1},
                      [0, 0, 1, 0], 0.15, 0.95),
}

# Share of labels that are wrong, as when a merchant is coded into the wrong category.
LABEL_NOISE = 0.04

COLUMNS = (
    ["amount", "log_amount", "hour_sin", "hour_cos", "day_of_month_sin", "day_of_month_cos",
     "month_sin", "month_cos"]
    + ["weekday_" + d for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    + ["is_weekend"]
    + ["merchant_" + g for g in MERCHANT_GROUPS]
    + ["merchant_emb_%02d" % i for i in range(EMBEDDING_DIMS)]
    + ["channel_" + c for c in CHANNELS]
    + ["currency_" + c for c in CURRENCIES]
    + ["country_risk", "is_foreign", "log_distance_from_home_km", "is_recurring",
       "log_account_age_days", "log_avg_amount_30d", "amount_vs_avg_30d", "txn_count_7d",
       "log_hours_since_last_txn", "log_merchant_tenure_days", "customer_merchant_visits",
       "tip_ratio", "is_credit_card"]
)
assert len(COLUMNS) == 64, len(COLUMNS)


def weighted(rng, weights):
    total = sum(weights)
    x = rng.random() * total
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def one_hot(index, size):
    return [1 if i == index else 0 for i in range(size)]


def cyclic(value, period):
    angle = 2 * math.pi * value / period
    return [math.sin(angle), math.cos(angle)]


class Merchants:
    """Each merchant has an embedding near its group's centre, as a learned merchant embedding
    would be (similar merchants close, groups overlapping), a tenure, and the category it mostly
    sells to: a merchant group serves several categories, its merchants one each, mostly."""

    def __init__(self, rng):
        centres = [[rng.gauss(0, 1) for _ in range(EMBEDDING_DIMS)] for _ in MERCHANT_GROUPS]
        self.embedding = {}
        self.tenure_days = {}
        self.weights = {}  # (category, group): each merchant's chance to be the one
        for g, centre in enumerate(centres):
            name = MERCHANT_GROUPS[g]
            users = [c for c in CATEGORIES if name in HABITS[c][5]]
            for m in range(MERCHANTS_PER_GROUP):
                self.embedding[g, m] = [c + rng.gauss(0, 0.9) for c in centre]
                self.tenure_days[g, m] = rng.lognormvariate(6.5, 1.0)
                affinity = users[weighted(rng, [HABITS[c][5][name] for c in users])]
                for c in users:
                    popularity = 1 / (m + 1) ** 0.7
                    weight = popularity * (6 if c == affinity else 1)
                    self.weights.setdefault((c, g), []).append(weight)

    def pick(self, rng, category, group):
        return group, weighted(rng, self.weights[category, group])


def transaction(rng, merchants, category):
    share, mu, sigma, peaks, weekdays, groups, channels, abroad, recurring = HABITS[category]
    group_names = list(groups)
    group = MERCHANT_GROUPS.index(group_names[weighted(rng, [groups[g] for g in group_names])])
    merchant = merchants.pick(rng, category, group)
    channel = weighted(rng, channels)
    is_recurring = 1 if rng.random() < recurring else 0
    foreign = 1 if rng.random() < abroad else 0

    amount = round(math.exp(rng.gauss(mu, sigma)), 2)
    hour = (rng.choice(peaks) + rng.gauss(0, 2.5)) % 24
    weekday = weighted(rng, weekdays)
    day = rng.randrange(1, 29) if not is_recurring else rng.choice([1, 1, 15, 28])
    month = rng.randrange(12)
    currency = 0 if not foreign else 1 + weighted(rng, [3, 2])
    country_risk = rng.betavariate(2, 8) + (0.35 * rng.random() if foreign else 0)
    distance = rng.lognormvariate(1.5, 1.0) * (60 if foreign else 1)
    if category == "travel":
        distance *= 8

    account_age = rng.lognormvariate(6.8, 0.9)
    avg_30d = math.exp(rng.gauss(3.7, 0.5))
    count_7d = min(int(rng.lognormvariate(2.3, 0.6)), 200)
    since_last = rng.expovariate(1 / (24 * 7 / max(count_7d, 1)))
    visits = int(rng.expovariate(1 / (25 if is_recurring else 4)))
    tip = rng.uniform(0.05, 0.2) if category == "dining" and rng.random() < 0.6 else 0.0
    credit = 1 if rng.random() < (0.7 if category in ("travel", "shopping") else 0.4) else 0

    row = [amount, math.log1p(amount)] + cyclic(hour, 24) + cyclic(day - 1, 31) + cyclic(month, 12)
    row += one_hot(weekday, 7) + [1 if weekday >= 5 else 0]
    row += one_hot(group, len(MERCHANT_GROUPS)) + merchants.embedding[merchant]
    row += one_hot(channel, len(CHANNELS)) + one_hot(currency, len(CURRENCIES))
    row += [country_risk, foreign, math.log1p(distance), is_recurring, math.log1p(account_age),
            math.log1p(avg_30d), amount / avg_30d, count_7d, math.log1p(since_last),
            math.log1p(merchants.tenure_days[merchant]), visits, tip, credit]
    return row


def text(value):
    if isinstance(value, int):
        return str(value)
    return "%.4g" % (0.0 if abs(value) < 1e-9 else value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000, help="transactions (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", help="the CSV file to write (default: standard output)")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    rng = random.Random(args.seed)
    merchants = Merchants(rng)
    shares = [HABITS[c][0] for c in CATEGORIES]
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    with out:
        out.write(",".join(COLUMNS + ["category"]) + "\n")
        for _ in range(args.rows):
            category = weighted(rng, shares)
            row = transaction(rng, merchants, CATEGORIES[category])
            if rng.random() < LABEL_NOISE:
                category = rng.randrange(len(CATEGORIES))
            out.write(",".join(text(v) for v in row) + "," + str(category) + "\n")


if __name__ == "__main__":
    main()
