"""Each platform's import rules, as written in the platform's own source or docs: the one place tests read them.

Every rule cites where it is written (repository path and the commit read, or the page). The parsers
below follow those rules (not our writer's), so a test that re-reads an export with them checks it
against the importer, not against itself.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Optional

CANVAS_COMMIT = "00b222d77ee43d046e6aee0347c4ed5b27e1741f"  # instructure/canvas-lms, lib/gradebook_importer.rb
CANVAS_EXPORTER_COMMIT = "0140a2effa6366ea3b73aeefa4bbc384b943934f"  # lib/gradebook_exporter.rb
CANVAS_SPEC_COMMIT = "023d890df898bd2b7b96134c2ae6ff32fe662bae"  # spec/lib/gradebook_importer_spec.rb (2012)
MOODLE_OFFLINE_COMMIT = "04975560d10b517e76e53b7936ca13ed7f3218be"  # mod/assign/feedback/offline/locallib.php
MOODLE_OFFLINE_LIB_COMMIT = "452e36fcf584677c104e53bc9998e8b53f7533e8"  # .../offline/importgradeslib.php
MOODLE_GRADEIMPORT_COMMIT = "0289d8c7665458f8ffc47e34527598e15523f104"  # grade/import/csv/classes/load_data.php
MOODLE_CSVLIB_COMMIT = "117bd7489701bcaaac1ea58d6a5389a327c7f79a"  # lib/csvlib.class.php


@dataclass(frozen=True)
class Rules:
    platform: str
    required_headers: tuple[str, ...]
    key: str
    points_row: Optional[str]
    blank: str
    maximum: str
    encoding: str
    sources: tuple[str, ...] = field(default_factory=tuple)


CANVAS = Rules(
    platform="Canvas",
    # row_has_student_headers?: row.length > 3 && row[0].include?("Student") && row[1].include?("ID");
    # update_column_count: "SIS User ID" then "SIS Login ID" at columns 2 and 3 are student columns;
    # GRADEBOOK_IMPORTER_RESERVED_NAMES holds "Section"
    required_headers=("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
    # process_student: student_id = row[1]; @all_students[student_id.to_i], then SIS User ID, SIS Login
    # ID, then the name. parse_assignments: Assignment.title_and_id(header) -> the id in parentheses
    key="ID column = Canvas user id; assignment = the id in parentheses of `<title> (<id>)`",
    # check_for_non_student_row: row[0]&.include?("Points Possible") -> process_pp (no student);
    # the exporter writes ["    Points Possible", nil, nil, nil, ...]; the spec "should include
    # assignments that changed only in points possible": the row's value becomes the assignment's points
    points_row="Points Possible",
    # no_change_to_value?: blank or "-" is no score; a blank over an existing score is not "no change",
    # so the export leaves such students out (or repeats Canvas's own value from --roster)
    blank="blank/'-' = no score; unchanged only where Canvas has none",
    maximum="none (points above Points Possible are extra credit)",
    # csv_stream: CSV.foreach(path, col_sep: ";" or ","), no encoding option: a BOM stays in the first
    # header cell, which the include?("Student") test tolerates; the exporter has an include_bom option
    encoding="UTF-8, BOM tolerated; ',' or ';' (identify_delimiter)",
    sources=(f"https://github.com/instructure/canvas-lms/blob/{CANVAS_COMMIT}/lib/gradebook_importer.rb",
             f"https://github.com/instructure/canvas-lms/blob/{CANVAS_EXPORTER_COMMIT}/lib/gradebook_exporter.rb",
             f"https://github.com/instructure/canvas-lms/blob/{CANVAS_SPEC_COMMIT}/spec/lib/gradebook_importer_spec.rb"),
)
# strip_non_assignment_columns: a header matching any of these (unanchored regex) is not an assignment
CANVAS_NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                         "Final Grade", "Override Score", "Override Grade", "Override Status")

MOODLE_WORKSHEET = Rules(
    platform="Moodle offline grading worksheet",
    # importgradeslib.php init(): the columns get_string('recordid','assign') = "Identifier", 'grade' =
    # "Grade", 'lastmodifiedgrade' = "Last modified (grade)" must all be found, else the import fails;
    # feedback columns by their description ("Feedback comments")
    required_headers=("Identifier", "Grade", "Last modified (grade)"),
    # next(): $id = substr($idstr, strlen(get_string('hiddenuser','assign'))) ('Participant '), then
    # get_user_id_for_uniqueid($id) (the number of the download's `_N_assignsubmission_` folder)
    key="Identifier 'Participant N'",
    points_row=None,
    # locallib.php process_import_grades: skip when grade is '' or < 0, unchanged, locked, or above the
    # assignment's grade; skip when Moodle's grade timemodified > strtotime(Last modified (grade)) + 60
    blank="blank Grade: row skipped (no change)",
    maximum="a grade above the assignment's maximum: that row skipped",
    # csvlib: csv_import_reader::load_csv_content converts from the chosen encoding, trim_utf8_bom()
    encoding="UTF-8 (chosen on upload), BOM trimmed; separator chosen on upload (comma)",
    sources=(f"https://github.com/moodle/moodle/blob/{MOODLE_OFFLINE_LIB_COMMIT}/mod/assign/feedback/offline/importgradeslib.php",
             f"https://github.com/moodle/moodle/blob/{MOODLE_OFFLINE_COMMIT}/mod/assign/feedback/offline/locallib.php",
             "mod/assign/lang/en/assign.php: recordid 'Identifier', hiddenuser 'Participant ', "
             "lastmodifiedgrade 'Last modified (grade)', maxgrade 'Maximum Grade'",
             f"https://github.com/moodle/moodle/blob/{MOODLE_CSVLIB_COMMIT}/lib/csvlib.class.php"),
)
MOODLE_PARTICIPANT = "Participant "

MOODLE_GRADEBOOK = Rules(
    platform="Moodle gradebook CSV import (grade/import/csv)",
    required_headers=("Email address",),  # any header; the instructor maps "Email address" to useremail
    # map_user_data_with_value: useremail -> $DB->get_record('user', ['email' => $value]); a value not
    # found: cleanup_import(usermappingerror); no user on a line: usermappingerrorusernotfound, abort
    key="email, exact (or ID number, username, user id)",
    points_row=None,
    # update_grade_item: '' or '-' -> null ("No grade")
    blank="'' or '-' = no grade (null): leave the row out to keep Moodle's grade",
    # insert_grade_record: finalgrade > $CFG->gradepointmax (100 unless unlimitedgrades) ->
    # cleanup_import(gradevaluetoobig): the whole import stops
    maximum="a value above the maximum grade aborts the whole import",
    encoding="UTF-8 (chosen on upload), BOM trimmed",
    sources=(f"https://github.com/moodle/moodle/blob/{MOODLE_GRADEIMPORT_COMMIT}/grade/import/csv/classes/load_data.php",),
)
MOODLE_GRADEPOINTMAX = 100

CLASSROOM = Rules(
    platform="GitHub Classroom grades",
    # ClassroomAssignmentGrade (github/rest-api-description, "Get assignment grades",
    # GET /assignments/{assignment_id}/grades), as generated in openapi-github 0.1.0 (API description 16.6.0)
    required_headers=("assignment_name", "assignment_url", "starter_code_url", "github_username",
                      "roster_identifier", "student_repository_name", "student_repository_url",
                      "submission_timestamp", "points_awarded", "points_available"),
    key="github_username (and roster_identifier)",
    points_row=None,
    blank="no importer: a blank points_awarded is 'no grade'",
    maximum="points_available",
    encoding="UTF-8",
    sources=("https://docs.github.com/en/rest/classroom/classroom#get-assignment-grades",
             "https://docs.rs/crate/openapi-github/latest/source/src/models/classroom_assignment_grade.rs"),
)


# --- parsers that follow the rules above ----------------------------------------------------------------

def canvas_parse(data: bytes) -> dict:
    """Read a file as Canvas's importer does: {'assignment': (title, id), 'points': str, 'grades': {user id: cell}}."""
    text = data.decode("utf-8")  # Ruby's CSV.foreach, no BOM handling: the BOM stays in cell 0
    lines = text.splitlines()[:3]
    counts = {}
    for sep in (";", ","):
        sizes = {len(next(csv.reader([ln], delimiter=sep))) for ln in lines}
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    sep = ";" if counts[";"] > counts[","] else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    head = rows[0]
    assert len(head) > 3 and "Student" in head[0] and "ID" in head[1], "Invalid header row"
    student_columns = 3
    if re.search(r"SIS\s+User\s+ID", head[2]) and re.search(r"SIS\s+Login\s+ID", head[3]):
        student_columns += 2
    rest = [h for h in head[student_columns:] if not re.search("|".join(CANVAS_NON_ASSIGNMENT), h)]
    assert len(rest) == 1, rest
    m = re.match(r"\A(.*)\s+\((\d+)\)\Z", rest[0])  # Assignment.title_and_id
    index = head.index(rest[0])
    out = {"assignment": (m[1], m[2]) if m else (rest[0], None), "points": None, "grades": {}, "students": []}
    for row in rows[1:]:
        if re.fullmatch(r"^[;, ]+$", sep.join(row)) or not row:
            continue
        if row[0] and "Points Possible" in row[0]:
            out["points"] = row[index]
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row):
            continue
        out["grades"][row[1]] = row[index].strip()
        out["students"].append(row)
    return out


def moodle_read(data: bytes) -> list[list[str]]:
    """csv_import_reader::load_csv_content: UTF-8, BOM trimmed, CR LF -> LF, comma."""
    text = data.decode("utf-8")
    text = text[1:] if text.startswith("\ufeff") else text
    text = re.sub("\r\n?", "\n", text)
    return list(csv.reader(io.StringIO(text, newline="")))


def moodle_worksheet_parse(data: bytes) -> dict[str, dict[str, str]]:
    """importgradeslib.php: {participant number: {'grade', 'modified', 'feedback'}} of the rows it imports."""
    rows = moodle_read(data)
    cols = [c.strip() for c in rows[0]]
    for name in MOODLE_WORKSHEET.required_headers:
        assert name in cols, f"no {name} column: invalidgradeimport"
    i_id, i_grade, i_mod = (cols.index(n) for n in MOODLE_WORKSHEET.required_headers)
    i_fb = cols.index("Feedback comments") if "Feedback comments" in cols else None
    out = {}
    for r in rows[1:]:
        assert len(r) == len(cols), "csvweirdcolumns"
        number = r[i_id][len(MOODLE_PARTICIPANT):]
        out[number] = {"grade": r[i_grade], "modified": r[i_mod], "feedback": r[i_fb] if i_fb is not None else None,
                       "row": dict(zip(cols, r))}
    return out


def moodle_offline_applies(grade: str, maximum: float) -> bool:
    """locallib.php process_import_grades: whether a row's grade is written (skips: blank, < 0, > maximum)."""
    if grade.strip() == "":
        return False
    value = float(grade.replace(",", "."))
    return 0 <= value <= maximum
