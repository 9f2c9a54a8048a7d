"""A kept row is one string, its score cells in the suite's order, with their bounds: a page
that shows every column joins nothing. The rows kept before are deleted; ``migrate`` renders
every row again once it has run (``row_markup.refresh_stale``)."""

from django.db import migrations, models


def forget_the_kept_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("leaderboard", "RankingRowMarkup").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0001_ranking_row_markup"),
    ]

    operations = [
        migrations.RunPython(forget_the_kept_rows, migrations.RunPython.noop),
        migrations.RemoveField(model_name="rankingrowmarkup", name="head"),
        migrations.RemoveField(model_name="rankingrowmarkup", name="scores"),
        migrations.RemoveField(model_name="rankingrowmarkup", name="tail"),
        migrations.AddField(
            model_name="rankingrowmarkup",
            name="cells",
            field=models.TextField(
                default="",
                help_text="every cell but the rank: the model, its size and average, a score "
                "cell for each benchmark of the suite in the suite's order, the verdict and the "
                "compare tick",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="rankingrowmarkup",
            name="bounds",
            field=models.TextField(
                default="",
                help_text="the offsets in cells where the head and each score end",
            ),
            preserve_default=False,
        ),
    ]
