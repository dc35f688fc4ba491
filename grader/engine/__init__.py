"""The engine, shipped to everyone: grade one submission (load → sandboxed worker → judge → Report).

    model       the dataclasses: Check, Limits, CheckResult, Report, Status
    assignment  an assignment's tasks and checks (assignments/<name>/)
    runner      a grading session: the worker, the checks, the Report
    sandbox     isolation and the worker process
    fs          bounded copy, read and cleanup of untrusted trees
    judge       comparisons that fail a check with a precise message
    oracles     torch autograd in float64, central differences
    figures     plot data for the HTML report
    text        caps on student text
    data        FashionMNIST and the synthetic data set
"""
