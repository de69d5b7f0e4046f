"""Imports every domain's tables so the metadata (migrations, tests) sees the whole schema."""

from daodian.accounts import models as accounts_models
from daodian.catalog import models as catalog_models
from daodian.kit.db import Base
from daodian.kit.facts import Fact
from daodian.merchants import models as merchants_models

__all__ = ["Base", "Fact", "accounts_models", "catalog_models", "merchants_models"]
