"""The benchmark harness of coop_app (`make bench`, `python -m benchmarks`); not part of
`make test`.

Every figure is a ratio against a baseline measured in the same run on the same machine
(QUALITY.md, "Performance"), printed beside the absolute numbers it comes from and saved as
JSON (BENCH_JSON, default benchmarks/last-run.json). Modules:

- `__main__`: the order of a run, the options, the exit status;
- `datasets`: the bench's own databases (SQLite files, or `coop_bench_*` databases on
  DATABASE_URL's PostgreSQL server), seeded with `flask seed-demo`, and the pages sampled;
- `servers`: gunicorn in its own process group, and logging in over HTTP;
- `hello`: the hello-world baseline app;
- `load`: wrk, its rotating Lua script, and reading its report;
- `pages`: page_ratio, p99_ms and history_growth_ratio;
- `posting`, `export`: worker processes for posting_ratio and export_ratio / peak RSS;
- `machine`, `report`: what the run ran on; targets, table and JSON.
"""
