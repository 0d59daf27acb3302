"""The pharmacy dashboard: counts per status, turnaround and flags, as SVG charts with their numbers.

Aggregates only, no patient data; the views read the figures, draw them and render.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from intake.clinical.screening import HARD_STOP, INFO, WARNING
from intake.services.stock import expiry_warning_days, stock_to_watch
from intake.services.tracking import tracking_problems_count
from intake.web.staff.access import staff_required
from intake.web.staff.charts import Bar, Series, bar_chart, line_chart, stacked_bar_chart
from intake.web.staff.figures import SEVERITY_LABELS, StatusCount, WeekFigures, dashboard_figures, status_counts

# Hours up to this draw in hours; longer turnarounds read better in days.
_DAYS_FROM_HOURS = 72
_SEVERITY_CLASSES = {HARD_STOP: "chart-fill-hard-stop", WARNING: "chart-fill-warning", INFO: "chart-fill-info"}


def status_chart(counts: list[StatusCount]) -> str:
    total = sum(c.count for c in counts)
    return bar_chart(
        chart_id="chart-status",
        title="Prescriptions per status now",
        desc=f"{total} prescriptions: "
        + ", ".join(f"{c.short_label} {c.count}" for c in counts if c.count)
        + ". The table beside the chart has every number.",
        bars=[Bar(label=c.short_label, value=c.count, css_class="chart-fill-status") for c in counts],
        x_label="prescriptions",
    )


def turnaround_chart(weeks: list[WeekFigures]) -> tuple[str, str]:
    """The chart and its unit ("hours" or "days")."""
    values = [v for w in weeks for v in (w.median_hours, w.p90_hours) if v is not None]
    divisor, unit = (24.0, "days") if max(values, default=0) > _DAYS_FROM_HOURS else (1.0, "hours")

    def scaled(value: float | None) -> float | None:
        return None if value is None else round(value / divisor, 1)

    chart = line_chart(
        chart_id="chart-turnaround",
        title=f"Turnaround from submission to ready, in {unit}, per week",
        desc=f"Median and 90th percentile for the last {len(weeks)} weeks, by the week a prescription became "
        "ready. The table beside the chart has the numbers.",
        x_labels=[w.label for w in weeks],
        series=[
            Series(name="Median", values=[scaled(w.median_hours) for w in weeks], css_class="chart-series-median"),
            Series(name="90th percentile", values=[scaled(w.p90_hours) for w in weeks], css_class="chart-series-p90"),
        ],
        y_label=unit,
    )
    return chart, unit


def flags_chart(weeks: list[WeekFigures]) -> str:
    return stacked_bar_chart(
        chart_id="chart-flags",
        title="Screening flags raised per week, by severity",
        desc="Prescriptions submitted each week with a flag, one count per flag code, stacked by severity. "
        "The table below the chart has the numbers per code.",
        x_labels=[w.label for w in weeks],
        series=[
            Series(
                name=SEVERITY_LABELS[severity],
                values=[w.flags_by_severity[severity] for w in weeks],
                css_class=_SEVERITY_CLASSES[severity],
            )
            for severity in (HARD_STOP, WARNING, INFO)
        ],  # fmt: skip
        y_label="flags",
    )


def throughput_chart(weeks: list[WeekFigures]) -> str:
    return line_chart(
        chart_id="chart-throughput",
        title="Prescriptions submitted and made ready per week",
        desc="Two lines over the last weeks; the table beside the chart has the numbers.",
        x_labels=[w.label for w in weeks],
        series=[
            Series(name="Submitted", values=[w.submitted for w in weeks], css_class="chart-series-submitted"),
            Series(name="Ready", values=[w.ready for w in weeks], css_class="chart-series-ready"),
        ],
        y_label="prescriptions",
    )


def _status_context(counts: list[StatusCount]) -> dict[str, Any]:
    total = sum(c.count for c in counts)
    return {
        "status_counts": counts,
        "status_total": total,
        "status_chart": status_chart(counts) if total else "",
        "refreshed_at": timezone.localtime(),
    }


@staff_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_figures()
    turnaround, unit = turnaround_chart(figures.weeks) if figures.has_turnaround else ("", "hours")
    context = {
        **_status_context(figures.status_counts),
        "figures": figures,
        "turnaround_chart": turnaround,
        "turnaround_unit": unit,
        "flags_chart": flags_chart(figures.weeks) if figures.has_flags else "",
        "throughput_chart": throughput_chart(figures.weeks) if figures.has_throughput else "",
        "stock_to_watch": stock_to_watch(),
        "stock_warning_days": expiry_warning_days(),
        "shipping_problems": tracking_problems_count(),
    }
    return render(request, "staff/dashboard.html", context)


@staff_required
@require_GET
def _status_counts_partial(request: HttpRequest) -> HttpResponse:
    response = render(request, "staff/dashboard_status.html", _status_context(status_counts()))
    response["Cache-Control"] = "no-store"
    return response


def status_counts_partial(request: HttpRequest) -> HttpResponse:
    """The counts per status, re-fetched by htmx every 60 seconds: the fragment only."""
    if not request.user.is_authenticated:
        # A session that ended while the page stayed open: back to the dashboard after signing in, not to
        # the bare fragment; and for htmx, a redirect of the whole page rather than a login form swapped in.
        login = redirect_to_login(reverse("dashboard:index"))
        return HttpResponseClientRedirect(login.url) if getattr(request, "htmx", False) else login
    return _status_counts_partial(request)
