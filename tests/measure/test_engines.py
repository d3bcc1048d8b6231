"""The same location-quotient numbers on every engine, returned in the input's kind.

pandas is the oracle; polars (eager, lazy), pyarrow, a DuckDB relation, Parquet and CSV
paths (globs) and PySpark (marker ``spark``; local mode) must give identical tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from agglomera.errors import DataError
from agglomera.measure._engine import as_frame, collect_pandas, like_input, require_columns
from agglomera.measure.location_quotients import (
    average_lq,
    density_per_10k,
    hachman,
    location_quotient,
)

pl = pytest.importorskip("polars")

KEYS = ["city", "industry", "year"]
LONG = {"region": "city", "time": "year", "value": "employment", "industry": "industry"}


def microdata(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Firm rows in the ``firm_microdata`` schema (several rows per cell)."""
    rng = np.random.default_rng(seed)
    cities = [f"{330100 + 100 * i}" for i in range(12)]
    return pd.DataFrame(
        {
            "firm_id": np.arange(n, dtype=np.int64),
            "city": rng.choice(cities, n),
            "industry": rng.choice(list("CFIMQ"), n),
            "year": rng.choice([2017, 2018, 2019], n).astype(np.int16),
            "employment": rng.integers(0, 800, n).astype(np.int32),
        }
    )


def wide_panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    cities = [f"{440100 + 100 * i}" for i in range(8)]
    rows = [(c, y) for c in cities for y in (2018, 2019)]
    df = pd.DataFrame(rows, columns=["city", "year"])
    df["emp_it"] = rng.integers(10, 500, len(df))
    df["emp_sci"] = rng.integers(10, 500, len(df))
    df["emp_total"] = df["emp_it"] + df["emp_sci"] + rng.integers(1000, 9000, len(df))
    df["pop"] = rng.integers(1_000_000, 9_000_000, len(df))
    return df


def to_pandas(result: Any) -> pd.DataFrame:
    return collect_pandas(as_frame(result))


def same(result: Any, expected: pd.DataFrame, keys: list[str]) -> None:
    got = to_pandas(result)
    assert list(got.columns) == list(expected.columns)
    got = got.sort_values(keys).reset_index(drop=True)
    exp = expected.sort_values(keys).reset_index(drop=True)
    for key in keys:  # dtypes of keys differ between engines (str vs object, int16 vs int64)
        got[key] = got[key].astype(str)
        exp[key] = exp[key].astype(str)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False, rtol=1e-12, atol=0)


Maker = Callable[[pd.DataFrame, Path], Any]


def _parquet_glob(df: pd.DataFrame, tmp: Path) -> str:
    half = len(df) // 2
    df.iloc[:half].to_parquet(tmp / "part-0.parquet")
    df.iloc[half:].to_parquet(tmp / "part-1.parquet")
    return str(tmp / "part-*.parquet")


def _csv_path(df: pd.DataFrame, tmp: Path) -> Path:
    df.to_csv(tmp / "data.csv", index=False)
    return tmp / "data.csv"


ENGINES: dict[str, tuple[Maker, type | tuple[type, ...]]] = {
    "polars": (lambda df, _: pl.from_pandas(df), pl.DataFrame),
    "polars-lazy": (lambda df, _: pl.from_pandas(df).lazy(), pl.LazyFrame),
    "pyarrow": (lambda df, _: pa.Table.from_pandas(df, preserve_index=False), pa.Table),
    "duckdb": (lambda df, _: duckdb.from_arrow(pa.Table.from_pandas(df)), duckdb.DuckDBPyRelation),
    "parquet-glob": (_parquet_glob, pd.DataFrame),
    "csv-path": (_csv_path, pd.DataFrame),
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_long_microdata_lq_identical(engine: str, tmp_path: Path) -> None:
    df = microdata()
    expected = location_quotient(df, **LONG, keep_shares=True)
    make, kind = ENGINES[engine]
    result = location_quotient(make(df, tmp_path), **LONG, keep_shares=True)
    assert isinstance(result, kind)
    same(result, expected, KEYS)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_wide_talent_lq_average_lq_and_density_identical(engine: str, tmp_path: Path) -> None:
    df = wide_panel()
    make, kind = ENGINES[engine]
    data = make(df, tmp_path)
    wide = {"region": "city", "time": "year", "value": ["emp_it", "emp_sci"]}
    expected = location_quotient(df, **wide, total="emp_total")
    same(location_quotient(data, **wide, total="emp_total"), expected, ["city", "year"])

    dens = density_per_10k(data, ["emp_it", "emp_sci"], "pop", name="talent_per_10k")
    if engine == "polars-lazy":
        assert isinstance(dens, pl.LazyFrame)  # row-wise: stays lazy
    same(dens, density_per_10k(df, ["emp_it", "emp_sci"], "pop", name="talent_per_10k"),
         ["city", "year"])  # fmt: skip

    micro = microdata(seed=4)
    (tmp_path / "m").mkdir()  # files of the second data set go elsewhere
    mdata = make(micro, tmp_path / "m")
    same(average_lq(mdata, **LONG), average_lq(micro, **LONG), ["city", "year"])
    same(hachman(mdata, **LONG), hachman(micro, **LONG), ["city", "year"])
    assert isinstance(average_lq(mdata, **LONG), kind)


def test_reference_frame_of_another_engine(tmp_path: Path) -> None:
    df = microdata()
    national = (
        df.groupby(["industry", "year"], as_index=False)["employment"].sum().assign(total=10**6)
    )
    expected = location_quotient(df, **LONG, reference=national)
    got = location_quotient(
        duckdb.from_arrow(pa.Table.from_pandas(df)), **LONG, reference=pl.from_pandas(national)
    )
    same(got, expected, KEYS)


def test_bad_input_errors_are_the_same_on_lazy_engines(tmp_path: Path) -> None:
    df = microdata(200)
    df.loc[5, "employment"] = -3
    path = _parquet_glob(df, tmp_path)
    for data in (df, pl.from_pandas(df).lazy(), duckdb.from_arrow(pa.Table.from_pandas(df)), path):
        with pytest.raises(DataError, match=r"column 'employment' has 1 negative value.*-3"):
            location_quotient(data, **LONG)


def test_engine_layer_helpers(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    assert isinstance(like_input(df, pl.from_pandas(df).lazy()), pl.LazyFrame)
    assert isinstance(like_input(df, pa.table({"a": [1]})), pa.Table)
    assert isinstance(like_input(df, duckdb.sql("select 1 as a")), duckdb.DuckDBPyRelation)
    assert like_input(df, "x.parquet") is df
    with pytest.raises(DataError, match="no file matches"):
        as_frame(str(tmp_path / "nothing-*.parquet"))
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataError, match="cannot tell the file format"):
        as_frame(tmp_path / "x.json")
    with pytest.raises(DataError, match="must be a dataframe"):
        as_frame([1, 2, 3])
    with pytest.raises(DataError, match=r"'b' \(no similar column\)"):
        require_columns(as_frame(df), ["b"], "f")


# ----------------------------------------------------------------------------- Spark


def _spark_skip_reason() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'agglomera[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "Java is not available (install a JRE >= 17; see scripts/install-system-deps.sh)"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    reason = _spark_skip_reason()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("agglomera-tests")
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::FutureWarning")  # pyspark on pandas 3
def test_spark_identical(spark: Any) -> None:
    from pyspark.sql import DataFrame as SparkDataFrame

    df = microdata()
    sdf = spark.createDataFrame(pa.Table.from_pandas(df, preserve_index=False))
    result = location_quotient(sdf, **LONG, keep_shares=True)
    assert isinstance(result, SparkDataFrame)
    same(result, location_quotient(df, **LONG, keep_shares=True), KEYS)
    same(average_lq(sdf, **LONG), average_lq(df, **LONG), ["city", "year"])

    wide = wide_panel()
    swide = spark.createDataFrame(pa.Table.from_pandas(wide, preserve_index=False))
    kw = {"region": "city", "time": "year", "value": ["emp_it", "emp_sci"], "total": "emp_total"}
    same(location_quotient(swide, **kw), location_quotient(wide, **kw), ["city", "year"])
    dens = density_per_10k(swide, "emp_it", "pop")
    assert isinstance(dens, SparkDataFrame)
    same(dens, density_per_10k(wide, "emp_it", "pop"), ["city", "year"])

    bad = df.copy()
    bad.loc[0, "employment"] = -1
    sbad = spark.createDataFrame(pa.Table.from_pandas(bad, preserve_index=False))
    with pytest.raises(DataError, match=r"column 'employment' has 1 negative value"):
        location_quotient(sbad, **LONG)
