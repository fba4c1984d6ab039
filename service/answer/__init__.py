from service.answer.offline import OfflineAnswerer, answer_offline

__all__ = ["OfflineAnswerer", "answer_offline"]
