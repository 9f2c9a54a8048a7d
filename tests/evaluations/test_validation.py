import pytest
from django.core.exceptions import ValidationError

from evaluations.validation import clean_ref, clean_repo_id


@pytest.mark.parametrize(
    "value",
    [
        "meta-llama/Llama-3.1-8B",
        "a/b",
        "Org_1/model.v2-final",
        " demo/tiny ",
        "https://huggingface.co/demo/tiny",
    ],
)
def test_it_accepts_real_repo_ids(value: str) -> None:
    assert "/" in clean_repo_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "noslash",
        "a/b/c",
        "a//b",
        "-a/b",
        "a/b-",
        "a/b..c",
        "a/b--c",
        "a/<script>",
        "a b/c",
        "a/" + "x" * 120,
        "ä/b",
    ],
)
def test_it_refuses_malformed_repo_ids(value: str) -> None:
    with pytest.raises(ValidationError):
        clean_repo_id(value)


def test_an_empty_ref_means_main() -> None:
    assert clean_ref("") == "main"
    assert clean_ref("refs/pr/1") == "refs/pr/1"
    assert clean_ref("a" * 40) == "a" * 40


@pytest.mark.parametrize("value", ["a..b", "has space", "x;rm -rf", "/abs", "end/", "ü"])
def test_it_refuses_malformed_refs(value: str) -> None:
    with pytest.raises(ValidationError):
        clean_ref(value)
