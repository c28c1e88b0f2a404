"""The report's appendix: how to read the numbers, in plain language.

What each metric shown means and how the ranges, the comparisons, drift, money and the
recommendations are worked out, in words a reader without the code can follow: no
function or column names, no command-line options (the README and ``analytics/docs``
explain usage). A metric without a plain definition here shows its label alone.
"""

from __future__ import annotations

from analytics.metrics import METRICS

#: What each metric means, for people.
PLAIN: dict[str, str] = {
    "accuracy": "The share of cases with a known outcome where the model's decision was right.",
    "precision": "Of the cases the model flagged, the share that really were positive.",
    "recall": "Of the cases that really were positive, the share the model flagged.",
    "f1": "A single score that balances precision and recall (high only when both are high).",
    "roc_auc": ("How well the scores rank cases: the chance that a randomly chosen positive case gets a "
                "higher score than a randomly chosen negative one. 0.5 is guessing, 1 is perfect."),
    "pr_auc": "How precise the model stays as it flags more and more cases (average precision).",
    "log_loss": "How far the predicted probabilities are from what happened, punishing confident mistakes.",
    "brier": "The average squared gap between the predicted probability and what happened (lower is better).",
    "positive_rate": "The share of cases the model flagged.",
    "base_rate": "The share of cases that really were positive.",
    "macro_f1": "The F1 score of each class, averaged so that every class counts the same.",
    "weighted_f1": "The F1 score of each class, averaged in proportion to how common the class is.",
    "macro_precision": "Precision of each class, averaged so that every class counts the same.",
    "macro_recall": "Recall of each class, averaged so that every class counts the same.",
    "mae": "The average size of the error, in the unit of the prediction (for example minutes).",
    "rmse": "Like the average error, but large errors weigh more.",
    "mape": "The average error as a share of the true value.",
    "r2": "How much of the variation in the true values the model explains (1 is all of it).",
    "bias": "The average of prediction minus truth: above zero the model over-estimates, below it under-estimates.",
    "volume": "The number of predictions.",
    "label_coverage": ("The share of predictions whose outcome is known so far. Outcomes arrive later than "
                       "predictions, so the newest weeks are always lower: that is expected."),
    "latency_p50": "The time within which half of the answers were given.",
    "latency_p95": "The time within which 95% of the answers were given.",
    "latency_p99": "The time within which 99% of the answers were given.",
}

#: How the numbers are worked out: (heading, paragraph).
METHODS: tuple[tuple[str, str], ...] = (
    ("Ranges", "Each figure comes with a range (a 95% interval): the values that are consistent with the data. "
               "Narrow ranges mean many cases; wide ranges mean few. Ranges for shares allow for the number of "
               "cases; for scores built from many classes they come from re-drawing the cases many times."),
    ("Comparing versions", "Two versions are compared on the same footing: on the same requests when both scored "
                           "them, otherwise only on the days both were live, so a newer version is not judged on "
                           "easier or harder weeks. A difference is called unlikely to be chance when such a gap "
                           "would appear by luck less than 5 times in 100, and very unlikely when less than once "
                           "in 1,000; the exact figures are in the footnotes of the first page. A version that wins "
                           "overall but clearly loses on one group of customers is not recommended."),
    ("Changes in the data", "The inputs and the predictions of each week are compared with a reference period at "
                            "the start of the data. A change is flagged when the share of cases in each range of "
                            "values has moved clearly, or when the typical value has moved by a large part of its "
                            "usual spread. The start of a change is the first week of the unbroken run of flagged "
                            "weeks that continues to the newest one."),
    ("Money", "Each decision is valued with the amounts set for the business (what a caught case earns, what a "
              "wrong decision costs), against the way the business would decide without the model, minus the "
              "cost of running it. Money is counted only for cases whose outcome is known; the newest weeks are "
              "therefore incomplete. The monthly gain of a switch is the difference in value per decision "
              "between the two versions on the same footing, times the number of decisions a month."),
    ("Recommendations", "Pull: the model's quality fell far below its reference level. Switch: another version is "
                        "clearly better on the same footing. Threshold: another cut-off for the decisions would "
                        "have earned noticeably more (at least 1% of the value). Keep watching: outcomes are "
                        "still arriving, or a warning calls for a look but not yet for action."),
    ("Estimates before outcomes arrive", "While outcomes are still missing, each metric is also estimated "
                                         "from the model's own confidence, calibrated on the outcomes of the "
                                         "reference period: the expected number of right and wrong decisions "
                                         "follows from the scores. The estimate comes with a 95% range, and is "
                                         "marked as not trusted when the reference had too few outcomes, when "
                                         "too many scores fall outside the reference's usual range, or when the "
                                         "estimates of recent weeks whose outcomes are now known missed them."),
    ("Health checks", "Quality is judged on the newest week with enough known outcomes and compared with the "
                      "reference period; speed and changes in the data are judged on the newest week."),
)


def appendix(metrics_used) -> dict:
    """The appendix section: the metrics shown, defined in plain words, and :data:`METHODS`."""
    defs = [METRICS[n] for n in dict.fromkeys(metrics_used) if n in METRICS]
    return {"template": "methods.html.j2", "title": "Method notes",
            "metrics": [{"label": d.label, "name": d.name, "description": PLAIN.get(d.name, "")} for d in defs],
            "methods": [{"heading": h, "text": t} for h, t in METHODS], "docs": [], "empty": None}
