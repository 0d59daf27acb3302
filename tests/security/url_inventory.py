"""Every URL pattern of the project, for tests that must cover each one (headers, access matrix).

A test that walks this list fails on a new URL until it is given a row, which is the point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    path: str  # "/pharmacy/audit/", or with <int:prescription_id> placeholders
    name: str  # "audit:list"; "" when the pattern has no name
    has_parameters: bool

    def fill(self, **values: object) -> str:
        """The concrete path with each <converter:name> replaced by values[name]."""
        return _CONVERTER.sub(lambda match: str(values[match.group("name")]), self.path)


def _walk(patterns: list, prefix: str, namespace: str) -> list[Route]:
    routes: list[Route] = []
    for pattern in patterns:
        text = str(pattern.pattern)
        if isinstance(pattern.pattern, RegexPattern):
            text = text.lstrip("^").rstrip("$")
            text = text.removesuffix("?") if text.endswith("/?") else text  # an optional slash: ask with one
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else (
                pattern.namespace or namespace)  # fmt: skip
            routes.extend(_walk(pattern.url_patterns, prefix + text, inner))
        elif isinstance(pattern, URLPattern):
            full = prefix + text
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or "")
            # A regex group is a parameter too (simple_history's admin views use them).
            routes.append(
                Route(path="/" + full, name=name, has_parameters=bool(_CONVERTER.search(full)) or "(" in full)
            )
    return routes


def all_routes(*, include_admin: bool = False) -> list[Route]:
    routes = _walk(get_resolver().url_patterns, "", "")
    if not include_admin:
        routes = [route for route in routes if not route.path.startswith("/admin/")]
    return routes


def parameterless_routes(*, include_admin: bool = False) -> list[Route]:
    return [route for route in all_routes(include_admin=include_admin) if not route.has_parameters]
