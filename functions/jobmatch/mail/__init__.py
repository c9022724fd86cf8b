"""The one way the app sends email: `send_email`."""

from jobmatch.mail.outbox import EmailMessage, send_email

__all__ = ["EmailMessage", "send_email"]
