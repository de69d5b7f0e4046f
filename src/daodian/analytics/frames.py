"""Engine output in one normal form (pandas), so that DuckDB's and Spark's answers compare equal."""

import numpy as np
import pandas as pd
import pyarrow as pa


def normalise(table: pa.Table) -> pd.DataFrame:
    """Engine output -> pandas with one type per kind of value, so both engines' results compare equal:
    every integer as nullable Int64, dates as datetime.date objects, text as str. Column by column in
    Arrow, not value by value in Python: a big merchant's cube (400k rows) took a second that way."""
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_decimal(kind):
            ints = column.cast(pa.int64())
            # np.array copies: Arrow's buffers are read-only, and callers may write to their frames
            columns[name] = pd.arrays.IntegerArray(np.array(ints.fill_null(0).to_numpy(), dtype=np.int64),
                                                   np.array(ints.is_null().to_numpy(), dtype=bool))
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            columns[name] = pd.Series(column.to_numpy(zero_copy_only=False), dtype=object)
        elif pa.types.is_date32(kind):
            columns[name] = pd.Series(column.to_pandas(date_as_object=True).to_numpy(), dtype=object)
        else:
            columns[name] = pd.Series(column.to_pylist(), dtype=object)
    return pd.DataFrame(columns)
