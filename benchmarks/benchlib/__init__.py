"""Shared pieces of ``benchmarks/run.py`` and ``benchmarks/profile.py``.

- ``paths``: where the repository, the interpreter and the results live;
- ``procs``: child processes measured from outside (wall, CPU, peak RSS by wait4);
- ``sandbox``: the sandbox in a process of its own, started and stopped by PID;
- ``records``: generated customer records, their CSV and their API bodies;
- ``workers``: the client variants, each run in a fresh subprocess;
- ``loadgen`` / ``wrk``: the two load generators for the sandbox's own ceiling;
- ``report``: rows with targets, the rich table, the JSON and markdown files;
- ``machine``: what the numbers were measured on;
- ``benches``: benchmarks a-e, one module each.
"""
