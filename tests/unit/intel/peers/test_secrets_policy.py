"""Peer secrets sealed at rest, the retry policy, collection URLs and error sentences."""

from __future__ import annotations

import pytest
import requests
from taxii2client.exceptions import AccessError, TAXIIServiceException

from civicshield.core.errors import ConfigError, Invalid
from civicshield.core.settings import Settings
from civicshield.intel import peers
from civicshield.intel.peers.client import PeerAuth, explain
from tests.conftest import make_settings


def _settings(tmp_path: object, key: str = "test-secret-key-0123456789abcdef") -> Settings:
    return make_settings(tmp_path, secret_key=key)  # type: ignore[arg-type]


def test_secret_round_trip_and_never_in_clear(tmp_path: object) -> None:
    s = _settings(tmp_path)
    sealed = peers.seal_secret(s, "hunter2-token", peer="Villa Norte")
    assert sealed.startswith("v1:") and "hunter2" not in sealed
    assert peers.seal_secret(s, "hunter2-token", peer="Villa Norte") != sealed  # fresh nonce
    assert peers.open_secret(s, sealed, peer="Villa Norte") == "hunter2-token"
    assert peers.seal_secret(s, "", peer="x") == "" and peers.open_secret(s, "", peer="x") == ""


def test_secret_bound_to_peer_and_instance_key(tmp_path: object) -> None:
    sealed = peers.seal_secret(_settings(tmp_path), "pw", peer="Villa Norte")
    with pytest.raises(ConfigError, match="cannot be opened"):
        peers.open_secret(_settings(tmp_path), sealed, peer="Other City")
    other = _settings(tmp_path, key="another-secret-key-0123456789abcdef")
    with pytest.raises(ConfigError, match="instance secret"):
        peers.open_secret(other, sealed, peer="Villa Norte")
    with pytest.raises(ConfigError, match="not in a known format"):
        peers.open_secret(other, "plain", peer="Villa Norte")


def test_auth_repr_hides_the_secret() -> None:
    assert "s3cret" not in repr(PeerAuth(kind="basic", username="u", secret="s3cret"))


def test_retry_policy_follows_settings(tmp_path: object) -> None:
    s = make_settings(tmp_path, intel_pull_retries=3)  # type: ignore[arg-type]
    retry = peers.retry_policy(s, backoff_factor=0.5)
    assert (retry.total, retry.connect, retry.read, retry.status) == (3, 3, 3, 3)
    assert set(retry.status_forcelist or ()) == {429, 500, 502, 503, 504}
    assert retry.respect_retry_after_header and not retry.raise_on_status
    assert "POST" in (retry.allowed_methods or ()) and retry.backoff_factor == 0.5
    # back-off grows exponentially between tries
    after_two = retry.increment("GET", "/x").increment("GET", "/x")
    assert after_two.get_backoff_time() == 1.0
    assert after_two.increment("GET", "/x").get_backoff_time() == 2.0
    assert peers.retry_policy(make_settings(tmp_path, intel_pull_retries=0)).total == 0  # type: ignore[arg-type]


def test_collection_urls() -> None:
    root, cid = peers.split_collection_url("https://peer.example/taxii2/trust/collections/abc-1/")
    assert (root, cid) == ("https://peer.example/taxii2/trust/", "abc-1")
    assert peers.collection_url(root, cid) == "https://peer.example/taxii2/trust/collections/abc-1/"
    with pytest.raises(Invalid, match="not a collection URL"):
        peers.split_collection_url("https://peer.example/taxii2/")


def _http_error(code: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code, response.url, response.reason = code, "https://p/x/", "r"
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_http_error(401), "401 Unauthorized"),
        (_http_error(403), "403 Forbidden"),
        (_http_error(503), "503 server error, still failing after our retries"),
        (requests.ConnectionError("refused"), "unreachable"),
        (requests.ReadTimeout("slow"), "no answer in time"),
        (
            TAXIIServiceException("Unexpected Response. Got Content-Type: 'text/html'"),
            "not a TAXII",
        ),
        (AccessError("Collection 'c' does not allow writing."), "does not allow writing"),
    ],
)
def test_errors_are_explained(exc: BaseException, expected: str) -> None:
    assert expected in explain(exc, "https://p/x/")
