"""Value, ROI and the threshold analysis (a package; see :mod:`.evaluation`)."""

from .evaluation import *  # noqa: F401,F403
from .evaluation import (DEFAULT_BINS, Assumptions, ValueInputs, ValueResult, bin_edges, compute_value,  # noqa: F401
                         curve, evaluate, score_bin, summary_expr, threshold_curve, value_summary)
