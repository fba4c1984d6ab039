"""Trust figures beside an eval report: a reliability diagram and a risk-coverage curve.

matplotlib is imported only here, when a report is written, and drawn off screen.
"""

from __future__ import annotations

from pathlib import Path

from service.evaluation import trust
from service.evaluation.results import QuestionResult


def write_trust_plots(results: list[QuestionResult], directory: Path, stem: str) -> list[Path]:
    """``STEM-reliability.png`` and ``STEM-risk-coverage.png``; none without a scored reply."""
    items = trust.judged(results)
    if not items:
        return []
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    paths = [directory / f"{stem}-reliability.png", directory / f"{stem}-risk-coverage.png"]
    figure, axes = pyplot.subplots(figsize=(4.5, 4.5))
    table = [b for b in trust.reliability(items) if b.answers]
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    axes.bar([(b.low + b.high) / 2 for b in table], [b.share_right or 0.0 for b in table],
             width=0.09, alpha=0.7, label="share right")
    axes.plot([b.mean_confidence for b in table], [b.share_right for b in table], "o-",
              color="black", label="mean confidence")
    for b in table:
        axes.annotate(str(b.answers), ((b.low + b.high) / 2, (b.share_right or 0.0) + 0.02),
                      ha="center", fontsize=7)
    axes.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="confidence of the answers given",
             ylabel="share right",
             title=f"Reliability (ECE {trust.expected_calibration_error(items)})")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(paths[0], dpi=110)
    pyplot.close(figure)

    figure, axes = pyplot.subplots(figsize=(4.5, 4.5))
    curve = trust.risk_coverage(items)
    axes.plot([c for c, _ in curve], [r for _, r in curve], color="black")
    answered = trust.coverage(items)
    if answered:
        axes.axvline(answered, linestyle="--", color="grey", label=f"answered ({answered:.2f})")
        axes.legend(loc="upper left", fontsize=8)
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="coverage (most confident first)",
             ylabel="risk (share not right)",
             title=f"Risk-coverage (area {trust.risk_coverage_area(items)})")
    figure.tight_layout()
    figure.savefig(paths[1], dpi=110)
    pyplot.close(figure)
    return paths
