"""Each request has an id: the caller's well-formed X-Request-ID or a new one, named in the answer and
on every line written for it; a task it queues carries it."""

from __future__ import annotations

import logging
import re

import pytest

from intake.logging import current_request_id, request_id_accept

pytestmark = pytest.mark.urls("tests.logs.urls")


def test_a_request_without_an_id_gets_a_new_one_named_in_the_answer_and_its_lines(client, written):
    response = client.get("/test-logs/line/")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = written.json("tests.logs.views")
    assert line["request_id"] == request_id
    assert line["message"] == "queue read by user None"
    [plain] = written.plain("tests.logs.views")
    assert f" {request_id} queue read by user None" in plain


def test_two_requests_get_two_ids(client):
    assert client.get("/test-logs/line/")["X-Request-ID"] != client.get("/test-logs/line/")["X-Request-ID"]


def test_a_proxys_well_formed_id_is_kept(client, written):
    response = client.get("/test-logs/line/", headers={"X-Request-ID": "lb-7f3a9c21-0b4e.5"})

    assert response["X-Request-ID"] == "lb-7f3a9c21-0b4e.5"
    assert [line["request_id"] for line in written.json("tests.logs.views")] == ["lb-7f3a9c21-0b4e.5"]


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 129, "abc def ghi jkl", "abcdefgh\nforged line", "abcdefgh<script>", "ada@example.com-0001"],
)
def test_an_ill_formed_id_is_replaced(client, written, incoming):
    response = client.get("/test-logs/line/", headers={"X-Request-ID": incoming})

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert [line["request_id"] for line in written.json("tests.logs.views")] == [response["X-Request-ID"]]


def test_the_id_is_gone_after_the_request(client, written):
    client.get("/test-logs/line/")

    assert current_request_id.get() is None
    logging.getLogger("tests.logs.views").warning("after the request")
    assert written.json("tests.logs.views")[-1]["request_id"] is None
    assert " - after the request" in written.plain("tests.logs.views")[-1]


def test_an_accepted_id_is_bounded_and_plain():
    assert request_id_accept("a" * 128) == "a" * 128
    assert request_id_accept("a" * 129) != "a" * 129
    assert request_id_accept(None) != request_id_accept(None)
