"""The sandboxed side of the pipeline.

This package is self-contained (stdlib + numpy, torch only if the student uses it): the grader copies it
into the sandbox's runtime folder and runs it there. It must never import anything else from `grader`.
"""
