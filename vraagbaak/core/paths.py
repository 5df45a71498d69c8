"""File locations, always relative to this package so the working directory never matters."""
from pathlib import Path

CORE_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = CORE_DIR.parent
PROJECT_DIR = PACKAGE_DIR.parent
KNOWLEDGE_BASE_FILE = CORE_DIR / "kennisbank.yml"
# The bot's own messages and the help lines: not a training input, so changing them needs no retraining.
MESSAGES_FILE = CORE_DIR / "berichten.yml"
SOURCE_ARTICLE_FILE = CORE_DIR / "source_article.yml"
DATA_DIR = PROJECT_DIR / "data"
MODELS_DIR = PROJECT_DIR / "models"
REPORTS_DIR = PROJECT_DIR / "reports"
TESTS_DIR = PROJECT_DIR / "tests"
