# expect: clean
import os
from dataclasses import dataclass, field


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = True
    database_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_URL", "sqlite:///notes.db")
    )


settings = Settings()
