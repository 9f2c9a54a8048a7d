"""The site's pages, one module per family of pages; ``leaderboard/urls.py`` maps each address.

- ``rankings``: the home page, the rankings of a suite and the recent runs.
- ``submissions``: the submit form.
- ``runs``: a run's page, its live status and its artifacts.
- ``model_pages``: a model's page and its charts' data.
- ``compare``: two to five models side by side, and claimed against measured on one
  benchmark (a scatter).
- ``discussions``: a flag's public page, its comments, and the lock and re-run a moderator
  starts there.
- ``moderation``: the moderators' queue, their decisions on flags and on models, the audit log.
- ``lineage_bases``: the lineage check's candidate bases, which moderators add and retire.
- ``moderator_actions``: the one answer every moderator action gives (403, 400, redirect).
- ``accounts``: a signed-in user's own page and API tokens.
- ``csv_downloads``: the rankings and a model's evidence as CSV files (the API serves them).

Views only read the request, call a service (writes) or a selector (reads), and render; the
forms they validate live in ``leaderboard/forms.py``.
"""
