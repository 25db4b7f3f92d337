"""Reading the Vega-Lite charts a page drew in an AppTest run: spec and named datasets."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa


def charts(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """(spec, {dataset name: frame}) of every Vega-Lite chart drawn."""
    out = []
    for element in at.get("vega_lite_chart"):
        proto = element.proto
        data = {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in proto.datasets}
        out.append((json.loads(proto.spec), data))
    return out


def chart(at, title_prefix: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    return next(c for c in charts(at) if str(c[0].get("title", "")).startswith(title_prefix))
