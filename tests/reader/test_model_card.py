"""The model card is written from the training record, and keeps the benchmark figures that
were added to it after training."""

import json
from pathlib import Path

from service.reader.model_files import MODEL_DIR
from service.training.model_card import KEPT_FROM, write_model_card


def test_card_quotes_the_record_and_keeps_the_benchmark_section(tmp_path: Path) -> None:
    record = json.loads((MODEL_DIR / "training.json").read_text(encoding="utf-8"))
    (tmp_path / "MODEL_CARD.md").write_text(
        f"# an older card\n\n{KEPT_FROM}\n\n| set | F1 |\n| squad-open | 0.5 |\n",
        encoding="utf-8")
    card = write_model_card(tmp_path, record).read_text(encoding="utf-8")
    assert "an older card" not in card
    assert card.count(KEPT_FROM) == 1 and card.endswith("| squad-open | 0.5 |\n")
    assert record["command"] in card
    for source in record["data"]:
        assert source["sha1"] in card
    assert record["artifact"]["sha1"] in card
    assert f"{record['dev']['f1']:.3f}" in card


def test_shipped_card_matches_the_shipped_model() -> None:
    import hashlib

    record = json.loads((MODEL_DIR / "training.json").read_text(encoding="utf-8"))
    model = (MODEL_DIR / "model.onnx").read_bytes()
    assert hashlib.sha1(model).hexdigest() == record["artifact"]["sha1"]
    card = (MODEL_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert record["artifact"]["sha1"] in card
    calibration = json.loads((MODEL_DIR / "calibration.json").read_text(encoding="utf-8"))
    assert calibration["null_margin"] == record["dev"]["threshold"]
