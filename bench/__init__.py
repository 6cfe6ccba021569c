"""carpctl's benchmarks: `python -m bench [NAME ...]` runs bench/bench_NAME.py files."""
