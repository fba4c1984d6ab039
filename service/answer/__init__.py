from service.answer.offline import answer_offline
from service.answer.rules import answer_by_rules

__all__ = ["answer_by_rules", "answer_offline"]
