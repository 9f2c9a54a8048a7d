"""The submit form. It only validates input; the service decides and records."""

from __future__ import annotations

from django import forms

from evaluations.catalogue import SUITE_DESCRIPTIONS, SUITES
from evaluations.models import Precision
from evaluations.validation import clean_ref, clean_repo_id


class SubmissionForm(forms.Form):
    repo_id = forms.CharField(
        label="Hugging Face repo",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "org/model-name", "autofocus": True}),
    )
    ref = forms.CharField(
        label="Revision",
        max_length=255,
        required=False,
        initial="main",
        help_text="A branch, tag or commit SHA. It is pinned to a commit before evaluation.",
    )
    suite = forms.ChoiceField(
        choices=[(key, SUITE_DESCRIPTIONS.get(key, key)) for key in SUITES], initial="smoke"
    )
    precision = forms.ChoiceField(choices=Precision.choices, initial=Precision.AUTO)
    chat_template = forms.BooleanField(label="Apply the model's chat template", required=False)

    def clean_repo_id(self) -> str:
        return clean_repo_id(self.cleaned_data["repo_id"])

    def clean_ref(self) -> str:
        return clean_ref(self.cleaned_data.get("ref", ""))
