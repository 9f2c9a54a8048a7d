"""URLs of the public site and the admin."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from leaderboard.api import api
from leaderboard.views import (
    accounts,
    claims,
    compare,
    discussions,
    endpoints,
    lineage_bases,
    model_pages,
    moderation,
    operations,
    rankings,
    runs,
    submissions,
)

# The admin's own sign-in form has no rate limit: send it to allauth's sign-in, whose
# ACCOUNT_RATE_LIMITS (per address and per account) then guard the admin too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", rankings.home, name="home"),
    path("rankings/parameters/", rankings.parameters, name="rankings-parameters"),
    path("submit/", submissions.submit, name="submit"),
    path("runs/<int:run_id>/", runs.run_detail, name="run-detail"),
    path("runs/<int:run_id>/status.json", runs.run_status, name="run-status"),
    path("runs/<int:run_id>/artifacts/<str:kind>/", runs.artifact_download, name="run-artifact"),
    path("models/<str:owner>/<str:name>/", model_pages.model_detail, name="model-detail"),
    path(
        "models/<str:owner>/<str:name>/history.json",
        model_pages.model_history,
        name="model-history",
    ),
    path(
        "models/<str:owner>/<str:name>/endpoints/",
        endpoints.register,
        name="endpoint-register",
    ),
    path("endpoints/<int:endpoint_id>/retire/", endpoints.retire, name="endpoint-retire"),
    path("endpoints/<int:endpoint_id>/check/", endpoints.check_again, name="endpoint-check"),
    path("claims/<int:claim_id>/correct/", claims.correct, name="claim-correct"),
    path("claims/<int:claim_id>/withdraw/", claims.withdraw, name="claim-withdraw"),
    path("compare/", compare.compare, name="compare"),
    path("scatter/", compare.scatter, name="scatter"),
    path("api/v1/", api.urls),
    path("flags/<int:flag_id>/", discussions.flag_detail, name="flag-detail"),
    path("flags/<int:flag_id>/comments/", discussions.comment, name="flag-comment"),
    path("moderation/", moderation.queue, name="moderation-queue"),
    path("moderation/log/", moderation.audit_log, name="moderation-log"),
    path("moderation/lineage-bases/", lineage_bases.lineage_bases, name="lineage-bases"),
    path("moderation/flags/<int:flag_id>/", moderation.decide, name="flag-decide"),
    path("moderation/flags/<int:flag_id>/lock/", discussions.lock, name="flag-lock"),
    path("moderation/flags/<int:flag_id>/rerun/", discussions.rerun, name="flag-rerun"),
    path("moderation/runs/<int:run_id>/cancel/", runs.run_cancel, name="run-cancel"),
    path("moderation/runs/<int:run_id>/retry/", runs.run_retry, name="run-retry"),
    path(
        "moderation/models/<str:owner>/<str:name>/visibility/",
        moderation.set_visibility,
        name="model-visibility",
    ),
    path("metrics", operations.metrics, name="metrics"),
    path("operations/workers/", operations.workers, name="operations-workers"),
    path("accounts/", include("allauth.urls")),
    path("account/", accounts.account, name="account"),
    path("account/submissions/", accounts.my_submissions, name="my-submissions"),
    path("account/tokens/", accounts.token_create, name="api-token-create"),
    path("account/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="api-token-revoke"),
    path("admin/", admin.site.urls),
]

handler400 = "leaderboard.errors.bad_request"
handler403 = "leaderboard.errors.forbidden"
handler404 = "leaderboard.errors.not_found"
handler500 = "leaderboard.errors.server_error"
handler429 = "leaderboard.errors.too_many_requests"  # allauth's sign-in limit answers with it
