"""The evaluation runner: ask a question set, score the answers, write reports, gate."""

from service.evaluation.datasets import EvalDataset, EvalQuestion, load_dataset
from service.evaluation.runner import EvalRun, run_eval

__all__ = ["EvalDataset", "EvalQuestion", "EvalRun", "load_dataset", "run_eval"]
