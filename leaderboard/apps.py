from django.apps import AppConfig
from django.contrib.staticfiles import apps as staticfiles


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard site"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from evaluations.services.read_models import ranking_entries_written
        from leaderboard import hub_identity, row_markup

        # allauth's documented hook for "someone just signed in": keep what the hub said.
        user_logged_in.connect(hub_identity.record_sign_in, dispatch_uid="hub-membership")
        # Each rankings row is rendered once, with its read-table entry; a deployment that
        # changed the markup renders the rows again when it migrates.
        ranking_entries_written.connect(row_markup.store, dispatch_uid="ranking-row-markup")
        post_migrate.connect(row_markup.refresh_stale, sender=self, dispatch_uid="stale-rows")


class StaticFilesConfig(staticfiles.StaticFilesConfig):
    """`collectstatic` leaves out two bundles no page loads: plotly's Jupyter widget bundle
    (5 MB; the scatter page takes plotly.min.js from the same package folder) and django-ninja's
    Redoc (4 MB with its source map; the API docs page is its Swagger UI). Every collected file
    is hashed and compressed twice (gzip and brotli, as named and as hashed), which is slow.
    tests/leaderboard/test_static.py fetches every asset the pages name."""

    default = False  # LeaderboardConfig stays this module's config for the "leaderboard" app
    ignore_patterns = [
        *staticfiles.StaticFilesConfig.ignore_patterns,
        "widgetbundle.js",
        "redoc.standalone.js*",
    ]
