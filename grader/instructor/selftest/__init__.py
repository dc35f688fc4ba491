"""`grade selftest ASSIGNMENT`: an assignment's checks proven on known and generated submissions.

cases.py   the assignment's registered wrong submissions and correct variants (`assignments/<a>/cases.py`)
mutate.py  automatic mutants of the reference's marked solution code (Python's `ast`)
run.py     grade them all in parallel (the batch's pool) and judge the checks
output.py  the terminal matrix and the JSON document
"""
from .cases import Cases, Variant, Wrong, load_cases
from .run import SelftestOptions, SelftestResult, selftest


__all__ = ["Cases", "Variant", "Wrong", "load_cases", "SelftestOptions", "SelftestResult", "selftest"]
