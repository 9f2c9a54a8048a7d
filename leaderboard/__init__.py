"""The Django project and the public site. Importing it loads the Celery app.

The site calls the domain's services through their modules (``from evaluations.services
import moderation``, then ``moderation.flag_moderate(...)``), so each call says where the
write lives; the types and constants those functions take or raise (``ClaimInput``,
``RateLimited``) are imported by name from the module that defines them.
"""

from leaderboard.celery import app as celery_app

__all__ = ["celery_app"]
