"""Registering a hosted endpoint from the model's page: who may, which addresses, and the key
that is kept encrypted and never shown back.

Personas: Ada, an author of demo-org/tiny (the hub said so at her sign-in); Mona, a moderator;
Otto, signed in, an outsider who should have no access.
"""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from evaluations.endpoint_secrets import secret_decrypt
from evaluations.models import HostedEndpoint
from evaluations.services import endpoints
from tests.factories import finished_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

KEY = "sk-test-0123456789abcdef-never-shown"
PAGE = "/models/demo-org/tiny/"
REGISTER = "/models/demo-org/tiny/endpoints/"


@pytest.fixture(autouse=True)
def model(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ENDPOINT_ALLOW_PRIVATE_ADDRESSES = True  # the form posts 127.0.0.1 here
    sent: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        endpoints.current_app, "send_task", lambda name, args, queue: sent.append((name, args))
    )
    finished_run("demo-org/tiny")


def signed_in(username: str, **kwargs: object) -> Client:
    client = Client()
    client.force_login(person(username, **kwargs))
    return client


def form(**overrides: str) -> dict[str, str]:
    return {
        "base_url": "http://127.0.0.1:8000/v1/",
        "served_model": "tiny",
        "api_kind": "completions",
        "secret": KEY,
        **overrides,
    }


def test_an_author_registers_an_endpoint_whose_key_is_stored_encrypted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ada = signed_in("ada", hub="ada", orgs=("demo-org",))
    assert 'action="/models/demo-org/tiny/endpoints/"' in ada.get(PAGE).content.decode()
    caplog.set_level(logging.DEBUG)

    response = ada.post(REGISTER, form())

    assert response.status_code == 302 and response["Location"].endswith("#signal-endpoint")
    endpoint = HostedEndpoint.objects.get()
    assert endpoint.base_url == "http://127.0.0.1:8000/v1" and endpoint.registered_as == "author"
    assert KEY not in endpoint.secret_encrypted and secret_decrypt(endpoint.secret_encrypted) == KEY
    page = ada.get(PAGE).content.decode()
    assert "API key stored encrypted, not shown" in page and KEY not in page
    api = ada.get("/api/v1/models/demo-org/tiny/endpoints").content.decode()
    assert '"has_secret": true' in api and KEY not in api
    assert KEY not in caplog.text


def test_a_moderator_may_register_one_too() -> None:
    mona = signed_in("mona", moderator=True)
    assert mona.post(REGISTER, form(secret="")).status_code == 302
    endpoint = HostedEndpoint.objects.get()
    assert endpoint.registered_as == "moderator" and not endpoint.has_secret


def test_an_outsider_cannot_register_and_sees_no_form() -> None:
    otto = signed_in("otto", hub="otto")
    assert "Register a hosted endpoint" not in otto.get(PAGE).content.decode()
    assert otto.post(REGISTER, form()).status_code == 403
    assert Client().post(REGISTER, form()).status_code == 302  # to the sign-in page
    assert not HostedEndpoint.objects.exists()


@pytest.mark.parametrize(
    "base_url, reason",
    [
        ("ftp://127.0.0.1/v1", "http(s)://host"),
        ("http://user:pw@127.0.0.1/v1", "Leave credentials out"),
        ("http://127.0.0.1/v1?x=1", "no query string"),
        ("http://no-such-host.invalid/v1", "cannot be resolved"),
        ("not a url", "http(s)://host"),
    ],
)
def test_a_bad_address_is_refused_with_the_reason(base_url: str, reason: str) -> None:
    ada = signed_in("ada", hub="ada", orgs=("demo-org",))
    response = ada.post(REGISTER, form(base_url=base_url))
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not HostedEndpoint.objects.exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]"])
def test_private_and_loopback_addresses_are_refused_unless_allowed(settings, host: str) -> None:
    settings.ENDPOINT_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError, match="private or local address"):
        endpoints.clean_endpoint_url(f"http://{host}:8000/v1")
    assert endpoints.clean_endpoint_url(f"http://{host}:8000/v1/", allow_private=True).endswith(
        "/v1"
    )


def test_other_bad_input_answers_400_never_500() -> None:
    ada = signed_in("ada", hub="ada", orgs=("demo-org",))
    for data in (
        form(api_kind="grpc"),
        form(served_model=""),
        form(secret="line\nbreak"),
        {},
    ):
        assert ada.post(REGISTER, data).status_code == 400
    assert ada.post("/models/demo-org/nothing-here/endpoints/", form()).status_code == 404
    assert not HostedEndpoint.objects.exists()


def test_retiring_stops_checks_and_keeps_the_record() -> None:
    ada = signed_in("ada", hub="ada", orgs=("demo-org",))
    ada.post(REGISTER, form())
    endpoint = HostedEndpoint.objects.get()
    otto = signed_in("otto", hub="otto")
    assert otto.post(f"/endpoints/{endpoint.id}/retire/").status_code == 403

    assert ada.post(f"/endpoints/{endpoint.id}/retire/").status_code == 302

    endpoint.refresh_from_db()
    assert endpoint.retired_at is not None and endpoint.retired_by == "ada"
    assert ada.post(f"/endpoints/{endpoint.id}/check/").status_code == 400


def test_keys_can_be_rotated_and_a_lost_key_is_told(settings) -> None:
    from cryptography.fernet import Fernet

    from evaluations.endpoint_secrets import SecretUnreadable, secret_encrypt

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENDPOINT_SECRETS_KEYS = [old]
    stored = secret_encrypt(KEY)
    settings.ENDPOINT_SECRETS_KEYS = [new, old]  # the new key encrypts, both decrypt
    assert secret_decrypt(stored) == KEY and secret_decrypt(secret_encrypt(KEY)) == KEY
    settings.ENDPOINT_SECRETS_KEYS = [new]
    with pytest.raises(SecretUnreadable):
        secret_decrypt(stored)


def test_the_api_registers_an_endpoint_and_never_returns_its_key() -> None:
    url = "/api/v1/models/demo-org/tiny/endpoints"
    payload = {"base_url": "http://127.0.0.1:8000/v1", "served_model": "tiny", "secret": KEY}
    ada = signed_in("ada", hub="ada", orgs=("demo-org",))

    response = ada.post(url, payload, content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()[0]["has_secret"] is True and KEY not in response.content.decode()
    bad = ada.post(url, {**payload, "base_url": "gopher://x"}, content_type="application/json")
    assert bad.status_code == 400
    otto = signed_in("otto", hub="otto")
    assert otto.post(url, payload, content_type="application/json").status_code == 403
    assert Client().post(url, payload, content_type="application/json").status_code == 401
    assert HostedEndpoint.objects.count() == 1
