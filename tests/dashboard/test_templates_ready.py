"""Every page template is compiled before the first page is served, off the event loop
(dashboard/web.py ``templates_ready``), so that no page compiles one while API requests
wait on the same loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from launchgate.dashboard import web


async def test_every_template_is_compiled_in_a_thread_before_the_first_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = web.templates().env
    assert env.cache is not None  # jinja2's template cache: on unless configured off
    env.cache.clear()
    monkeypatch.setattr(web, "_templates_compiled", False)
    compiled_in: set[str] = set()
    real = env.compile

    def watched(*args: Any, **kwargs: Any) -> Any:
        compiled_in.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(env, "compile", watched)
    await web.templates_ready()
    assert compiled_in and "MainThread" not in compiled_in

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a template compiled after templates_ready")

    monkeypatch.setattr(env, "compile", refuse)
    names = env.list_templates()
    assert "error.html" in names and "sign_in.html" in names
    for name in names:
        env.get_template(name)
    await web.templates_ready()  # ready: nothing more to do


async def test_a_template_that_does_not_compile_does_not_keep_the_others_from_being_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = web.templates().env
    monkeypatch.setattr(web, "_templates_compiled", False)
    real = env.get_template
    tried: list[str] = []

    def broken_sign_in(name: str, *args: Any, **kwargs: Any) -> Any:
        tried.append(name)
        if name == "sign_in.html":
            raise SyntaxError("a broken template")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(env, "get_template", broken_sign_in)
    await web.templates_ready()  # does not raise: sign_in.html fails where it is rendered
    assert web._templates_compiled
    assert set(tried) == set(env.list_templates())
