"""Quality scoring: SQL extraction, normalisation, execution in SQLite, per-target shares."""
import json
import os

import pytest

from textsql import RowPicker, exact_match, execution_result, extract_sql, load_rows, normalise, prompt_for, quality

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
ROWS = load_rows(os.path.join(DATA, "sample_text_to_sql.jsonl"))
ROW = ROWS[0]  # SUM of wheat yields = 15.0


def test_sample_rows_have_the_dataset_columns_and_run_in_sqlite():
    for r in ROWS:
        for c in ("id", "domain", "sql_complexity", "sql_task_type", "sql_prompt", "sql_context", "sql", "sql_explanation"):
            assert c in r
        assert execution_result(r, r["sql"]) == "match"


def test_extract_sql_takes_a_fenced_query_up_to_the_first_semicolon():
    assert extract_sql("Here:\n```sql\nSELECT 1;\n```\nDone.") == "SELECT 1"
    assert extract_sql("SELECT a FROM t; SELECT b FROM t;") == "SELECT a FROM t"
    assert extract_sql("  select 2  ") == "select 2"


def test_normalise_ignores_case_whitespace_and_semicolon_but_not_literals():
    assert normalise("SELECT  name\nFROM t WHERE x = 'A';") == normalise("select name from t where x='A'")
    assert normalise("SELECT name FROM t WHERE x = 'A'") != normalise("SELECT name FROM t WHERE x = 'a'")
    assert exact_match("select sum(yield_tons) from farms where crop='wheat'", ROW["sql"])
    assert not exact_match("SELECT SUM(yield_tons) FROM farms", ROW["sql"])


def test_execution_result_compares_rows_not_text():
    assert execution_result(ROW, "SELECT SUM(yield_tons) FROM farms WHERE crop IN ('wheat')") == "match"
    assert execution_result(ROW, "SELECT SUM(yield_tons) FROM farms") == "mismatch"
    assert execution_result(ROW, "SELECT nope FROM farms") == "error"
    assert execution_result(ROW, "not sql at all") == "error"


def test_row_order_counts_only_when_the_reference_orders():
    films = next(r for r in ROWS if "ORDER BY" in r["sql"])
    assert execution_result(films, "SELECT title FROM films WHERE year > 2020 ORDER BY year DESC") == "mismatch"
    patients = next(r for r in ROWS if "age > 60" in r["sql"])
    assert execution_result(patients, "SELECT name FROM patients WHERE age > 60 ORDER BY name DESC") == "match"


def test_a_row_whose_own_sql_fails_in_sqlite_is_left_out():
    bad = {**ROW, "sql_context": "CREATE TABLE farms (id INTEGER) ENGINE=InnoDB;"}
    assert execution_result(bad, ROW["sql"]) == "reference_error"
    q = quality([{"ok": True, "text": ROW["sql"], "row": ROW["id"], "target": "v"}], [bad])
    assert q["v"] == {"answers": 1, "scored": 0, "referenceErrors": 1, "answerErrors": 0, "executionAccuracy": None, "exactMatch": 1.0}


def test_quality_per_target_from_the_stand_in_answers():
    with open(os.path.join(DATA, "standin_answers.jsonl")) as f:
        answers = [json.loads(line) for line in f]
    samples = [{"ok": True, "text": a["answer"], "row": a["id"], "target": "t"} for a in answers]
    samples.append({"ok": False, "text": None, "row": answers[0]["id"], "target": "t"})  # failed requests are not scored
    q = quality(samples, ROWS)["t"]
    kinds = [a["expect"] for a in answers]
    assert q["answers"] == len(answers)
    assert q["executionAccuracy"] == pytest.approx(sum(k != "wrong" for k in kinds) / len(kinds))
    assert q["exactMatch"] == pytest.approx(kinds.count("exact") / len(kinds))


def test_prompt_has_schema_and_question_and_rows_come_in_turn():
    p = prompt_for(ROW)
    assert ROW["sql_context"] in p and f"Question: {ROW['sql_prompt']}<|end|>" in p
    picker = RowPicker(ROWS[:3])
    assert [picker.next()["id"] for _ in range(4)] == [ROWS[0]["id"], ROWS[1]["id"], ROWS[2]["id"], ROWS[0]["id"]]


def test_load_rows_refuses_rows_without_the_columns(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(ValueError, match="lack the columns"):
        load_rows(str(f))
