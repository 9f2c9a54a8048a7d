"""The Django project and the public site. Importing it loads the Celery app."""

from leaderboard.celery import app as celery_app

__all__ = ["celery_app"]
