"""Regenerate docs/img/responses.png: the dashboard's chart of the synthetic seminar poll.

    MPLBACKEND=Agg python docs/img/make_responses_png.py
"""

from pathlib import Path

from casekit.widgets import ResponseDashboard, data_dir

LIMIT = 300_000  # bytes: README images stay small

dashboard = ResponseDashboard(
    data_dir() / "responses" / "seminar_poll.csv",
    vignettes=data_dir() / "vignettes" / "duty_to_protect.yaml",
)
dashboard.cases.value = ("DTP-001", "DTP-002", "DTP-003", "DTP-004", "DTP-005")
out = Path(__file__).with_name("responses.png")
out.write_bytes(dashboard.chart.value)
size = out.stat().st_size
assert size < LIMIT, f"{out} is {size} bytes"
print(f"wrote {out} ({size:,} bytes)")
