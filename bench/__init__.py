"""Benchmarks, each run as a module from the repository's root: `python -m bench.<name>`
(webhooks, dispatch, stream, memory, languages; `make bench` runs them all). Each starts
what it needs through the launcher (bench/_stack.py), measures, prints a table and exits 0
when its targets are met, 1 when not. See docs/performance.md."""
