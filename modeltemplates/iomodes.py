"""The platform's input and output modes: the inference API a template stands for.

An input and output mode is what the platform calls "an abstract of the API in config.json": the
request a deployed model accepts and the response it returns. There are four
(reference: model_templates/input_and_output_modes/, pages modelarts_23_0099 to modelarts_23_0103).
Each :class:`IOMode` carries the request and response body schemas of its page and gives the
``apis`` entry of ``config.json`` with :meth:`IOMode.apis`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from modeltemplates.errors import ModelTemplatesError

__all__ = [
    "IMAGE_PROCESSING",
    "IO_MODES",
    "OBJECT_DETECTION",
    "PREDICTIVE_ANALYTICS",
    "UNDEFINED",
    "IOMode",
    "UnknownIOModeError",
    "get_io_mode",
]


def _schema_text(schema: dict[str, Any] | None) -> str | None:
    return None if schema is None else json.dumps(schema, sort_keys=True)


@attrs.frozen
class IOMode:
    """One input and output mode of the platform.

    ``request_schema`` and ``response_schema`` are JSON Schemas of the bodies in the dialect the
    platform's ``config.json`` uses (``"type": "file"`` marks an uploaded file); each access returns
    a fresh copy. ``content_type`` is ``None`` when the mode does not fix one (undefined mode).
    """

    id: str
    title: str
    description: str
    source: str
    protocol: str
    method: str
    url: str
    content_type: str | None
    input_key: str | None
    input_type: str | None
    response_content_type: str | None
    batch: bool
    model_algorithm: str
    _request_json: str | None = attrs.field(converter=_schema_text, default=None)
    _response_json: str | None = attrs.field(converter=_schema_text, default=None)

    @property
    def request_schema(self) -> dict[str, Any] | None:
        """JSON Schema of the request body, or ``None`` when the mode leaves it to the model."""
        return None if self._request_json is None else json.loads(self._request_json)

    @property
    def response_schema(self) -> dict[str, Any] | None:
        """JSON Schema of the response body, or ``None`` when the mode leaves it to the model."""
        return None if self._response_json is None else json.loads(self._response_json)

    def apis(self) -> list[dict[str, Any]]:
        """The ``apis`` value of ``config.json`` for this mode (a fresh list each call).

        The undefined mode gives an empty list: its page says input and output are "No limit", so
        any request schema would be a limit the mode does not set, and an entry holding only
        ``url``/``method``/``protocol`` would restate the defaults of the spec's api table
        (``/``, POST). ``config.json`` then simply has no ``apis`` key, which the spec allows.
        """
        if self.content_type is None:
            return []
        request: dict[str, Any] = {"Content-type": self.content_type}
        if self.request_schema is not None:
            request["data"] = self.request_schema
        response: dict[str, Any] = {"Content-type": self.response_content_type or "application/json"}
        if self.response_schema is not None:
            response["data"] = self.response_schema
        return [
            {
                "protocol": self.protocol,
                "url": self.url,
                "method": self.method,
                "request": request,
                "response": response,
            }
        ]

    def __str__(self) -> str:
        return self.title


# --- The four modes, from the platform's pages -------------------------------------------------

_IMAGE_UPLOAD = {"type": "object", "properties": {"images": {"type": "file"}}}

#: modelarts_23_0100. The page's schema block gives detection_scores items as "string", but its own
#: field table says "Float array" and the object detection example of the config.json spec
#: (modelarts_23_0092) says "number"; two sources against one, so "number" here.
OBJECT_DETECTION = IOMode(
    id="object_detection",
    title="Built-in Object Detection Mode",
    description=(
        "Models identified as object detection models: an image uploaded as the form field "
        "'images' goes in, detected classes, boxes and scores come out as JSON."
    ),
    source="modelarts_23_0100",
    protocol="http",
    method="post",
    url="/",
    content_type="multipart/form-data",
    input_key="images",
    input_type="file",
    response_content_type="application/json",
    batch=True,
    model_algorithm="object_detection",
    request_json=_IMAGE_UPLOAD,
    response_json={
        "type": "object",
        "properties": {
            "detection_classes": {"type": "array", "items": {"type": "string"}},
            "detection_boxes": {
                "type": "array",
                "items": {
                    "type": "array",
                    "minItems": 4,
                    "maxItems": 4,
                    "items": {"type": "number"},
                },
            },
            "detection_scores": {"type": "array", "items": {"type": "number"}},
        },
    },
)

#: modelarts_23_0101. The page names HTTPS as this mode's protocol (the others say HTTP) and leaves
#: the fields of the JSON result to the model.
IMAGE_PROCESSING = IOMode(
    id="image_processing",
    title="Built-in Image Processing Mode",
    description=(
        "Image models such as classification, detection or segmentation: an image uploaded as the "
        "form field 'images' goes in, a JSON result whose fields the model decides comes out."
    ),
    source="modelarts_23_0101",
    protocol="https",
    method="post",
    url="/",
    content_type="multipart/form-data",
    input_key="images",
    input_type="file",
    response_content_type="application/json",
    batch=True,
    model_algorithm="image_classification",
    request_json=_IMAGE_UPLOAD,
    response_json={"type": "object"},
)

#: modelarts_23_0102: both schemas verbatim from the page.
PREDICTIVE_ANALYTICS = IOMode(
    id="predictive_analytics",
    title="Built-in Predictive Analytics Mode",
    description=(
        "Models identified as predictive analytics models: a JSON body whose data.req_data lists "
        "the records goes in, JSON whose data.resp_data lists one result per record comes out."
    ),
    source="modelarts_23_0102",
    protocol="http",
    method="post",
    url="/",
    content_type="application/json",
    input_key="data",
    input_type="object",
    response_content_type="application/json",
    batch=True,
    model_algorithm="predict_analysis",
    request_json={
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "req_data": {"items": [{"type": "object", "properties": {}}], "type": "array"}
                },
            }
        },
    },
    response_json={
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "resp_data": {"type": "array", "items": [{"type": "object", "properties": {}}]}
                },
            }
        },
    },
)

#: modelarts_23_0103: no limit on input or output, and no batch services.
UNDEFINED = IOMode(
    id="undefined",
    title="Undefined Mode",
    description=(
        "The model decides its own input and output. Such models cannot be deployed as batch "
        "services and the console's prediction page may not display properly."
    ),
    source="modelarts_23_0103",
    protocol="http",
    method="post",
    url="/",
    content_type=None,
    input_key=None,
    input_type=None,
    response_content_type=None,
    batch=False,
    model_algorithm="undefined",
)

#: Every mode, in the order of the platform's index page.
IO_MODES: tuple[IOMode, ...] = (OBJECT_DETECTION, IMAGE_PROCESSING, PREDICTIVE_ANALYTICS, UNDEFINED)


class UnknownIOModeError(ModelTemplatesError, ValueError):
    """Raised by :func:`get_io_mode` for a name that is no mode; the message names the closest."""


def _normalize(name: str) -> str:
    words = re.sub(r"[\s_\-]+", " ", name.casefold()).strip()
    return words.removesuffix(" mode")


def _names(mode: IOMode) -> tuple[str, ...]:
    return (mode.id, mode.title)


def get_io_mode(name: str) -> IOMode:
    """The mode called ``name``: its id or the platform's title, in any case.

    ``"object_detection"``, ``"Built-in Object Detection Mode"`` and ``"built-in object detection"``
    all name the same mode.
    """
    wanted = _normalize(name)
    for mode in IO_MODES:
        if wanted in {_normalize(n) for n in _names(mode)}:
            return mode
    known = [n for mode in IO_MODES for n in _names(mode)]
    import difflib

    close = difflib.get_close_matches(name.casefold(), [n.casefold() for n in known], n=2, cutoff=0.5)
    by_folded = {n.casefold(): n for n in known}
    message = f"unknown input and output mode {name!r}"
    if close:
        message += "; did you mean " + " or ".join(repr(by_folded[c]) for c in close) + "?"
    else:
        message += "."
    message += " Known modes: " + ", ".join(mode.id for mode in IO_MODES) + "."
    raise UnknownIOModeError(message)
