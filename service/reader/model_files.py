"""Where the shipped reader model lives inside the package."""

from pathlib import Path

MODEL_DIR = Path(__file__).parent / "model"
MODEL_FILE = MODEL_DIR / "model.onnx"
TOKENIZER_FILE = MODEL_DIR / "tokenizer.json"
