"""Every table, imported here so `Base.metadata` (and Alembic) sees all of them."""

from jobmatch.db.base import Base
from jobmatch.db.models.mail import OutboxMessage

__all__ = ["Base", "OutboxMessage"]
