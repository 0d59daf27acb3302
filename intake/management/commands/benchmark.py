"""`python manage.py benchmark`: the pharmacy's hot paths timed at scale (the code is bench/benchmark.py)."""

from bench.benchmark import Command

__all__ = ["Command"]
