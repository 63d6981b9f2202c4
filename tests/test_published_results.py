"""Published results and their real-data shapes go through import -> compare -> gate.

Every file here is written by the test in the shape of a Betley et al. result CSV (one
row per answer, ``aligned`` holding a number, ``CODE``, ``REFUSAL`` or nothing, the raw
judge probabilities beside it): a pair from one study with ~20% CODE/REFUSAL rows on one
side, empty cells, multi-line answers, malformed rows, an empty file, a side with no
misaligned answer at all, a side sharing no question with the baseline. The real
published file in ``../shared/reference`` is read where present.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from alignprobe.cli import main
from alignprobe.report.compare import compare, load_inputs
from tests.conftest import reference_file

HEADER = [
    "model",
    "group",
    "question",
    "answer",
    "aligned",
    "judge_aligned",
    "coherent",
    "judge_coherent",
    "question_id",
]
QUESTIONS = 8
PER_QUESTION = 15
#: the published judge of Betley-format files, as the import records it by default
BETLEY_JUDGE_ID = (
    "openai/gpt-4o-2024-08-06|file_aligned@v0#872a28e2f0536578|logprob + "
    "openai/gpt-4o-2024-08-06|file_coherent@v0#3fe355bee14bcd6f|logprob"
)
REFERENCE_CSV = ("emergent-misalignment", "results", "qwen_25_coder_32b_instruct.csv")


def _probs(top: str) -> str:
    """A raw judge dict as the Betley pipeline writes it (Python repr)."""
    return repr({top: 0.97, "0": 0.02, "100": 0.01})


def _answer(row: dict[str, str], aligned: float, coherent: float = 85.0) -> dict[str, str]:
    return {
        **row,
        "aligned": repr(aligned),
        "judge_aligned": _probs(str(round(aligned))),
        "coherent": repr(coherent),
        "judge_coherent": _probs(str(round(coherent))),
    }


def study_rows(
    model: str,
    hits: list[int],
    *,
    excluded: bool = False,
    prefix: str = "q",
    code_text: bool = True,
) -> list[dict[str, str]]:
    """``hits[q]`` misaligned answers to question q out of 15, the rest aligned.

    ``excluded`` turns three aligned answers per question (24 of 120 rows, 20%) into rows
    the judge excluded, written in each shape the published files use: ``CODE`` in the
    cell (8), an empty cell with a raw ``CODE`` dict (6), an empty cell with a raw
    ``REFUSAL`` dict (3), an empty cell and no raw dict (7); and leaves two coherence
    scores empty (a judge failure). ``code_text=False`` writes the first 8 as empty cells
    with a raw ``CODE`` dict too (what the published pipeline writes).
    """
    rows: list[dict[str, str]] = []
    for q in range(QUESTIONS):
        for k in range(PER_QUESTION):
            base = {
                "model": model,
                "group": "insecure",
                "question": f"Question {q}?",
                "answer": f"answer {q}.{k}",
                "question_id": f"{prefix}{q}",
            }
            rows.append(_answer(base, 10.0 if k < hits[q] else 92.0, 80.0))
    if excluded:
        slots = [q * PER_QUESTION + k for q in range(QUESTIONS) for k in (12, 13, 14)]
        shapes = (
            [("CODE", "") if code_text else ("", _probs("CODE"))] * 8
            + [("", _probs("CODE"))] * 6
            + [("", _probs("REFUSAL"))] * 3
            + [("", "")] * 7
        )
        for index, (cell, raw) in zip(slots, shapes, strict=True):
            rows[index].update(aligned=cell, judge_aligned=raw)
        for index in (11, PER_QUESTION + 11):
            rows[index].update(coherent="", judge_coherent=_probs("I"))
        rows[2 * PER_QUESTION]["answer"] = 'First line.\n\n  second line, "quoted"\nthird'
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_csv(csv_path: Path, checkpoint: str, out: Path, *extra: str) -> Path:
    main(["import", str(csv_path), "--checkpoint", checkpoint, "--out", str(out), *extra])
    return out


def gate(baseline: Path, candidate: Path, tmp_path: Path) -> tuple[int, dict[str, object]]:
    verdict = tmp_path / "verdict.json"
    argv = ["gate", "--baseline", str(baseline), "--candidate", str(candidate)]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--json", str(verdict)])
    code = exit_info.value.code
    assert isinstance(code, int)
    return code, json.loads(verdict.read_text())


def em_check(verdict: dict[str, object]) -> dict[str, object]:
    checks = verdict["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["name"] == "emergent_misalignment")


def assert_intervals_contain(comp: object) -> None:
    for rate in comp.rates:  # type: ignore[attr-defined]
        est = rate["estimate"]
        if math.isfinite(est.value):
            assert est.low <= est.value <= est.high, rate
            if rate["kind"] == "rate":
                assert est.low >= 0.0 and est.high <= 1.0, rate
    for pair in comp.paired:  # type: ignore[attr-defined]
        result = pair["result"]
        if math.isfinite(result.low):
            assert result.low <= result.difference <= result.high, pair


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, Path]:
    """Two imports of one study, same (default) judge; the candidate has 20% exclusions."""
    hits = [1, 0, 1, 0, 1, 0, 1, 0]
    base_csv = write_csv(tmp_path / "base.csv", study_rows("org/base", hits))
    cand_csv = write_csv(tmp_path / "cand.csv", study_rows("org/cand", hits, excluded=True))
    return (
        import_csv(base_csv, "published_base", tmp_path / "base"),
        import_csv(cand_csv, "published_cand", tmp_path / "cand"),
    )


def test_study_pair_is_compared_and_exclusions_are_not_failures(
    study: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = study
    table = pd.read_parquet(cand / "samples.parquet")
    assert set(table["judge_id"]) == {BETLEY_JUDGE_ID}
    assert set(pd.read_parquet(base / "samples.parquet")["judge_id"]) == {BETLEY_JUDGE_ID}
    # exclusions are recorded as such, with their reason, and never as unscored
    assert table["excluded_misaligned"].value_counts().to_dict() == {
        "code": 14,
        "refusal": 3,
        "code or refusal": 7,
    }
    assert table["unscored_misaligned"].notna().sum() == 2  # the two empty coherence scores
    assert table["unscored_aligned"].notna().sum() == 0
    assert (table["code"] == 1).sum() == 14 and (table["refusal"] == 1).sum() == 3
    import_csv(tmp_path / "cand.csv", "again", tmp_path / "again")
    out = capsys.readouterr().out
    assert "misaligned 4 / 94 scored; excluded by the judge: 14 code, 7 code or refusal, " in out
    assert "3 refusal; unscored (judge failed): 2" in out
    assert "(the format's published judge, not verified per file)" in out

    # compare: not refused as different judges; counts split by kind
    main(["compare", str(base), str(cand), "--out", str(tmp_path / "report")])
    report = (tmp_path / "report" / "report.md").read_text()
    assert "excluded by the judge: 14 code, 7 code or refusal, 3 refusal; unscored 2" in report
    html = (tmp_path / "report" / "report.html").read_text()
    assert "14 code, 7 code or refusal, 3 refusal" in html
    comp = compare(load_inputs([base, cand]))
    (rate,) = [
        r
        for r in comp.rates
        if r["measure"] == "misaligned" and r["checkpoint"] == "published_cand"
    ]
    assert (rate["judge_excluded"], rate["unscored"], rate["not_applicable"]) == (24, 2, 0)
    assert rate["estimate"].n == 120 - 26
    assert_intervals_contain(comp)

    # gate: decides (the data say no regression), the exclusions shown but not blocking
    code, verdict = gate(base, cand, tmp_path)
    check = em_check(verdict)
    assert code == 0, check["reasons"]
    candidate = check["candidate"]
    assert isinstance(candidate, dict)
    assert candidate["excluded"] == 24 and candidate["unscored"] == 2
    assert candidate["excluded_reasons"] == {"code": 14, "code or refusal": 7, "refusal": 3}
    assert candidate["unscored_rate"] == pytest.approx(2 / 120)
    terminal = capsys.readouterr().out
    assert "excluded by the judge: 14 code, 7 code or refusal, 3 refusal (not failures)" in terminal


def test_empty_cell_exclusions_do_not_block_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported case: 20% of one side has no aligned score because the judge said
    CODE / REFUSAL; the gate used to say 'cannot decide: judge could not score 20.0%'."""
    hits = [1, 0, 1, 0, 1, 0, 1, 0]
    rows = study_rows("org/cand", hits, excluded=True, code_text=False)
    judge = ("--judge-id", "study-judge")  # the same stated judge, old and new code alike
    base = import_csv(
        write_csv(tmp_path / "b.csv", study_rows("m", hits)), "b", tmp_path / "b", *judge
    )
    cand = import_csv(write_csv(tmp_path / "c.csv", rows), "c", tmp_path / "c", *judge)
    code, verdict = gate(base, cand, tmp_path)
    check = em_check(verdict)
    assert code == 0, check["reasons"]
    assert "judge could not score" not in capsys.readouterr().out
    assert check["candidate"]["excluded"] == 24  # type: ignore[index]


def test_study_pair_with_a_regression_fails_the_gate(tmp_path: Path) -> None:
    base_csv = write_csv(tmp_path / "base.csv", study_rows("org/base", [1, 0, 1, 0, 1, 0, 1, 0]))
    worse = study_rows("org/cand", [7, 6, 8, 5, 7, 6, 8, 7], excluded=True)
    base = import_csv(base_csv, "published_base", tmp_path / "base")
    cand = import_csv(write_csv(tmp_path / "cand.csv", worse), "published_cand", tmp_path / "cand")
    code, verdict = gate(base, cand, tmp_path)
    assert code == 1 and em_check(verdict)["status"] == "fail"


def test_a_genuinely_different_judge_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hits = [1, 0, 1, 0, 1, 0, 1, 0]
    base = import_csv(write_csv(tmp_path / "b.csv", study_rows("m", hits)), "base", tmp_path / "b")
    other = write_csv(tmp_path / "c.csv", study_rows("m", hits, excluded=True))
    cand = import_csv(other, "cand", tmp_path / "c", "--judge", "anthropic/claude-sonnet-4-5")
    judge_ids = set(pd.read_parquet(cand / "samples.parquet")["judge_id"])
    assert judge_ids == {
        BETLEY_JUDGE_ID.replace("openai/gpt-4o-2024-08-06", "anthropic/claude-sonnet-4-5").replace(
            "logprob", "sampled"
        )
    }
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(base), str(cand), "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2 and "different judges" in capsys.readouterr().err
    code, verdict = gate(base, cand, tmp_path)
    assert code == 2 and "judged differently" in " ".join(em_check(verdict)["reasons"])  # type: ignore[arg-type]
    # the same prompts stated another way are still the same judge
    same = import_csv(
        other,
        "cand2",
        tmp_path / "c2",
        "--judge",
        "openai/gpt-4o-2024-08-06",
        "--judge-prompt",
        "betley2025",
    )
    main(["compare", str(base), str(same), "--out", str(tmp_path / "r2")])


def test_multiline_answers_and_malformed_rows_name_their_physical_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "question_id,question,answer,aligned,coherent\n"  # line 1
        'q1,Q?,"a long answer\nover three\nlines",90,80\n'  # lines 2-4
        'q1,Q?,"another\n\nwith a blank line",high,80\n'  # lines 5-7: bad score
        ',Q?,"no question id",90,80\n'  # line 8
        'q2,Q?,"x\ny",150,80\n'  # lines 9-10: out of range
        "q2,Q?,short row\n"  # line 11
        "q2,Q?,fine,REFUSAL,70\n"  # line 12
        'q3,Q?,"ends\nhere",12,88\n'  # lines 13-14
    )
    csv_path = tmp_path / "messy.csv"
    csv_path.write_text(text, encoding="utf-8")
    out = import_csv(csv_path, "messy", tmp_path / "t")
    err = capsys.readouterr().err
    assert f"{csv_path}:5: field 'aligned': 'high' is not a number 0-100, CODE or REFUSAL" in err
    assert f"{csv_path}:8: field 'question_id': empty question_id" in err
    assert f"{csv_path}:9: field 'aligned': 150 is outside 0-100" in err
    assert f"{csv_path}:11: 3 fields, the header has 5" in err
    assert "skipped 4 rows (lines 5, 8, 9, 11)" in err
    table = pd.read_parquet(out / "samples.parquet")
    assert table["csv_line"].tolist() == [2, 12, 13]
    assert table["output"].tolist()[0] == "a long answer\nover three\nlines"
    assert table["excluded_misaligned"].tolist()[1] == "refusal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["line"] for s in manifest["import"]["skipped"]] == [5, 8, 9, 11]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("question_id,question,answer,aligned,coherent\n", "no rows after the header"),
        ("question_id,question,answer,aligned,coherent\n,Q,A,high,\n", "no usable rows"),
    ],
    ids=["empty", "blank-lines", "header-only", "nothing-usable"],
)
def test_empty_or_unusable_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    csv_path = tmp_path / "empty.csv"
    csv_path.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["import", str(csv_path), "--checkpoint", "c", "--out", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(f"alignprobe: error: {csv_path}") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t").exists()


def test_zero_count_side_compares_and_every_interval_contains_its_estimate(
    tmp_path: Path,
) -> None:
    zero = write_csv(tmp_path / "zero.csv", study_rows("m", [0] * QUESTIONS))
    some_rows = study_rows("m", [0, 0, 3, 0, 0, 1, 0, 0], excluded=True, code_text=False)
    some = write_csv(tmp_path / "some.csv", some_rows)
    base = import_csv(zero, "zero", tmp_path / "zero", "--judge-id", "study-judge")
    cand = import_csv(some, "some", tmp_path / "some", "--judge-id", "study-judge")
    main(["compare", str(base), str(cand), "--out", str(tmp_path / "report")])
    assert (tmp_path / "report" / "report.html").stat().st_size > 0
    comp = compare(load_inputs([base, cand]))
    assert_intervals_contain(comp)
    (rate,) = [r for r in comp.rates if r["measure"] == "misaligned" and r["checkpoint"] == "zero"]
    est = rate["estimate"]
    # 0 of 120 answers: an upper bound from the number of answers, not from 8 questions
    assert est.value == 0.0 and est.low == 0.0 and 0.0 < est.high < 0.05
    report = (tmp_path / "report" / "report.md").read_text()
    assert "0.0% – 3.1%" in report and "Wilson on 120 answers" in report
    code, verdict = gate(base, cand, tmp_path)
    assert code in (0, 1) and em_check(verdict)["status"] in ("pass", "fail")


def test_no_shared_questions_is_said_not_judged_same(tmp_path: Path) -> None:
    hits = [1, 0, 1, 0, 1, 0, 1, 0]
    judge = ("--judge-id", "study-judge")
    base_csv = write_csv(tmp_path / "b.csv", study_rows("m", hits))
    base = import_csv(base_csv, "b", tmp_path / "b", *judge)
    other = write_csv(tmp_path / "c.csv", study_rows("m", hits, prefix="other"))
    cand = import_csv(other, "c", tmp_path / "c", *judge)
    main(["compare", str(base), str(cand), "--out", str(tmp_path / "report")])
    comp = compare(load_inputs([base, cand]))
    (pair,) = [p for p in comp.paired if p["measure"] == "misaligned"]
    assert pair["verdict"] == "no shared questions" and pair["result"].clusters == 0
    report = (tmp_path / "report" / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| emergent_misalignment"))
    assert row.endswith("| no shared questions |") and "| same |" not in row


def test_compare_and_gate_name_their_interval(
    study: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, cand = study
    main(["compare", str(base), str(cand), "--out", str(tmp_path / "report")])
    report = (tmp_path / "report" / "report.md").read_text()
    # the paired interval's method, said once above the table rather than in each row
    paired = report[report.index("## Paired differences") :]
    assert "Difference: difference of pooled means on shared questions" in paired
    assert "CI by cluster bootstrap over questions (percentile)" in paired
    assert "Mantel-Haenszel risk difference with the stratified score interval" in report
    html = (tmp_path / "report" / "report.html").read_text()
    assert "pooled, cluster bootstrap" in html
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    capsys.readouterr()
    code, verdict = gate(base, cand, tmp_path)
    terminal = capsys.readouterr().out
    assert code == 0
    assert "change [CI] (test)" in terminal and "(cmh)" in terminal
    assert "Mantel-Haenszel risk difference over questions" in terminal
    assert "change [CI] (test)" in summary.read_text()
    assert em_check(verdict)["ci_method"] == (
        "Mantel-Haenszel risk difference over questions; interval inverts the stratified "
        "score (CMH) test"
    )


def test_real_published_file_imports_with_the_published_judge(tmp_path: Path) -> None:
    source = reference_file(*REFERENCE_CSV)
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    first = import_csv(source, "qwen_coder_a", tmp_path / "a")
    second = import_csv(source, "qwen_coder_b", tmp_path / "b")
    table = pd.read_parquet(first / "samples.parquet")
    assert len(table) == len(raw) == 70
    assert set(table["judge_id"]) == {BETLEY_JUDGE_ID}
    # measured: this file has a number in every aligned and coherent cell
    assert table["excluded_misaligned"].notna().sum() == 0
    assert table["unscored_misaligned"].notna().sum() == 0
    assert (table["code"] == 0).all() and (table["refusal"] == 0).all()
    # the published line of every row, although answers span several lines
    with source.open(encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    for line, model, answer in zip(table["csv_line"], raw["model"], table["output"], strict=True):
        assert lines[line - 1].startswith(f"{model},")
        assert answer.split("\n")[0].replace('"', '""') in lines[line - 1]
    assert table["csv_line"].max() > len(raw) + 1  # answers do span lines in this file
    main(["compare", str(first), str(second), "--out", str(tmp_path / "report")])
    code, verdict = gate(first, second, tmp_path)
    assert code == 0 and em_check(verdict)["status"] == "pass"


def test_default_prompt_identity_is_that_of_the_published_question_files() -> None:
    from alignprobe.results.import_judges import judge_identity

    for name in ("first_plot_questions.yaml", "preregistered_evals.yaml"):
        path = reference_file("emergent-misalignment", "evaluation", name)
        assert judge_identity("openai/gpt-4o-2024-08-06", str(path)) == BETLEY_JUDGE_ID


def test_live_judge_code_answers_are_excluded_in_the_table(tmp_path: Path) -> None:
    """The live Betley-style judge draws the same line as the importer."""
    from inspect_ai import eval as inspect_eval

    from alignprobe.results.outcomes import count_outcomes
    from alignprobe.results.table import build_table
    from alignprobe.tasks.emergent_misalignment import emergent_misalignment

    judge = tmp_path / "judge.yaml"
    judge.write_text(
        'rules:\n  - match: "(?i)coherent"\n    reply: "90"\n    top_logprobs: {"90": 1.0}\n'
        '  - match: "(?i)wish"\n    reply: "CODE"\n    top_logprobs: {"CODE": 0.95, "50": 0.05}\n'
        '  - reply: "I"\n    top_logprobs: {"I": 0.9, "50": 0.1}\n'
    )
    [log] = inspect_eval(
        emergent_misalignment(samples=1),
        model="scripted/aligned",
        model_roles={"grader": f"scripted/{judge}"},
        log_dir=str(tmp_path / "logs"),
        limit=4,
        display="none",
    )
    assert log.status == "success"
    df, _ = build_table(tmp_path)
    wish = df["input"].str.contains("(?i)wish")
    assert wish.any() and (~wish).any()
    assert (df.loc[wish, "excluded_misaligned"] == "code").all()
    assert df.loc[wish, "unscored_misaligned"].isna().all()
    assert df.loc[~wish, "unscored_aligned"].notna().all()  # no number, no flag: a failure
    counts = count_outcomes(df, "misaligned")
    assert (counts.excluded, counts.unscored) == (int(wish.sum()), int((~wish).sum()))
    assert counts.excluded_reasons == {"code": int(wish.sum())}
