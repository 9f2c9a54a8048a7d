"""The discussion of a flag: comments, and moderators' actions on the thread. Append-only.

A comment keeps the Markdown its poster typed and the sanitised HTML made from it once, when
it was posted (``evaluations.markup``). Nothing here is edited or deleted: a lock is undone
by an unlock, a comment by a later comment.
"""

from __future__ import annotations

from django.db import models

from evaluations.models.claims import Flag
from evaluations.models.runs import EvaluationRun


class Comment(models.Model):
    class Role(models.TextChoices):
        AUTHOR = "author", "author"
        MODERATOR = "moderator", "moderator"
        USER = "user", "signed-in user"

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="comments")
    user_name = models.CharField(max_length=200, help_text="who posted it, as signed in")
    role = models.CharField(
        max_length=10,
        choices=Role.choices,
        help_text="the poster's role on this flag when it was posted",
    )
    internal = models.BooleanField(default=False, help_text="a moderators-only note")
    body = models.TextField(help_text="Markdown, as typed")
    body_html = models.TextField(help_text="rendered and sanitised once, when posted")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["flag", "internal", "created_at"], name="comment_by_flag")]

    def __str__(self) -> str:
        return f"comment by {self.user_name} on flag {self.flag_id}"

    @property
    def is_author_reply(self) -> bool:
        return self.role == self.Role.AUTHOR


class FlagAction(models.Model):
    """A moderator locks or unlocks a flag's discussion, or asks for a re-run of its claim."""

    class Action(models.TextChoices):
        LOCK = "lock", "Discussion locked"
        UNLOCK = "unlock", "Discussion unlocked"
        RERUN = "rerun", "Re-run queued"

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="actions")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=200)
    state_before = models.CharField(max_length=200, blank=True)
    state_after = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(
        EvaluationRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag_actions",
        help_text="the re-run it queued",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} flag {self.flag_id} by {self.actor}"
