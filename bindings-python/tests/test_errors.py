"""Bad inputs at the boundary: wrong types, None, huge strings, invalid UTF-8, surrogates,
deep nesting, unknown fields. Each is a clear exception, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

import civic_router
from civic_router import (
    CivicRouterError,
    ClassifierError,
    ConfigError,
    InputError,
    InternalError,
    IoError,
    Message,
    Router,
)
from conftest import msg


def test_hierarchy_and_codes() -> None:
    for cls, code in [
        (ConfigError, "CONFIG"),
        (InputError, "INPUT"),
        (ClassifierError, "CLASSIFIER"),
        (IoError, "IO"),
        (InternalError, "INTERNAL"),
    ]:
        assert issubclass(cls, CivicRouterError)
        assert issubclass(cls, Exception)
        assert cls.code == code
    assert issubclass(ConfigError, ValueError) and issubclass(InputError, ValueError)
    assert issubclass(IoError, OSError)


@pytest.mark.parametrize("bad", [None, 42, 3.5, "farola", b"farola", ["id", "m1"], object()])
def test_a_message_of_the_wrong_type_is_a_type_error(router: Router, bad: Any) -> None:
    with pytest.raises(TypeError, match="Message or a dict"):
        router.route(bad)
    with pytest.raises(TypeError):
        router.dry_run(bad)


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"channel": "sms", "text": "x"}, "missing field `id`"),
        ({"id": "1", "text": "x"}, "missing field `channel`"),
        ({"id": "1", "channel": "fax", "text": "x"}, "unknown variant `fax`"),
        ({"id": "1", "channel": "sms", "text": "x", "unknown": 1}, "unknown field `unknown`"),
        ({"id": 7, "channel": "sms", "text": "x"}, "id: invalid type: integer `7`, expected a string"),
        ({"id": None, "channel": "sms", "text": "x"}, "id: invalid type: null, expected a string"),
        ({"id": "1", "channel": "sms", "text": None}, "text: invalid type: null"),
        ({"id": "1", "channel": "sms", "text": ["a"]}, "text: invalid type: sequence"),
        ({"id": "1", "channel": "sms", "text": b"\xff\xfe"}, "text: a bytes is not JSON data"),
        ({"id": "1", "channel": "sms", "text": "x", "received_at": "yesterday"}, "received_at: "),
        ({"id": "1", "channel": "sms", "text": "x", "contact": {"fax": "1"}}, "contact.fax: unknown field `fax`"),
        ({"id": "1", "channel": "sms", "text": "x", "location": {"lat": "north"}}, "location.lat: "),
        ({"id": "1", "channel": "sms", "attachments": [{"kind": "image"}, {"url": "x"}]}, "attachments[1]: missing field `kind`"),
    ],
)
def test_a_malformed_message_is_an_input_error(router: Router, bad: dict[str, Any], reason: str) -> None:
    with pytest.raises(InputError) as info:
        router.route(bad)
    assert str(info.value).startswith("not a message:")
    assert reason in str(info.value)
    assert info.value.code == "INPUT"
    with pytest.raises(InputError):
        Message.from_dict(bad)


def test_missing_or_blank_id_is_an_input_error(router: Router) -> None:
    for id_ in ["", "   "]:
        with pytest.raises(InputError, match="non-empty id"):
            router.route(msg("farola", id=id_))


def test_huge_text_is_an_input_error_not_a_crash(router: Router) -> None:
    ten_mb = "a" * (10 * 1024 * 1024)
    with pytest.raises(InputError, match="limit is 65536"):
        router.route(msg(ten_mb, id="big"))
    # also in a caption, and in a batch
    with pytest.raises(InputError, match="limit"):
        router.route(msg("", attachments=[{"kind": "image", "caption": ten_mb}]))
    out = router.route_batch([msg(ten_mb, id="big"), msg("farola")], return_exceptions=True)
    assert isinstance(out[0], InputError) and not isinstance(out[1], BaseException)
    # normalising a huge text is fine (no limit there): it is linear
    assert civic_router.normalize("Farola " * 1_000_000).startswith("farola farola")


def test_invalid_utf8_bytes_are_an_input_error() -> None:
    with pytest.raises(InputError, match="not UTF-8"):
        Message.from_json(b'{"id": "1", "channel": "sms", "text": "\xff\xfe"}')
    with pytest.raises(InputError, match="not UTF-8"):
        Message.from_json(bytearray(b'{"id": "1", "channel": "sms", "text": "\xc3"}'))
    ok = Message.from_json('{"id": "1", "channel": "sms", "text": "farola"}'.encode())
    assert ok.text == "farola"


def test_lone_surrogates_are_an_input_error(router: Router) -> None:
    # what `bytes.decode(errors="surrogateescape")` leaves in a str: not encodable as UTF-8
    text = b"farola \xff".decode("utf-8", errors="surrogateescape")
    with pytest.raises(InputError, match="surrogates not allowed"):
        router.route(msg(text))
    with pytest.raises(InputError, match="surrogates"):
        Message.from_json('{"id": "1", "channel": "sms", "text": "\udcff"}')


def test_malformed_json_is_an_input_error() -> None:
    for bad in ["{", "[]", '{"id": "1", "channel": "sms", "text": "x", "extra": 1}', "null"]:
        with pytest.raises(InputError, match="not a message"):
            Message.from_json(bad)
    with pytest.raises(TypeError):
        Message.from_json(12)  # type: ignore[arg-type]


def test_deeply_nested_metadata_is_refused_not_a_stack_overflow(router: Router) -> None:
    deep: dict[str, Any] = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(InputError, match="deeper than 128"):
        router.route(msg("farola", metadata=deep))
    deep_list: list[Any] = []
    for _ in range(100_000):
        deep_list = [deep_list]
    with pytest.raises(InputError, match="deeper than 128"):
        Message("1", "sms", "x", metadata={"l": deep_list})
    # 100 levels are fine
    ok: dict[str, Any] = {}
    for _ in range(100):
        ok = {"a": ok}
    assert router.route(msg("farola", metadata=ok)).department == "alumbrado"


def test_bad_configuration_arguments() -> None:
    with pytest.raises(TypeError):
        Router.from_toml(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Router.from_toml(b"[router]")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Router.from_file(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot read"):
        Router.from_file("/nonexistent/router.toml")
    with pytest.raises(ConfigError):
        Router.from_toml("x" * (10 * 1024 * 1024))


def test_route_batch_needs_an_iterable(router: Router) -> None:
    with pytest.raises(TypeError):
        router.route_batch(None)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        router.route_batch(5)  # type: ignore[call-overload]
