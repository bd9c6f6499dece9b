"""Account labels for /metrics and /healthz keep the instance apart and the credentials out."""

from __future__ import annotations

import pytest

from plentysync.web.accounts import account_label


@pytest.mark.parametrize(
    ("account", "shown"),
    [
        ("https://p1.my.plentysystems.com|rest-user", "https://p1.my.plentysystems.com#"),
        ("https://p1.my.plentysystems.com/|rest-user", "https://p1.my.plentysystems.com#"),
        ("https://admin:hunter2@p1.example:8443/api?token=t0k|rest-user", "https://p1.example:8443/api#"),
        ("https://p1.my.plentysystems.com", "https://p1.my.plentysystems.com"),
        ("no url at all|someone", "unknown#"),
    ],
)
def test_label_hides_user_and_url_credentials(account: str, shown: str) -> None:
    label = account_label(account)
    assert label.startswith(shown)
    for secret in ("rest-user", "someone", "admin", "hunter2", "t0k"):
        assert secret not in label


def test_two_users_on_one_instance_stay_apart() -> None:
    a = account_label("https://p1.example|alice")
    b = account_label("https://p1.example|bob")
    assert a != b
    assert a == account_label("https://p1.example|alice")
