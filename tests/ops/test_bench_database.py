"""The database benchmark runs end to end (at the moderate scale of the test suite) and reports figures.

The figures themselves are read by people (ratios, no thresholds): this checks that every part runs on a
real PostgreSQL and says what it measured, so the full-scale run cannot rot unnoticed.
"""

from __future__ import annotations

import json

from ops import bench_database
from tests.servers.scratch_databases import scratch_database


def test_the_database_benchmark_checks_plans_and_times_every_query(postgres_url, capsys):
    with scratch_database(postgres_url) as url:
        assert bench_database.main(["--quick", "--database-url", url, "--runs", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["plans"]["queries_checked"] >= 20 and figures["plans"]["whole_table_reads"] == {}
    assert figures["scale"]["rows"]["events"] == 150_000
    assert figures["baseline_primary_key_read_p50_ms"] > 0
    assert all(figure["p50_ms"] > 0 for figure in figures["statements"].values())
    assert all(figure["p50_ms"] > 0 for figure in figures["services"].values())
    for figure in figures["report_schema_against_now"].values():
        assert figure["before_p50_ms"] > 0 and figure["now_p50_ms"] > 0 and figure["speed_up"] > 0
    sweep = figures["sweep_sessions"]
    assert sweep["command_deleted"] == sweep["expired"] > sweep["sessions"] // 3
    assert "secret" not in json.dumps(figures).lower()
