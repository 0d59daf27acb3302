"""WhiteNoise's compressed manifest storage, giving each static file's URL from memory.

Every page's layout links half a dozen static files, and the manifest storage works each URL out
again on every render (the hashed name, quoting, joining): more than a tenth of the layout's time.
The manifest does not change while a process runs, so each name is worked out once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool, bool], str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        key = (name or "", force, settings.DEBUG)  # DEBUG: unhashed names (HashedFilesMixin.url)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = super().url(name, force)
        return found
