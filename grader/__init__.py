"""dl-grader: grading engine and `grade` CLI for deep-learning assignments."""
__version__ = "0.1.0"
# The one torch release the grader is tested with; the student template's requirements and
# workflows, the Gradescope setup and the student wheel read it here. pyproject.toml, .ci/run, the
# README and docs/ spell it out: tests/test_rules.py checks every spelling against this constant.
TORCH_VERSION = "2.13.0"
