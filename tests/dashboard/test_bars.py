"""The batch page's case rows and bars are pure functions of the batch's JSON: the order
(regressions first), the sentence that stands in for each picture, and what is drawn."""

from __future__ import annotations

import re
from typing import Any

from scipy import stats

from launchgate.dashboard import bars


def figure(case_id: str, passed: int, items: int = 50) -> dict[str, Any]:
    ci = stats.binomtest(passed, items).proportion_ci(confidence_level=0.95, method="wilson")
    return {
        "case_id": case_id,
        "case": f"has {case_id}",
        "threshold": 0.5,
        "items": items,
        "passed": passed,
        "errors": 0,
        "pass_rate": round(passed / items, 4),
        "interval": [round(ci.low, 4), round(ci.high, 4)],
    }


def compared(
    case_id: str, now: int | None, then: int | None, classification: str, q: float | None = None
) -> dict[str, Any]:
    def side(passed: int | None) -> dict[str, Any] | None:
        return None if passed is None else {"passed": passed, "items": 50, "pass_rate": passed / 50}

    return {
        "case_id": case_id,
        "case": f"has {case_id}",
        "current": side(now),
        "baseline": side(then),
        "difference": None if now is None or then is None else (now - then) / 50,
        "interval": None if q is None else [-0.3, -0.05],
        "p_value": q,
        "q_value": q,
        "test": None if q is None else "mcnemar",
        "pairs": 0 if q is None else 50,
        "classification": classification,
    }


def comparison(*cases: dict[str, Any]) -> dict[str, Any]:
    return {
        "baseline_id": "bat_" + "0" * 24,
        "current_id": "bat_" + "1" * 24,
        "false_discovery_rate": 0.05,
        "regressed_cases": sum(c["classification"] == "regressed" for c in cases),
        "improved_cases": sum(c["classification"] == "improved" for c in cases),
        "cases": list(cases),
    }


def test_without_a_baseline_the_rows_keep_the_suite_order() -> None:
    rows = bars.case_rows([figure("alpha", 45), figure("beta", 40)], None)
    assert [r.case for r in rows] == ["has alpha", "has beta"]
    assert rows[0].classification is None and rows[0].baseline is None and rows[0].mark == ""
    assert bars.summary(rows[0]) == "has alpha: 90% (45/50, 95% interval 78.6–95.7%)"
    picture = str(bars.bars_svg(rows[0]))
    assert picture.count('class="bar ') == 1 and "baseline" not in picture


def test_regressions_come_first_the_most_significant_first() -> None:
    rows = bars.case_rows(
        [figure("a", 49), figure("b", 30), figure("c", 40), figure("d", 50)],
        comparison(
            compared("a", 49, 40, "improved", 0.01),
            compared("b", 30, 48, "regressed", 0.001),
            compared("c", 40, 48, "regressed", 0.02),
            compared("d", 50, 50, "unchanged", 1.0),
        ),
    )
    assert [(r.case_id, r.mark) for r in rows] == [("b", "▼"), ("c", "▼"), ("a", "▲"), ("d", "")]


def test_the_baselines_interval_is_wilsons_like_the_batchs_own() -> None:
    (row,) = bars.case_rows(
        [figure("b", 30)], comparison(compared("b", 30, 48, "regressed", 0.001))
    )
    assert row.current is not None and row.baseline is not None
    assert list(row.current.interval) == figure("b", 30)["interval"]
    assert list(row.baseline.interval) == figure("b", 48)["interval"]
    assert bars.summary(row) == (
        "has b: now 60% (30/50, 95% interval 46.2–72.4%); "
        "baseline 96% (48/50, 95% interval 86.5–98.9%); regressed"
    )


def test_the_picture_draws_both_bars_and_says_the_sentence() -> None:
    (row,) = bars.case_rows(
        [figure("b", 30)], comparison(compared("b", 30, 48, "regressed", 0.001))
    )
    picture = str(bars.bars_svg(row))
    assert 'role="img"' in picture and f'aria-label="{bars.summary(row)}"' in picture
    assert f"<title>{bars.summary(row)}</title>" in picture
    assert picture.count('class="bar ') == 2 and picture.count('class="interval ') == 2
    now = re.search(r'class="bar now" x="(\d+)" y="\d+" width="([\d.]+)"', picture)
    base = re.search(r'class="bar baseline" x="(\d+)" y="\d+" width="([\d.]+)"', picture)
    assert now and base
    span = bars.WIDTH - bars.LEFT - bars.RIGHT
    assert float(now[2]) == round(span * 0.6, 1) and float(base[2]) == round(span * 0.96, 1)
    assert f'stroke="{bars.COLOURS["regressed"]}"' in picture


def test_cases_on_one_side_only_are_new_or_removed() -> None:
    rows = bars.case_rows(
        [figure("n", 20)],
        comparison(compared("n", 20, None, "new"), compared("r", None, 9, "removed")),
    )
    assert [bars.summary(r) for r in rows] == [
        "has n: now 40% (20/50, 95% interval 27.6–53.8%); no baseline; new",
        "has r: not in this batch; baseline 18% (9/50, 95% interval 9.77–30.8%); removed",
    ]
    assert str(bars.bars_svg(rows[1])).count('class="bar ') == 1


def test_numbers_in_words() -> None:
    assert (bars.percent(0.6), bars.percent(0.4614), bars.percent(None)) == ("60%", "46.1%", "—")
    assert (bars.p_text(0.0078125), bars.p_text(0.5), bars.p_text(3e-6)) == (
        "0.0078",
        "0.5",
        "< 0.0001",
    )
    assert (bars.points(-0.16), bars.points(0.04), bars.points(None)) == ("−16 pts", "+4 pts", "—")
