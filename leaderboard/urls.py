"""URLs of the public site and the admin."""

from django.contrib import admin
from django.urls import path

from leaderboard import compare_views, views
from leaderboard.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/status.json", views.run_status, name="run-status"),
    path("runs/<int:run_id>/artifacts/<str:kind>/", views.artifact_download, name="run-artifact"),
    path("models/<str:owner>/<str:name>/", views.model_detail, name="model-detail"),
    path("models/<str:owner>/<str:name>/history.json", views.model_history, name="model-history"),
    path("compare/", compare_views.compare, name="compare"),
    path("scatter/", compare_views.scatter, name="scatter"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "leaderboard.errors.bad_request"
handler404 = "leaderboard.errors.not_found"
handler500 = "leaderboard.errors.server_error"
