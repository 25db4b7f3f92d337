"""The summary stage for logs too large for one machine: see docs/lake.md.

`python -m dashboard summarize` reads raw logs on DuckDB, Spark or a warehouse (through Ibis),
computes the summaries there (definitions.py) and loads only them into the dashboard's DuckDB.
"""
