"""Where the shipped reader model lives inside the package."""

from pathlib import Path

MODEL_DIR = Path(__file__).parent / "model"
TOKENIZER_FILE = MODEL_DIR / "tokenizer.json"
