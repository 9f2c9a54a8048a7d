"""The rankings' read table keeps its run's commit, so a page of rows is read without joins.
Existing entries take it from their run's revision."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_commits(apps, schema_editor):  # type: ignore[no-untyped-def]
    entry = apps.get_model("evaluations", "RankingEntry")
    run = apps.get_model("evaluations", "EvaluationRun")
    commit = run.objects.filter(pk=OuterRef("run_id")).values("revision__commit_sha")[:1]
    entry.objects.filter(run__revision__isnull=False).update(commit_sha=Subquery(commit))


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0021_endpoint"),
    ]

    operations = [
        migrations.AddField(
            model_name="rankingentry",
            name="commit_sha",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.RunPython(copy_commits, migrations.RunPython.noop),
    ]
