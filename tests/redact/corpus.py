"""Realistic fake secrets, each placed where APIs really carry it, and a benign corpus that
must be left alone. Every value is made up (test-style keys, documentation examples)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM_RSA = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi1\n"
           "Zp8SMt6UnZDgKdZP1hWwxvIy0Hd82VDsMF4tXqz\n-----END RSA PRIVATE KEY-----")
PEM_EC = ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n"
          "oAoGCCqGSM49AwEHoUQDQgAEYq5Pb2xY\n-----END EC PRIVATE KEY-----")


# Secrets that only responses carry: the test upstream answers /mirror/<name> with them.
RESPONSE_HEADERS = {
    "set-cookie": ("Set-Cookie", "sid=Zr8Kq2Lm5Np9Tx3Vw7Yb1Cd4Fg6Hj; Path=/; HttpOnly"),
    "location": ("Location", "https://example.com/callback?access_token=aBcD1234eFgH5678iJkL9012"),
}


@dataclass(frozen=True)
class Placed:
    """One secret in one request: method, path, query, headers, body, content type."""

    kind: str
    secret: str
    path: str = "/mirror"
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = "application/json"
    check_bytes: bool = True  # long and distinctive enough to search the raw file for

    def forms(self) -> list[bytes]:
        """The secret as it could appear in a file: plain, URL-encoded, base64."""
        raw = self.secret.encode()
        return [raw, quote(self.secret).encode(), quote_plus(self.secret).encode(),
                base64.b64encode(raw)]


def _json(**values: object) -> str:
    return json.dumps(values)


CORPUS: list[Placed] = [
    Placed("jwt-bearer-header", JWT, headers={"Authorization": f"Bearer {JWT}"}),
    Placed("jwt-json-value", JWT, body=_json(id_token=JWT, token_type="Bearer")),
    Placed("aws-access-key-id", "AKIAIOSFODNN7EXAMPLE",
           body=_json(aws={"key_id": "AKIAIOSFODNN7EXAMPLE", "region": "eu-west-1"})),
    Placed("aws-secret-key-json", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           body=_json(aws={"secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})),
    Placed("aws-secret-key-text", "Zq9tLx2VbN7mQ4wE8rT1yU5iO3pA6sD0fG2hJ4kL",
           body="aws_secret_access_key = Zq9tLx2VbN7mQ4wE8rT1yU5iO3pA6sD0fG2hJ4kL\n",
           content_type="text/plain"),
    Placed("github-token-query", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
           query="access=ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    Placed("github-pat-header", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
           headers={"X-GitHub-Token":
                    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF"}),
    Placed("stripe-secret-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
           headers={"Authorization": "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc"}),
    Placed("stripe-webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           body=_json(endpoint={"url": "https://example.com/hook",
                                "signing": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})),
    Placed("stripe-restricted-key-form", "rk_live_51H8bQ2KZvYfKx1c9Tq3RrLw",
           body="key=rk_live_51H8bQ2KZvYfKx1c9Tq3RrLw&mode=live",
           content_type="application/x-www-form-urlencoded"),
    Placed("slack-token-form", "xoxb-2210535565-2233437568453-eXaMpLe0tOkEn",
           body="token=xoxb-2210535565-2233437568453-eXaMpLe0tOkEn&channel=C024BE91L",
           content_type="application/x-www-form-urlencoded"),
    Placed("slack-webhook-url", "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
           body=_json(alerts="https://hooks.slack.com/services/T00000000/B00000000/"
                             "XXXXXXXXXXXXXXXXXXXXXXXX")),
    Placed("google-api-key-query", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
           query="key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe&q=berlin"),
    Placed("google-oauth-token", "ya29.a0AfH6SMBx3cXq9-Zr_4lT2oW8pQkR7vN1mJ5yH0",
           body=_json(access_token="ya29.a0AfH6SMBx3cXq9-Zr_4lT2oW8pQkR7vN1mJ5yH0",
                      expires_in=3599)),
    Placed("sendgrid-key-header",
           "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",
           headers={"X-Api-Key":
                    "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"}),
    Placed("twilio-basic-auth", "SKa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6:twilioAuthSecret99",
           headers={"Authorization": "Basic " + base64.b64encode(
               b"SKa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6:twilioAuthSecret99").decode()}),
    Placed("npm-token-text", "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
           body="//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n",
           content_type="text/plain"),
    Placed("openai-key-json", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
           body=_json(provider={"name": "openai",
                                "value": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"})),
    Placed("pem-rsa-private-key", "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi1",
           body=_json(certificate={"pem": PEM_RSA})),
    Placed("pem-ec-private-key", "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5",
           body=f"key material follows\n{PEM_EC}\n", content_type="text/plain"),
    Placed("bearer-in-free-text", "Qm9iYnlUYWJsZXNBcmVGdW4xMjM0",
           body="retry with: curl -H 'Authorization: Bearer Qm9iYnlUYWJsZXNBcmVGdW4xMjM0'",
           content_type="text/plain"),
    Placed("card-visa-spaces", "4111 1111 1111 1111",
           body=_json(note="customer card 4111 1111 1111 1111 was declined")),
    Placed("card-mastercard-dashes", "5555-5555-5555-4444",
           body="comment=paid+with+5555-5555-5555-4444&ok=1",
           content_type="application/x-www-form-urlencoded"),
    Placed("card-amex-json", "378282246310005", body=_json(card={"number": "378282246310005"})),
    Placed("iban-free-text", "DE89 3704 0044 0532 0130 00",
           body=_json(memo="refund to DE89 3704 0044 0532 0130 00 please")),
    Placed("password-form", "correct-horse-battery-staple",
           body="username=jane&password=correct-horse-battery-staple",
           content_type="application/x-www-form-urlencoded"),
    Placed("oauth-client-secret", "8Qk2vLx9Tz4mN7pR1sW5yB3cF6hJ0gD",
           body="grant_type=client_credentials&client_id=app-42&client_secret="
                "8Qk2vLx9Tz4mN7pR1sW5yB3cF6hJ0gD",
           content_type="application/x-www-form-urlencoded"),
    Placed("oauth-refresh-token", "1//0gFx7Hm2Kp9Lq4Rs8Tv3Wy6Zb1Cd5Ef",
           body=_json(refresh_token="1//0gFx7Hm2Kp9Lq4Rs8Tv3Wy6Zb1Cd5Ef", scope="read")),
    Placed("session-cookie", "s%3AJhb8Tq3LzR9xWv2Kp7Ym4Nc6.Fd1Gh5",
           headers={"Cookie": "session=s%3AJhb8Tq3LzR9xWv2Kp7Ym4Nc6.Fd1Gh5; theme=dark"}),
    Placed("set-cookie-response", "Zr8Kq2Lm5Np9Tx3Vw7Yb1Cd4Fg6Hj", path="/mirror/set-cookie"),
    Placed("url-userinfo-password", "s3cr3tPassw0rd-db",
           body=_json(database="postgres://admin:s3cr3tPassw0rd-db@db.internal:5432/app")),
    Placed("gitlab-token-header", "glpat-xY9zA8bC7dE6fG5hI4jK",
           headers={"PRIVATE-TOKEN": "glpat-xY9zA8bC7dE6fG5hI4jK"}),
    Placed("digitalocean-token", "dop_v1_" + "a3f9" * 16,
           body=_json(cloud={"do": "dop_v1_" + "a3f9" * 16})),
    Placed("shopify-token-header", "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",
           headers={"X-Shopify-Access-Token": "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"}),
    Placed("mailgun-key-query", "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
           query="api_key=key-3ax6xnjp29jd6fds4gc373sgvjxteol0"),
    Placed("telegram-bot-token-path", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
           path="/mirror/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage"),
    Placed("json-inside-a-string", "hunter2-inside-json",
           body=_json(payload=json.dumps({"password": "hunter2-inside-json"}))),
    Placed("base64-wrapped-token", "ghp_9Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc",
           body=_json(blob=base64.b64encode(
               b"token=ghp_9Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc&user=jane").decode())),
    Placed("server-sent-event", "sk_live_9xR2mQ7vT4kL1pW8zY3nB6cD",
           body='event: config\ndata: {"api_key": "sk_live_9xR2mQ7vT4kL1pW8zY3nB6cD"}\n\n',
           content_type="text/event-stream"),
    Placed("multipart-password", "multipart-Secret-42x",
           body=('--XyZ\r\nContent-Disposition: form-data; name="user"\r\n\r\njane\r\n--XyZ\r\n'
                 'Content-Disposition: form-data; name="password"\r\n\r\nmultipart-Secret-42x'
                 '\r\n--XyZ--\r\n'), content_type="multipart/form-data; boundary=XyZ"),
    Placed("ssn-json", "078-05-1120", body=_json(person={"ssn": "078-05-1120"})),
    Placed("cvc-json", "987", body=_json(card={"cvc": "987", "exp": "12/29"}),
           check_bytes=False),
    Placed("location-header-token", "aBcD1234eFgH5678iJkL9012", path="/mirror/location"),
]

# Values that look like data, not secrets, in the places data goes: none may change.
BENIGN: list[tuple[str, str]] = [
    ("uuid", "123e4567-e89b-12d3-a456-426614174000"),
    ("uuid", "0b8f3ae3-6b7e-4c3e-9a64-8d4a1a4f6f3b"),
    ("commit-sha", "3f786850e387550fdab836ed7e6dc881de23001b"),
    ("commit-sha", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
    ("short-sha", "4f2a9c1"),
    ("timestamp", "2026-11-24T09:00:00Z"),
    ("timestamp", "2026-11-24T09:00:00.123456+01:00"),
    ("epoch-ms", "1732406400000"),
    ("epoch", "1732406400"),
    ("amount", "1234.56"),
    ("amount", "-0.01"),
    ("sku", "SKU-2041-BLK-XL"),
    ("sku", "B07XJ8C8F5"),
    ("etag", 'W/"5e15153d-120f"'),
    ("etag", '"33a64df551425fcc55e4d42a148795d9f25f89d4"'),
    ("order-id", "ord_20261124_000123"),
    ("phone", "+49 30 1234567"),
    ("version", "v2.14.1"),
    ("zip", "10115"),
    ("isbn", "978-3-16-148410-0"),
    ("currency-pair", "EUR/USD"),
    ("semver-hash", "1.2.3+build.5"),
    ("color", "#3f9a2b"),
    ("path", "/v1/transactions/123/events"),
    ("word", "settled"),
]
