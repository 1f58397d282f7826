"""The platform's input and output modes: data from the mode pages, lookup, the apis they give."""

from __future__ import annotations

import json

import attrs
import pytest

from modeltemplates.iomodes import (
    IMAGE_PROCESSING,
    IO_MODES,
    OBJECT_DETECTION,
    PREDICTIVE_ANALYTICS,
    UNDEFINED,
    IOMode,
    UnknownIOModeError,
    get_io_mode,
)
from tests.conftest import REFERENCE

MODES_DIR = REFERENCE / "model_templates/input_and_output_modes"


def test_four_modes_in_the_platform_order() -> None:
    assert [m.id for m in IO_MODES] == ["object_detection", "image_processing", "predictive_analytics", "undefined"]
    assert len({m.title for m in IO_MODES}) == 4


@pytest.mark.parametrize("mode", IO_MODES, ids=lambda m: m.id)
def test_every_mode_serves_post_at_root(mode: IOMode) -> None:
    assert mode.url == "/"
    assert mode.method == "post"
    assert mode.protocol in ("http", "https")


def test_request_facts_from_the_pages() -> None:
    assert (OBJECT_DETECTION.content_type, OBJECT_DETECTION.input_key, OBJECT_DETECTION.input_type) == (
        "multipart/form-data",
        "images",
        "file",
    )
    assert (IMAGE_PROCESSING.content_type, IMAGE_PROCESSING.input_key) == ("multipart/form-data", "images")
    assert IMAGE_PROCESSING.protocol == "https"  # the only page naming HTTPS
    assert PREDICTIVE_ANALYTICS.content_type == "application/json"
    assert UNDEFINED.content_type is None
    assert UNDEFINED.request_schema is None and UNDEFINED.response_schema is None


def test_only_undefined_mode_forbids_batch_services() -> None:
    assert [m.id for m in IO_MODES if not m.batch] == ["undefined"]


def test_schemas_come_from_the_pages() -> None:
    """The predictive analytics page's two schema blocks, verbatim."""
    text = (MODES_DIR / "built-in_predictive_analytics_mode.rst").read_text("utf-8")
    blocks = [json.loads(b) for b in _code_blocks(text)]
    assert blocks == [PREDICTIVE_ANALYTICS.request_schema, PREDICTIVE_ANALYTICS.response_schema]


def test_object_detection_schema_follows_the_field_table() -> None:
    """The page's schema block says detection_scores are strings; its table and the config spec say numbers."""
    page = json.loads(_code_blocks((MODES_DIR / "built-in_object_detection_mode.rst").read_text("utf-8"))[0])
    ours = OBJECT_DETECTION.response_schema
    assert ours is not None
    assert page["properties"]["detection_scores"]["items"] == {"type": "string"}
    assert ours["properties"]["detection_scores"]["items"] == {"type": "number"}
    assert ours["properties"]["detection_boxes"] == page["properties"]["detection_boxes"]
    assert ours["properties"]["detection_classes"] == page["properties"]["detection_classes"]


def test_schemas_are_fresh_copies_and_modes_are_frozen() -> None:
    schema = OBJECT_DETECTION.request_schema
    assert schema is not None
    schema["properties"].clear()
    assert OBJECT_DETECTION.request_schema == {"type": "object", "properties": {"images": {"type": "file"}}}
    apis = OBJECT_DETECTION.apis()
    apis[0]["url"] = "/changed"
    assert OBJECT_DETECTION.apis()[0]["url"] == "/"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        OBJECT_DETECTION.url = "/x"  # type: ignore[misc]
    assert hash(OBJECT_DETECTION) == hash(get_io_mode("object_detection"))


@pytest.mark.parametrize("mode", [m for m in IO_MODES if m is not UNDEFINED], ids=lambda m: m.id)
def test_apis_entry_of_built_in_modes(mode: IOMode) -> None:
    (api,) = mode.apis()
    assert set(api) == {"protocol", "url", "method", "request", "response"}
    assert api["request"] == {"Content-type": mode.content_type, "data": mode.request_schema}
    assert api["response"]["Content-type"] == "application/json"
    assert api["response"]["data"] == mode.response_schema


def test_undefined_mode_declares_no_api() -> None:
    assert UNDEFINED.apis() == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("object_detection", OBJECT_DETECTION),
        ("Built-in Object Detection Mode", OBJECT_DETECTION),
        ("built-in object detection", OBJECT_DETECTION),
        ("OBJECT-DETECTION", OBJECT_DETECTION),
        ("  Built-in   Image Processing Mode ", IMAGE_PROCESSING),
        ("predictive_analytics", PREDICTIVE_ANALYTICS),
        ("Built-in Predictive Analytics Mode", PREDICTIVE_ANALYTICS),
        ("Undefined Mode", UNDEFINED),
        ("undefined", UNDEFINED),
    ],
)
def test_lookup_by_id_or_title_in_any_case(name: str, expected: IOMode) -> None:
    assert get_io_mode(name) is expected


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownIOModeError, match="did you mean 'object_detection'"):
        get_io_mode("object_detect")
    with pytest.raises(ValueError, match=r"'zzz'\. Known modes: object_detection, image_processing"):
        get_io_mode("zzz")


def _code_blocks(text: str) -> list[str]:
    """The bodies of ``.. code-block::`` directives of an .rst page."""
    blocks, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == ".. code-block::":
            body = []
            for follow in lines[i + 1 :]:
                if follow.strip() and not follow[0].isspace():
                    break
                body.append(follow)
            blocks.append("\n".join(body))
    return blocks
