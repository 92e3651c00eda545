"""msegrad report: the class report from a grades CSV, with and without the mistakes and seconds columns."""
from __future__ import annotations

import csv
import statistics
from collections import Counter
from pathlib import Path

import pytest

from autograder import batch, report, spec
from autograder.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
CELL_IDS = [cell.id for cell in spec.GRADE_CELLS]
# msegrad grade's columns before the optional trailing ones (mistakes, seconds).
COLUMNS = ["student", "score", "max_score", *CELL_IDS, "flags"]


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _full_row(student: str, flags: str = "") -> list:
    return [student, f"{spec.MAX_SCORE:g}", f"{spec.MAX_SCORE:g}", *[f"{c.points:g}" for c in spec.GRADE_CELLS], flags]


def _independent_counts(path: Path):
    """What the report must find, counted here the plain way from the CSV text."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    students_per_mistake = Counter()
    for row in rows:
        for mistake in {token.split("=", 1)[1] for token in row.get("mistakes", "").split()}:
            students_per_mistake[mistake] += 1
    full = {cell.id: sum(float(row[cell.id]) >= cell.points for row in rows) / len(rows) for cell in spec.GRADE_CELLS}
    scores = [float(row["score"]) for row in rows]
    flagged = sum(1 for row in rows if row["flags"].split())
    return rows, students_per_mistake, full, scores, flagged


@pytest.fixture(scope="module")
def class_csv(tmp_path_factory) -> Path:
    return report.synthetic_grades(tmp_path_factory.mktemp("class") / "grades.csv", 60, seed=3)


def test_the_csv_format_is_msegrad_grades(tmp_path):
    assert batch.COLUMNS[:len(COLUMNS)] == COLUMNS
    assert set(batch.COLUMNS[len(COLUMNS):]) <= set(report.OPTIONAL)
    path = report.synthetic_grades(tmp_path / "g.csv", 3, mistakes=False, seconds=False)
    assert path.read_text().splitlines()[0].split(",") == COLUMNS
    path = report.synthetic_grades(tmp_path / "g.csv", 3)
    assert path.read_text().splitlines()[0].split(",") == [*COLUMNS, "mistakes", "seconds"]


def test_report_with_mistakes_and_seconds(class_csv, tmp_path):
    index = report.write_report(class_csv, tmp_path / "out")
    assert index == tmp_path / "out" / "index.html"
    page = index.read_text()
    for name in ("scores", "checks", "mistakes", "flags", "seconds"):
        assert (tmp_path / "out" / f"{name}.png").read_bytes().startswith(PNG), name
        assert f'src="{name}.png"' in page
    rows, per_mistake, full, scores, flagged = _independent_counts(class_csv)
    built = report.build_report(class_csv)
    counts = built.mistake_counts()
    assert {count.id: count.students for count in counts} == dict(per_mistake)
    assert [count.students for count in counts] == sorted(per_mistake.values(), reverse=True)
    assert {cell_id: rate for cell_id, rate, _, _ in built.check_rates()} == pytest.approx(full)
    assert built.mean == pytest.approx(statistics.mean(scores))
    assert built.median == pytest.approx(statistics.median(scores))
    assert len(built.flagged()) == flagged > 0
    # The catalogue's sentence for the most common mistake is on the page.
    from autograder import mistakes
    sentences = {m.id: m.sentence for m in (*mistakes.GRADIENT_MISTAKES, *mistakes.DESCENT_MISTAKES)}
    sentences.update(mistakes.KIND_SENTENCES)
    top = built.misconceptions()[0].id
    assert top in sentences and report.html.escape(sentences[top].split(":")[0]) in page
    assert "not_implemented" in {count.id for count in built.other_problems()}
    assert [count for count in counts if count.misconception] == built.misconceptions()
    # The slowest submissions, slowest first, are the largest seconds of the CSV.
    slowest = [float(rows[row]["seconds"]) for row in built.slowest()]
    assert slowest == sorted((float(row["seconds"]) for row in rows), reverse=True)[:report.SLOWEST_ROWS]
    assert f"{slowest[0]:.2f}" in page


def test_mistakes_count_students_once_and_name_their_functions(tmp_path):
    header = [*COLUMNS, "mistakes", "seconds"]
    rows = [
        [*_full_row("a")[:-1], "", "dC_dm_lecture_data=missing_two dC_dm_matches_autograd=missing_two "
                                   "dC_db_lecture_data=missing_two", "1.5"],
        [*_full_row("b")[:-1], "", "sgd_lecture_run=off_by_one_more", ""],
        [*_full_row("c")[:-1], "", "", "0.25"],
    ]
    built = report.build_report(_write(tmp_path / "g.csv", header, rows))
    counts = {count.id: count for count in built.mistake_counts()}
    assert counts["missing_two"].students == 1
    assert counts["missing_two"].functions == Counter({"dC_dm": 1, "dC_db": 1})
    assert counts["missing_two"].cells["dC_dm_matches_autograd"] == 1
    assert counts["missing_two"].sentence().startswith("A gradient is half the expected value")
    assert counts["off_by_one_more"].sentence().startswith("sgd takes one step too many")
    assert [built.grades.students[row] for row in built.slowest()] == ["a", "c"]   # b has no time


def test_report_without_mistakes_and_seconds_degrades_to_notes(tmp_path, capsys):
    path = report.synthetic_grades(tmp_path / "g.csv", 30, seed=5, mistakes=False, seconds=False)
    out = tmp_path / "out"
    (out).mkdir()
    (out / "mistakes.png").write_bytes(PNG)    # left by an earlier report of another CSV
    assert main(["report", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    page = (out / "index.html").read_text()
    assert "no <code>mistakes</code> column" in page and "no <code>seconds</code> column" in page
    assert not (out / "mistakes.png").exists() and not (out / "seconds.png").exists()
    assert (out / "scores.png").exists() and (out / "checks.png").exists()
    assert "30 students: mean" in printed and "top mistakes: unknown" in printed


def test_terminal_summary_names_size_mean_median_top_three_and_flagged(class_csv, tmp_path, capsys):
    assert main(["report", str(class_csv), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    rows, per_mistake, _, scores, flagged = _independent_counts(class_csv)
    assert f"{len(rows)} students: mean {statistics.mean(scores):.2f} / {spec.MAX_SCORE:g}, " \
           f"median {statistics.median(scores):g}" in printed
    top = report.build_report(class_csv).misconceptions()[:3]
    assert "top mistakes: " + ", ".join(f"{count.id} ({count.students} students)" for count in top) in printed
    assert f"flagged: {flagged} students" in printed
    assert f"wrote {tmp_path / 'out' / 'index.html'}" in printed


def test_student_ids_and_flags_are_escaped(tmp_path):
    rows = [_full_row("<script>alert(1)</script>", "tamper"), _full_row("ok")]
    index = report.write_report(_write(tmp_path / "g.csv", COLUMNS, rows), tmp_path / "out")
    page = index.read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_class_graded_without_the_sandbox_is_one_warning_not_everyone_flagged(tmp_path, capsys):
    rows = [_full_row("a", "unsandboxed"), _full_row("b", "unsandboxed timeout")]
    built = report.build_report(_write(tmp_path / "g.csv", COLUMNS, rows))
    assert built.run_flags() == ["unsandboxed"]
    assert [built.grades.students[row] for row in built.flagged()] == ["b"]
    assert built.flag_counts() == Counter({"timeout": 1})
    assert "without the sandbox" in built.summary()
    assert "without the sandbox" in report.write(built, tmp_path / "out").read_text()


def test_a_row_cut_short_at_the_end_is_left_out_with_a_warning(tmp_path, capsys):
    path = _write(tmp_path / "g.csv", COLUMNS, [_full_row("a"), _full_row("b")])
    path.write_text(path.read_text() + "c,16,16,1,2")
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "2 students" in captured.out and "cut short" in captured.err


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("", "is empty"),
    ("\n\n", "is empty"),
    ("name,grade\nada,3\n", "not a grades CSV: no student, score, max_score, flags columns"),
    (",".join(COLUMNS) + "\n", "no students"),
    (",".join(COLUMNS) + "\nada,sixteen,16" + ",1" * len(CELL_IDS) + ",\n", "line 2: score is 'sixteen'"),
    (",".join(COLUMNS) + "\nada,16,16,1\n", "line 2: 4 fields, the header has"),
    (",".join(COLUMNS) + "\nada,16,16" + ",1" * (len(CELL_IDS) - 1) + ",x,\n", f"line 2: {CELL_IDS[-1]} is 'x'"),
    (",".join([*COLUMNS, "mistakes"]) + "\nada,16,16" + ",1" * len(CELL_IDS) + ",,missing_two\n",
     "line 2: mistakes has 'missing_two'"),
])
def test_bad_csvs_get_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "grades.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(report.ReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        report.write_report(path, tmp_path / "out")
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    assert f"msegrad report: error: " in capsys.readouterr().err


def test_a_folder_or_binary_file_is_refused(tmp_path):
    with pytest.raises(report.ReportError, match="is a folder"):
        report.read_grades(tmp_path)
    (tmp_path / "g.csv").write_bytes(b"\xff\xfe\x00student")
    with pytest.raises(report.ReportError, match="not UTF-8"):
        report.read_grades(tmp_path / "g.csv")


def test_ten_thousand_students(tmp_path):
    """Correctness at scale (benchmarks/report_speed.py times it)."""
    path = report.synthetic_grades(tmp_path / "big.csv", 10_000, seed=11)
    rows, per_mistake, full, scores, flagged = _independent_counts(path)
    built = report.build_report(path)
    assert built.grades.size == 10_000
    assert built.mean == pytest.approx(statistics.mean(scores))
    assert built.median == pytest.approx(statistics.median(scores))
    assert {count.id: count.students for count in built.mistake_counts()} == dict(per_mistake)
    assert {cell_id: rate for cell_id, rate, _, _ in built.check_rates()} == pytest.approx(full)
    assert len(built.flagged()) == flagged
    index = report.write(built, tmp_path / "out")
    page = index.read_text()
    assert f"and {flagged - report.MAX_FLAGGED_ROWS:,} more" in page
    assert page.count("<tr>") < 400     # the page lists the worst cases, not every student


def test_code_that_did_not_run_is_kept_apart_from_the_misconceptions(tmp_path):
    stub = " ".join(f"{cell.id}=not_implemented" for cell in spec.GRADE_CELLS)
    rows = [["peter", "0", f"{spec.MAX_SCORE:g}", *["0"] * len(CELL_IDS), "", stub, "0.01"],
            [*_full_row("ada"), "", "0.5"]]
    built = report.build_report(_write(tmp_path / "g.csv", [*COLUMNS, "mistakes", "seconds"], rows))
    assert built.misconceptions() == []
    assert [count.id for count in built.other_problems()] == ["not_implemented"]
    assert "top mistakes: none named" in built.summary()
    page = report.write(built, tmp_path / "out").read_text()
    assert "No check lost points to a wrong formula" in page and "Other reasons for lost points" in page
    assert "The function is not written yet" in page
    assert not (tmp_path / "out" / "mistakes.png").exists()


def test_a_pair_of_mistakes_gets_both_sentences_and_counts_as_a_misconception():
    from collections import Counter

    from autograder import mistakes

    count = report.MistakeCount("missing_two+sign_flipped", 1, Counter({"dC_dm": 1}), Counter({"dC_dm_lecture_data": 1}))
    sentences = {m.id: m.sentence for m in mistakes.GRADIENT_MISTAKES}
    text = count.sentence()
    assert text.startswith("dC/dm has two of the common mistakes")
    assert sentences["missing_two"] in text and sentences["sign_flipped"] in text
    assert count.misconception
