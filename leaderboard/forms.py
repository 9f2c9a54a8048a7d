"""Every form of the site. Forms only validate input; the services decide and record.

The submit form and its claim rows; the moderators' decisions (on a flag, on a model's
visibility, a lock, a re-run); a comment on a flag's discussion.
"""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from evaluations.catalogue import SUITE_DESCRIPTIONS, SUITES, Benchmark, suite_benchmarks
from evaluations.markup import MAX_BODY
from evaluations.models import ApiKind, Precision, Unit
from evaluations.services.claims import ClaimInput
from evaluations.services.permissions import MAX_REASON
from evaluations.services.submissions import SubmissionSetting
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

    def setting(self) -> SubmissionSetting:
        """The submitter's choices besides the repo, once the form is valid."""
        data = self.cleaned_data
        return SubmissionSetting(
            ref=data["ref"],
            suite=data["suite"],
            precision=data["precision"],
            chat_template=data["chat_template"],
        )


class ClaimForm(forms.Form):
    """One benchmark's self-reported score, optional. Rows left empty claim nothing."""

    value = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    unit = forms.ChoiceField(
        choices=[(Unit.PERCENT, "%"), (Unit.FRACTION, "fraction")],
        initial=Unit.PERCENT,
        required=False,
    )
    shots = forms.IntegerField(required=False, min_value=0, max_value=100)
    chat_template = forms.BooleanField(required=False)
    chain_of_thought = forms.BooleanField(required=False)
    stderr = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=4,
        label="± standard error",
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    source_url = forms.URLField(required=False, max_length=500, assume_scheme="https")

    def __init__(self, data: QueryDict | None, *, benchmark: Benchmark, prefix: str) -> None:
        super().__init__(data, prefix=prefix)
        self.benchmark = benchmark
        self.fields["shots"].initial = benchmark.shots

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data
        value, unit = data.get("value"), data.get("unit")
        if value is not None and unit == Unit.FRACTION and value > 1:
            self.add_error("value", "A fraction is between 0 and 1; choose % for percent.")
        if value is not None and data.get("shots") is None:
            self.add_error("shots", "Say how many shots the claimed score used.")
        return data

    def to_input(self) -> ClaimInput | None:
        data = self.cleaned_data
        if data.get("value") is None:
            return None
        stderr = data.get("stderr")
        return ClaimInput(
            benchmark=self.benchmark.key,
            value=float(data["value"]),
            unit=data.get("unit") or Unit.PERCENT,
            shots=data["shots"],
            chat_template=data["chat_template"],
            chain_of_thought=data["chain_of_thought"],
            typed_value=str(data["value"]),
            stated_stderr=None if stderr is None else float(stderr),
            source_url=data.get("source_url") or "",
            unit_reason="chosen by the submitter",
        )


def claim_forms(suite: str, data: QueryDict | None = None) -> list[ClaimForm]:
    return [
        ClaimForm(data, benchmark=benchmark, prefix=f"claim-{benchmark.key}")
        for benchmark in suite_benchmarks(suite)
    ]


# --- Moderators' decisions ------------------------------------------------------------


class FlagDecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("confirm", "Confirm the flag"),
            ("dismiss", "Dismiss the flag"),
            ("ask-author", "Ask the author to respond"),
        ],
        error_messages={
            "required": "Choose an action.",
            "invalid_choice": "Choose an action: confirm, dismiss or ask the author.",
        },
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        help_text="Shown publicly with the decision.",
        error_messages={"required": "Give a reason."},
    )


class VisibilityForm(forms.Form):
    hidden = forms.BooleanField(required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        error_messages={"required": "Give a reason."},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON, error_messages={"required": "Give a reason."})


class LockForm(ReasonForm):
    locked = forms.BooleanField(required=False)


# --- A flag's discussion ---------------------------------------------------------------


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Write something before posting.",
            "max_length": f"Keep a comment under {MAX_BODY:,} characters.",
        },
        help_text="Markdown: **bold**, *italic*, `code`, [links](https://…), lists, quotes.",
    )
    internal = forms.BooleanField(
        required=False, label="Internal note (only moderators will see it)"
    )


# --- Correcting or withdrawing a claim -------------------------------------------------


class ClaimCorrectionForm(forms.Form):
    value = forms.DecimalField(
        min_value=0,
        max_value=100,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
        error_messages={"required": "Give the corrected value."},
    )
    unit = forms.ChoiceField(
        choices=[(Unit.PERCENT, "%"), (Unit.FRACTION, "fraction")], initial=Unit.PERCENT
    )
    stderr = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=4,
        label="± standard error",
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    note = forms.CharField(
        required=False, max_length=500, label="Why (shown with the claim's history)"
    )

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data
        value = data.get("value")
        if value is not None and data.get("unit") == Unit.FRACTION and value > 1:
            self.add_error("value", "A fraction is between 0 and 1; choose % for percent.")
        return data


class ClaimWithdrawalForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=500, label="Why (shown with the claim's history)"
    )


class LineageBaseForm(ReasonForm):
    """A moderator adds a base to the lineage check's candidates, or retires one."""

    hub_id = forms.CharField(max_length=200, error_messages={"required": "Name the base."})
    action = forms.ChoiceField(choices=[("add", "Add"), ("retire", "Retire")])


class EndpointRegistrationForm(forms.Form):
    """A hosted endpoint said to serve the model. The services check the address (and refuse
    private ones) and who may register it; the key is never rendered back."""

    base_url = forms.CharField(
        label="API base URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://api.example.com/v1"}),
        help_text="The OpenAI-compatible API root, up to and including /v1.",
    )
    served_model = forms.CharField(
        label="Model name at the API", max_length=200, help_text="What the API calls the model."
    )
    api_kind = forms.ChoiceField(label="API", choices=ApiKind.choices, initial=ApiKind.COMPLETIONS)
    secret = forms.CharField(
        label="API key (optional)",
        max_length=4000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; never shown again; sent only to this endpoint.",
    )
