"""dl-grader: grading engine and `grade` CLI for deep-learning assignments."""
__version__ = "0.1.0"
