from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Leaderboard site"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from evaluations.services import authors
        from leaderboard import hub_identity

        # allauth's documented hook for "someone just signed in": keep what the hub said.
        user_logged_in.connect(hub_identity.record_sign_in, dispatch_uid="hub-membership")
        # Every authorship check asks the hub again through this when its answer is stale.
        authors.hub_membership_refresher_set(hub_identity.refresh_if_stale)
