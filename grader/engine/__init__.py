"""The engine, shipped to everyone: grade one submission (load → sandboxed worker → judge → Report).

    model       the dataclasses: Check, Limits, CheckResult, Report, Status
    assignment  an assignment's tasks and checks (assignments/<name>/)
    runner      select_checks, and grade: one session over the checks → the Report
    session     a grading session: snapshot, workers, imports, source, each check run into a result
    context     CheckContext (what a check's judge receives) and Audit
    statuses    reply kinds and exceptions → statuses and messages
    sandbox/    isolation and the worker process (one module per idea, see its docstring)
    fs          bounded copy, read and cleanup of untrusted trees
    judge       comparisons that fail a check with a precise message
    oracles     torch autograd in float64, central differences
    figures     plot data for the HTML report
    text        caps on student text

The data sets (FashionMNIST, the synthetic set) are grader/data.py, one level up: students import
`from grader.data import load_fashion_mnist` too.
"""
