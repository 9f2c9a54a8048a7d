"""The site keeps each rankings row's markup against its read-table entry. Entries written
before have none until ``manage.py refresh_read_tables`` writes them again: until then their
rows are rendered on each page, as before."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("evaluations", "0022_ranking_entry_commit"),
    ]

    operations = [
        migrations.CreateModel(
            name="RankingRowMarkup",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="evaluations.rankingentry",
                    ),
                ),
                ("version", models.CharField(max_length=64)),
                (
                    "head",
                    models.TextField(help_text="the cells before the scores: model, size, average"),
                ),
                ("scores", models.TextField(help_text="each benchmark's key and its score cell")),
                (
                    "tail",
                    models.TextField(help_text="the cells after the scores: verdict, compare tick"),
                ),
            ],
        ),
    ]
