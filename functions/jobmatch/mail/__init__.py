"""The one way the app sends email: `Mailer.send`."""

from jobmatch.mail.outbox import EmailMessage, Mailer

__all__ = ["EmailMessage", "Mailer"]
