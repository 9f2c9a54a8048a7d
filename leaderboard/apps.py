from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard site"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from leaderboard import hub_identity

        # allauth's documented hook for "someone just signed in": keep what the hub said.
        user_logged_in.connect(hub_identity.record_sign_in, dispatch_uid="hub-membership")
