from service.answer.offline import answer_offline

__all__ = ["answer_offline"]
