"""``local/<folder>``: registers alignprobe's reproducible local provider with Inspect.

The implementation (torch, transformers) is imported when the provider is first used, so
the ``inspect_ai`` entry point works without them installed. See :mod:`.local`.
"""

from __future__ import annotations

from inspect_ai.model import ModelAPI, modelapi


@modelapi(name="local")
def local_provider() -> type[ModelAPI]:
    from alignprobe.providers.local import LocalHuggingFaceAPI

    return LocalHuggingFaceAPI
