"""One settings object for the whole process, read from `DAODIAN_*` environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"
PROJECT_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAODIAN_", extra="ignore")

    env: Literal["dev", "test", "prod"] = Field("dev", description="Deployment kind; prod refuses dev defaults.")
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'daodian.sqlite3'}",
        description="SQLAlchemy URL: an SQLite file (default) or postgresql+psycopg://…",
    )
    host: str = Field("127.0.0.1", description="Address `daodian serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `daodian serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Server processes for `daodian serve`.")
    secret_key: str = Field(DEV_SECRET, description="Signs CSRF tokens; must be set outside dev.")
    session_days: int = Field(30, ge=1, le=365, description="Lifetime of login sessions and API tokens.")
    default_locale: Literal["zh_CN", "en"] = Field("zh_CN", description="Language of pages before a user picks one.")
    page_size_max: int = Field(100, ge=1, le=1000, description="Upper bound on `limit` for list endpoints.")
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, description="How long SQLite waits for a lock.")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set behind HTTPS).")

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_dev(self) -> "Settings":
        if self.env == "prod" and self.secret_key == DEV_SECRET:
            raise ValueError("DAODIAN_SECRET_KEY must be set when DAODIAN_ENV=prod")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
