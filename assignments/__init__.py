"""Assignment definitions: one package per assignment (statement, tasks, probes, checks)."""
