"""The UCI Online Retail file through `daodian import transactions`, the export and the DuckDB queries, checked
against an independent computation in plain pandas on the same lines.

To keep the suite fast the tests use a deterministic slice of the real file: every line of the customers
whose id is a multiple of SLICE, and the anonymous lines of invoices whose number is (the whole year, all
kinds of lines). The full file's figures come from a manual run (see the analytics note).
"""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from daodian.accounts.models import User
from daodian.analytics.engines import open_engine
from daodian.analytics.export import export_facts
from daodian.catalog.models import Product, Sku
from daodian.cli import app
from daodian.importers.online_retail import import_online_retail
from daodian.kit.settings import get_settings
from daodian.merchants.models import Merchant

# The shared data sets sit beside the repository (../shared), on a developer's machine and in CI alike.
SOURCE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "online_retail" / "online_retail.csv.gz"
SLICE = 8
AS_OF = date(2011, 12, 10)

pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason="the shared Online Retail file is not on this machine")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    frame = pd.read_csv(SOURCE, dtype=str, keep_default_na=False)
    customer = pd.to_numeric(frame["CustomerID"], errors="coerce")
    number = pd.to_numeric(frame["InvoiceNo"].str.lstrip("C"), errors="coerce")
    keep = (customer % SLICE == 0) | (customer.isna() & (number % SLICE == 0))
    return frame[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def slice_path(raw, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("online_retail") / "slice.csv.gz"
    raw.to_csv(path, index=False, compression="gzip")
    return path


@pytest.fixture(scope="module")
def reference(raw) -> dict:
    """Invoices and their lines as the importer's rules define them, computed without the importer."""
    f = raw[raw["InvoiceNo"].str.match(r"^C?\d{6}$") & (raw["StockCode"].str.strip() != "")].copy()
    f["qty"] = f["Quantity"].astype(float).astype(int)
    f["price"] = f["UnitPrice"].map(Decimal)
    f["cancel"] = f["InvoiceNo"].str.startswith("C")
    f = f[(f["price"] >= 0) & ((f["qty"] <= 0) == f["cancel"])]
    f["pence"] = [int((Decimal(abs(q)) * p * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                  for q, p in zip(f["qty"], f["price"])]
    f["at"] = pd.to_datetime(f["InvoiceDate"])
    f["customer"] = f["CustomerID"].map(lambda c: str(int(float(c))) if c else None)
    invoices = f.groupby("InvoiceNo").agg(at=("at", "min"), pence=("pence", "sum"), cancel=("cancel", "first"),
                                          customer=("customer", "first")).reset_index()
    invoices["day"] = invoices["at"].dt.date
    f["signed"] = f["pence"].where(~f["cancel"], -f["pence"])
    return {"lines": f, "invoices": invoices}


@pytest.fixture
def imported(db, session_factory, slice_path, tmp_path):
    report = import_online_retail(db, slice_path)
    facts_dir = tmp_path / "facts"
    export_facts(session_factory, facts_dir)
    merchant = db.scalar(select(Merchant).where(Merchant.external_ref == "online-retail"))
    engine = open_engine("duckdb", facts_dir)
    yield report, merchant, engine
    engine.close()


def test_totals_top_skus_and_months_match_pandas(imported, reference, db, raw):
    report, merchant, engine = imported
    lines, invoices = reference["lines"], reference["invoices"]
    assert report.lines == len(raw) and report.created == len(lines)
    assert report.created + len(report.rejected) == len(raw)

    overview = engine.run("merchant_overview").set_index("merchant_id").loc[merchant.id]
    sales, refunds = invoices.loc[~invoices["cancel"], "pence"].sum(), invoices.loc[invoices["cancel"], "pence"].sum()
    assert overview["currency"] == "GBP"
    assert overview["amount_fen"] == sales - refunds and sales > 10_000_000 and refunds > 0
    assert overview["purchases"] == (~invoices["cancel"]).sum()

    cube = engine.run("sales_cube", {"merchant_id": merchant.id})
    months = cube[(cube["family"] == "total") & (cube["level"] == "month")]
    got = {b.isoformat()[:7]: int(a) for b, a in zip(months["bucket"], months["amount_fen"])}
    by_month = lines.assign(month=lines["InvoiceNo"].map(invoices.set_index("InvoiceNo")["at"]).dt.strftime("%Y-%m"))
    want = {m: int(v) for m, v in by_month.groupby("month")["signed"].sum().items()}
    assert got == want and len(want) == 13  # 2010-12 .. 2011-12

    codes = dict(db.execute(select(Sku.id, Sku.code).join(Product, Product.id == Sku.product_id)
                            .where(Product.merchant_id == merchant.id)).all())
    items = cube[(cube["family"] == "item") & (cube["level"] == "all")]
    got_top = sorted(((int(a), codes[int(i)]) for a, i in zip(items["amount_fen"], items["item_id"])), reverse=True)
    net = lines.groupby("StockCode")["signed"].sum()
    want_top = sorted(((int(v), code) for code, v in net.items()), reverse=True)
    assert got_top[:20] == want_top[:20] and len(got_top) == len(want_top)


def _segments(invoices: pd.DataFrame) -> dict[str, tuple]:
    """RFM as analytics.rfm documents it, in pandas: customer -> (segment, recency, frequency, monetary)."""
    known = invoices[invoices["customer"].notna() & (invoices["day"] <= AS_OF)]
    out = {}
    for customer, group in known.groupby("customer"):
        bought = group[~group["cancel"]].sort_values(["day", "InvoiceNo"])
        if bought.empty:
            continue
        days = list(bought["day"])
        recency, tenure = (AS_OF - days[-1]).days, (AS_OF - days[0]).days
        gap = (days[-1] - days[-2]).days if len(days) > 1 else 0
        segment = ("new" if tenure < 30 else "won_back" if recency < 90 and gap >= 180 else
                   "active" if recency < 90 else "at_risk" if recency < 180 else "churned")
        monetary = int(bought["pence"].sum() - group.loc[group["cancel"], "pence"].sum())
        out[customer] = (segment, recency, len(days), monetary)
    return out


def test_rfm_segments_match_pandas(imported, reference, db):
    _, merchant, engine = imported
    scores = engine.run("rfm", {"merchant_id": merchant.id, "as_of": AS_OF})
    ids = [int(c) for c in scores["consumer_id"]]
    phones = dict(db.execute(select(User.id, User.phone).where(User.id.in_(ids))).all())
    got = {re.sub(r"^or-", "", phones[int(r.consumer_id)]): (r.segment, int(r.recency_days), int(r.frequency),
                                                               int(r.monetary_fen)) for r in scores.itertuples()}
    want = _segments(reference["invoices"])
    assert got == want
    assert {s for s, *_ in want.values()} == {"new", "won_back", "active", "at_risk", "churned"}
    assert set(scores["r_score"]) == set(scores["f_score"]) == {1, 2, 3, 4, 5}


def test_the_command_reads_the_file(slice_path, settings, monkeypatch):
    """`daodian import transactions PATH --format online-retail` (dry run: the test database stays clean)."""
    monkeypatch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["import", "transactions", str(slice_path), "--format", "online-retail",
                                     "--dry-run"])
        wrong = runner.invoke(app, ["import", "transactions", str(slice_path), "--format", "tsv"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps lines at the terminal's width
    assert "would import" in output and "(dry run, nothing written)" in output
    assert "not_a_sale" in output  # the file's stock corrections and adjustments are listed
    assert wrong.exit_code == 2 and "online-retail" in wrong.output
