"""report.html's "What the class got wrong" (grader/instructor/batch/analytics.py), as pure functions:
which failure messages group together once normalised, the shares per check and status, the order
of checks and of groups, the example link, the cap on groups, and the escaping of student text.

The section on a class graded for real, its figures against the gradebook and the page in headless
Chromium: tests/test_batch_analytics.py.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from grader.instructor.batch.analytics import (MAX_GROUPS, analytics_section, class_analytics, feedback_link,
                                               normalise, worst_first)

# real messages of the backprop checks (tests/batch_class.py's wrong submissions graded), two students each
VALUES_A = ("softmax(o) for o of shape (4, 6): 24 of 24 entries wrong; worst at index [3, 3]: expected 0.057118922, "
            "got 0.79959331 (abs error 7.42e-01, rel error 1.30e+01; allowed |got − expected| ≤ 1e-06 + 0.0001·|expected|)")
VALUES_B = ("softmax(o) for o of shape (4, 6): 6 of 24 entries wrong; worst at index [0, 5]: expected 0.2, "
            "got 0.1 (abs error 1.00e-01, rel error inf; allowed |got − expected| ≤ 1e-06 + 0.0001·|expected|)")
RAISED = ('softmax.py: softmax(): raised ValueError\n  File "softmax.py", line {line}, in softmax\n'
          "    {code}\nValueError: operands could not be broadcast together with shapes {shapes}")

# (first, second): must be in one group
SAME = [
    ("max abs error 0.0312 at [2, 5]", "max abs error 1.7e-3 at [0, 1]"),
    (VALUES_A, VALUES_B),
    ("softmax(o) with logits ±1e4: contains nan at index [0, 0] (overflow or division by zero?)",
     "softmax(o) with logits ±1e4: contains inf at index [1, 2, 0] (overflow or division by zero?)"),
    # a traceback: the student's line number and source line differ, the exception is the same
    (RAISED.format(line=35, code="return e / np.sum(e, axis=-1)", shapes="(4,6) (4,)"),
     RAISED.format(line=41, code="out = e / e.sum(axis=1)", shapes="(4,6) (4,)")),
    ('softmax.py: softmax(): raised NameError\n  File "softmax.py", line 35, in softmax\n'
     "    return e / np.sum(ee, axis=-1, keepdims=True)\nNameError: name 'ee' is not defined",
     "softmax.py: softmax(): raised NameError\nTraceback (most recent call last):\n"
     '  File "/tmp/grade-7f2a/alice/softmax.py", line 12, in softmax\n    y = exps / totl\n'
     "        ^^^^\nNameError: name 'totl' is not defined"),
    ("module 'numpy' has no attribute 'sofmax'", "module 'numpy' has no attribute \"softmx\""),
    ("<function softmax at 0x7f3a2b1c0d90> is not an array", "<function softmax at 0x55d0e1a2> is not an array"),
    ("cannot open /tmp/grade-x1/alice/data.npy", "cannot open /home/bob/hw1/data.npy"),
    (r"cannot open C:\Users\alice\hw\data.npy", "cannot open ./bob/data.npy"),
    ("expected [0.1 0.2], got [[0.5 0.5]\n [0.  1. ]]", "expected [1.5 nan], got [[1e-3 2]\n [3 4]\n [5 6]]"),
    ("got tensor([[ 1.0000e+00, -2.3e-01]], dtype=torch.float64)", "got tensor([[0.5, 0.5, 0.]], dtype=torch.float64)"),
    ("got array([1., 2., 3.])", "got array([ 0.25, -1.  ,  ...,  7.  ])"),
    ("loss 2.31 after 3 epochs (learning rate 0.1)", "loss nan after 10 epochs (learning rate 1)"),
    ("-0.5 is negative", "+3 is negative"),
    ("did not finish within the time limit of 10 s", "did not finish within the time limit of 2.5 s"),
]

# (first, second): must stay apart
DIFFERENT = [
    # shapes are kept: they are the mistake
    (RAISED.format(line=35, code="x", shapes="(4,6) (4,)"), RAISED.format(line=35, code="x", shapes="(4,6) (6,)")),
    ("expected shape (4, 6), got (6, 4)", "expected shape (4, 6), got (4,)"),
    ("returned an array of shape [4, 6]", "returned an array of shape [24]"),
    ("got torch.Size([4, 6])", "got torch.Size([4])"),
    # the function, the exception, the kind of failure
    ("cross_entropy(o, t): 1 of 1 entries wrong", "cross_entropy_grad(o, t): 1 of 1 entries wrong"),
    ("softmax.py: softmax(): raised ValueError\nValueError: x", "softmax.py: softmax(): raised TypeError\nTypeError: x"),
    ("softmax.py: softmax(): not implemented yet", VALUES_A),
    ("softmax.py: softmax(): not implemented yet", "softmax.py: softmax_jacobian(): not implemented yet"),
    # digits inside names are names
    ("returned dtype float32", "returned dtype float64"),
    ("uses math.log10", "uses math.log2"),
    # quoted text with spaces is the sentence, not a name
    ("ValueError: 'the shapes do not match'", "ValueError: 'bad input given'"),
    ("a", "b"),
]


@pytest.mark.parametrize("a, b", SAME)
def test_messages_that_must_group(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_messages_that_must_not_group(a, b):
    assert normalise(a) != normalise(b)


@pytest.mark.parametrize("message, normalised", [
    ("max abs error 0.0312 at [2, 5]", "max abs error <n> at […]"),
    (RAISED.format(line=35, code="return e / np.sum(e, axis=-1)", shapes="(4,6) (4,)"),
     "softmax.py: softmax(): raised ValueError: operands could not be broadcast together with shapes (4,6) (4,)"),
    ("name 'ee' is not defined", "name '…' is not defined"),
    ("in /tmp/grade-x1/alice/softmax.py", "in …/softmax.py"),
    ("<object at 0xdeadbeef>", "<object at 0x…>"),
    ("got 5.", "got <n>."),  # a sentence's full stop stays
    ("version 1.2.3, float32, o[0]", "version 1.2.3, float32, o[…]"),
    ("rows scaled 1e-3, 1, 1e3 (+1e4)", "rows scaled <n>, <n>, <n> (<n>)"),
    ("  two\n\n  lines\t", "two lines"),
    ("", "(no message)"),
    ("\x1b[31mred\x1b[0m 3", "red <n>"),  # terminal colours are not part of the message
])
def test_normalised_text(message, normalised):
    assert normalise(message) == normalised


# ------------------------------------------------------------------------------ a synthetic class
def sub(student, status="graded"):
    return {"student": student, "status": status}


def row(student, check_id, status, message="", position=0, title=None, visibility="public"):
    return {"student": student, "check_id": check_id, "status": status, "message": message, "position": position,
            "title": title or f"the {check_id} check", "visibility": visibility}


ORDER = [("t.first", 2.0), ("t.mixed", 3.0), ("t.crash", 1.0), ("t.hidden", 1.0)]


@pytest.fixture
def klass():
    """Ten graded students and one whose grading crashed (its stray rows must count nowhere).

    t.first: everybody passed; t.mixed: 6 share one mistake (numbers differ), 2 another, 1 error,
    1 passed; t.crash: everybody errored; t.hidden: a hidden check 3 of 10 failed.
    """
    students = [f"s{i:02d}" for i in range(10)]
    subs = [sub(s) for s in students] + [sub("crashed", "error")]
    rows = [row(s, "t.first", "passed", position=0) for s in students]
    for i, s in enumerate(students):
        if i < 6:
            rows.append(row(s, "t.mixed", "failed", f"max abs error {0.01 * (i + 1):g} at [{i}, {9 - i}]", 1))
        elif i < 8:
            rows.append(row(s, "t.mixed", "failed", "softmax.py: softmax(): not implemented yet", 1))
        elif i == 8:
            rows.append(row(s, "t.mixed", "error", "softmax.py: softmax(): raised ZeroDivisionError", 1))
        else:
            rows.append(row(s, "t.mixed", "passed", "", 1))
        rows.append(row(s, "t.crash", "error", f"worker died with code -{i + 1} while running this check", 2))
        rows.append(row(s, "t.hidden", "failed" if i % 3 == 0 and i < 9 else "passed",
                        "hidden: wrong at [1]" if i % 3 == 0 else "", 3, visibility="hidden"))
    rows.append(row("crashed", "t.mixed", "failed", "this must not count", 1))
    return subs, rows


def test_counts_shares_and_groups(klass):
    stats = {s.check_id: s for s in class_analytics(*klass, ORDER)}
    assert list(stats) == [cid for cid, _ in ORDER]  # the assignment's order
    mixed = stats["t.mixed"]
    assert mixed.total == 10  # the crashed submission's row is left out
    assert mixed.counts == {"failed": 8, "error": 1, "passed": 1}
    assert mixed.share("failed") == pytest.approx(0.8) and mixed.share("timeout") == 0
    assert [(g.status, g.pattern, g.count) for g in mixed.groups] == [
        ("failed", "max abs error <n> at […]", 6),
        ("failed", "softmax.py: softmax(): not implemented yet", 2),
        ("error", "softmax.py: softmax(): raised ZeroDivisionError", 1)]
    top = mixed.groups[0]
    assert top.share == pytest.approx(0.6) and top.students == [f"s{i:02d}" for i in range(6)]
    assert top.example_student == "s00" and top.example == "max abs error 0.01 at [0, 9]"  # the real text
    assert stats["t.first"].counts == {"passed": 10} and stats["t.first"].groups == []
    crash = stats["t.crash"]
    assert crash.counts == {"error": 10} and crash.share("error") == 1.0
    assert [(g.pattern, g.count) for g in crash.groups] == [("worker died with code <n> while running this check", 10)]
    assert stats["t.hidden"].hidden and not stats["t.mixed"].hidden


def test_worst_checks_first(klass):
    stats = class_analytics(*klass, ORDER)
    assert [s.check_id for s in worst_first(stats)] == ["t.crash", "t.mixed", "t.hidden", "t.first"]


def test_other_statuses_are_their_own_categories():
    subs = [sub(s) for s in "abcdef"]
    rows = [row("a", "c", "timeout", "did not finish within the time limit of 10 s"),
            row("b", "c", "out_of_memory", "out of memory (limit 2048 MiB) while running this check"),
            row("c", "c", "out_of_disk", "out of disk while running this check"),
            row("d", "c", "missing", "softmax.py has no function softmax"),
            row("e", "c", "weird_new_status", "?"),
            row("f", "c", "passed")]
    s = class_analytics(subs, rows)[0]
    assert s.counts == {"timeout": 1, "resources": 2, "missing": 1, "other": 1, "passed": 1}
    assert {g.status for g in s.groups} == {"timeout", "out_of_memory", "out_of_disk", "missing", "weird_new_status"}
    html = "\n".join(analytics_section(subs, rows, []))
    assert "timed out 1 (17%)" in html and "out of memory or disk 2 (33%)" in html and "missing 1 (17%)" in html


def test_same_message_with_another_status_is_another_group():
    subs = [sub("a"), sub("b")]
    rows = [row("a", "c", "failed", "softmax.py: boom"), row("b", "c", "error", "softmax.py: boom")]
    assert [(g.status, g.count) for g in class_analytics(subs, rows)[0].groups] == [("failed", 1), ("error", 1)]


# ------------------------------------------------------------------------------ the HTML
class Balanced(HTMLParser):
    VOID = {"br", "col", "img", "meta", "hr", "input"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def section(subs, rows, order=ORDER, **kw) -> str:
    html = "\n".join(analytics_section(subs, rows, order, **kw))
    p = Balanced()
    p.feed(html)
    assert p.ok and not p.stack, "the section's tags must balance"
    return html


def test_section_numbers_order_and_links(klass):
    html = section(*klass)
    assert html.startswith("<h2 id='analytics'>What the class got wrong</h2>")
    assert "the 10 graded submissions (1 not graded: no check results, in no share)" in html
    # rows worst first; the check everybody passed is one line at the end
    assert re.findall(r"<tr id='analytics-([^']+)'>", html) == ["t.crash", "t.mixed", "t.hidden"]
    assert re.search(r"id='analytics-all-passed'>Passed by every graded submission \(1\): <code>t\.first</code>", html)
    mixed = re.search(r"<tr id='analytics-t.mixed'>.*?</tr>", html, re.S).group(0)
    assert "passed 1 (10%) · failed 8 (80%) · error 1 (10%)" in mixed
    assert "style='width:80.00%'" in mixed and "style='width:10.00%'" in mixed
    assert re.findall(r"<li><b>(\d+)</b> \((\d+%)\)", mixed) == [("6", "60%"), ("2", "20%"), ("1", "10%")]
    assert "<span class='an-pattern'>max abs error &lt;n&gt; at […]</span>" in mixed
    assert '<a href="reports/s00/report.html#check-t.mixed">s00</a>' in mixed  # the example's feedback, at the check
    assert "<pre>max abs error 0.01 at [0, 9]</pre>" in mixed  # their own message, one click away
    assert "#2 · 10 graded" in mixed  # its place in the assignment
    crash = re.search(r"<tr id='analytics-t.crash'>.*?</tr>", html, re.S).group(0)
    assert "error 10 (100%)" in crash and "style='width:100.00%'" in crash and "passed" not in crash
    assert "<span class='an-tag'>hidden</span>" in re.search(r"<tr id='analytics-t.hidden'>.*?</tr>", html, re.S).group(0)
    # at a glance: the largest groups of the class
    glance = re.search(r"<ul id='analytics-glance'>(.*?)</ul>", html, re.S).group(1)
    assert re.findall(r"<li><b>(\d+%)</b> of the class \((\d+) of (\d+)\) · the (\S+) check", glance) == [
        ("100%", "10", "10", "t.crash"), ("60%", "6", "10", "t.mixed"), ("30%", "3", "10", "t.hidden")]
    assert "<script" not in html


def test_groups_are_capped_with_the_rest_counted():
    subs = [sub(f"s{i}") for i in range(12)]
    rows = [row(f"s{i}", "c", "failed", f"mistake number{i % 8}") for i in range(12)]  # 8 distinct names
    stats = class_analytics(subs, rows)[0]
    assert len(stats.groups) == 8 and [g.count for g in stats.groups] == [2, 2, 2, 2, 1, 1, 1, 1]
    html = section(subs, rows, [])
    table = html[html.index("<table"):]
    assert table.count("<li><b>") == MAX_GROUPS
    assert "and 3 other messages (3 students)" in table
    assert "and 1 other message (1 student)</li>" in section(subs, rows, [], max_groups=7)


def test_student_text_is_escaped():
    evil = "o'brien\"<b>x"
    subs = [sub(evil), sub("alice")]
    message = "</pre><script>alert(\"x\")</script><img src=x onerror=alert(1)> at 'here'"
    rows = [row(evil, "c<i>", "failed", message, title="<u>title</u>"), row("alice", "c<i>", "passed")]
    html = section(subs, rows, [])
    assert "<script" not in html and "<img" not in html and "<u>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # the example, as text
    assert "&lt;u&gt;title&lt;/u&gt;" in html and "c&lt;i&gt;" in html
    # the link's target is percent-encoded, its text escaped
    assert '<a href="reports/o%27brien%22%3Cb%3Ex/report.html#check-c_i_">o&#x27;brien&quot;&lt;b&gt;x</a>' in html
    assert feedback_link("a b/c", "x.y") == "reports/a%20b%2Fc/report.html#check-x.y"


def test_a_class_where_nobody_failed():
    subs = [sub("a"), sub("b")]
    rows = [row(s, cid, "passed") for s in "ab" for cid in ("c1", "c2")]
    html = section(subs, rows, [("c1", 1), ("c2", 1)])
    assert "analytics-checks" not in html and "analytics-glance" not in html
    assert "Passed by every graded submission (2): <code>c1</code>, <code>c2</code>." in html


def test_a_class_where_everyone_errored():
    subs = [sub("a"), sub("b"), sub("c")]
    rows = [row(s, cid, "error", f"softmax.py: import failed at line {i}") for i, s in enumerate("abc")
            for cid in ("c1", "c2")]
    stats = class_analytics(subs, rows, [("c1", 1), ("c2", 1)])
    assert [(s.check_id, s.counts, [g.count for g in s.groups]) for s in stats] == [
        ("c1", {"error": 3}, [3]), ("c2", {"error": 3}, [3])]
    html = section(subs, rows, [("c1", 1), ("c2", 1)])
    assert re.findall(r"<tr id='analytics-([^']+)'>", html) == ["c1", "c2"]  # a tie: the assignment's order
    assert html.count("error 3 (100%)") == 2 and "analytics-all-passed" not in html


def test_no_graded_submission():
    html = section([sub("a", "rejected")], [], [])
    assert "id='analytics-none'" in html


def test_long_and_deeply_nested_messages_stay_bounded():
    # only the first 2,000 characters are compared: what follows is one student's text
    assert normalise("x" * 2000 + " first") == normalise("x" * 2000 + " second")
    assert normalise("x" * 1990 + " first") != normalise("x" * 1990 + " second")
    assert normalise("[[[1, 2], [3, 4]]]") == "[…]"
    deep = normalise("[" * 900 + "1" + "]" * 900)  # collapsed 8 levels deep, not in 900 passes
    assert deep == "[" * 892 + "[…]" + "]" * 892


def test_long_messages_are_cut_on_the_page_not_in_the_example_link():
    subs = [sub("a"), sub("b")]
    message = "wrong value " + " and ".join(f"word{i}" for i in range(600))  # ~6,000 characters
    rows = [row("a", "c", "failed", message), row("b", "c", "passed")]
    html = section(subs, rows, [])
    shown = re.search(r"<table.*<span class='an-pattern'>([^<]*)</span>", html, re.S).group(1)
    assert len(shown) == 130 and shown.endswith("…") and shown.startswith("wrong value word0 and word1")
    example = re.search(r"<pre>([^<]*)</pre>", html).group(1)
    assert len(example) == 2000 and example.endswith("…")
    assert '<a href="reports/a/report.html#check-c">a</a>' in html  # the whole message is in their feedback
