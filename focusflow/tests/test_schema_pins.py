"""`focusflow.api.schema` reaches the schema through drf-spectacular's public extension points
(settings, extensions, postprocessing hooks) except in the private methods below, which have no
public counterpart in 0.30: the error bodies every operation shares are merged per status
(`_get_response_bodies`, calling `_get_response_for_code`), and `DELETE /api/users/me/` documents
its request body (`_get_request_body` skips bodies on DELETE). An upgrade must fail here first,
loudly, so that someone re-reads those overrides against the new version before shipping it."""

import inspect

import drf_spectacular
from drf_spectacular import openapi

PINNED_VERSION = "0.30.0"
PRIVATE_METHODS = {
    "_get_response_bodies": (
        "(self, direction: Literal['request', 'response'] = 'response') -> Dict[str, Any]"
    ),
    "_get_request_body": "(self, direction='request')",
    "_get_response_for_code": "(self, serializer, status_code, media_types=None, direction='response')",
}


def test_drf_spectacular_is_the_version_the_private_overrides_were_written_for():
    assert drf_spectacular.__version__ == PINNED_VERSION, (
        f"drf-spectacular {drf_spectacular.__version__}: re-read the private overrides in "
        "focusflow/api/schema.py against it, then update this pin"
    )


def test_the_private_methods_overridden_or_called_keep_their_signatures():
    for name, signature in PRIVATE_METHODS.items():
        method = getattr(openapi.AutoSchema, name, None)
        assert method is not None, f"drf-spectacular no longer has AutoSchema.{name}"
        assert str(inspect.signature(method)) == signature, name
