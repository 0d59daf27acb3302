"""The benchmark command end to end on a tiny data set: its JSON keys, and that it guards real data."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from intake.models import Prescription
from tests.factories import make_prescription

KEYS = {
    "floor_p50_ms", "queue_p50_ms", "queue_p95_ms", "queue_queries", "queue_deep_ratio", "queue_growth_ratio",
    "submit_p50_ms", "submit_queries", "submit_fhir_p50_ms", "submit_fhir_queries", "submit_fhir_ratio",
    "status_p50_ms", "screen_per_s", "hostile_lines_ms", "worker_rss_mb", "queue_metrics_on_p50_ms",
    "queue_metrics_off_p50_ms", "queue_service_p50_ms", "queue_bare_p50_ms", "queue_service_ratio",
}  # fmt: skip


@pytest.mark.django_db
def test_benchmark_prints_a_table_then_one_json_line(tmp_path):
    out = StringIO()
    plot = tmp_path / "growth.svg"

    call_command("benchmark", "--rows", "400", "--iterations", "3", "--plot", str(plot), stdout=out)

    lines = out.getvalue().strip().splitlines()
    result = json.loads(lines[-1])
    assert result.keys() >= KEYS
    assert result["rows"] == 400
    assert result["queue_rows"] > 0
    assert 0 < result["queue_queries"] <= 10
    assert 0 < result["submit_queries"] <= 15
    assert 0 < result["submit_fhir_queries"] <= 15
    assert result["screen_per_s"] > 0
    assert result["hostile_lines_ms"] > 0
    assert any("hostile medication lines" in line and "(target <= 1000)" in line for line in lines)
    assert result["queue_service_ratio"] == pytest.approx(
        result["queue_service_p50_ms"] / result["queue_bare_p50_ms"], abs=0.01
    )
    assert any("queue run as a service" in line and "(target <= 1.10)" in line for line in lines)
    assert any("floor: minimal signed-in staff page" in line for line in lines)
    assert Prescription.objects.filter(reference__startswith="BX-").count() >= 400
    svg = plot.read_text()
    assert svg.startswith("<svg") and "queue p50 (ms)" in svg and "<script" not in svg


@pytest.mark.django_db
def test_benchmark_refuses_a_database_with_real_prescriptions(prescriber):
    make_prescription(prescriber)

    with pytest.raises(CommandError, match="--scratch"):
        call_command("benchmark", "--rows", "200", stdout=StringIO())

    assert Prescription.objects.count() == 1
